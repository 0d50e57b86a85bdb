"""The Region's model registry: one SageMaker model package group, its versions and their approvals."""

from __future__ import annotations

import re

from aws_cdk import RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from platform_contract.problems import Problem, raise_if_any

# CreateModelPackageGroup's ModelPackageGroupName (SageMaker API reference).
_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
_GROUP_NAME_MAX_LENGTH = 63


class ModelRegistry(Construct):
    """A model package group that outlives every deployment of the training plane.

    State, not configuration: it holds every model version a pipeline registered and each approval, so it belongs
    in the Region's stateful stack and is retained when that stack is deleted. It cannot live in the stack of the
    pipeline that fills it: a retained group keeps its name, and CloudFormation can neither create a second group
    of that name (AlreadyExists) nor import the existing one automatically (the type's primary identifier is its
    ARN, a read-only property), so that stack could never be created again.

    :param model_package_group_name: Default: ``<stack name>-models``, lower case (SageMaker spells group names in
        lower case in its ARNs); 1-63 letters, digits and hyphens.
    """

    def __init__(self, scope: Construct, id: str, *, model_package_group_name: str | None = None) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        name = model_package_group_name or f"{stack.stack_name}-models"
        if not Token.is_unresolved(name) and model_package_group_name is None:
            name = name.lower()
        raise_if_any(f"ModelRegistry {self.node.path}", _name_problems(name))
        self.model_package_group_name = name
        self.model_package_group = sagemaker.CfnModelPackageGroup(
            self,
            "ModelPackageGroup",
            model_package_group_name=name,
            model_package_group_description="The Region's models; each version waits for approval",
        )
        self.model_package_group.apply_removal_policy(RemovalPolicy.RETAIN)
        # From the name, not the resource: a reference to it would tie every stack that registers to this one.
        self.model_package_group_arn = stack.format_arn(
            service="sagemaker", resource="model-package-group", resource_name=name.lower()
        )
        self.model_packages_arn = stack.format_arn(
            service="sagemaker", resource="model-package", resource_name=f"{name.lower()}/*"
        )
        """Every version of the group (SageMaker numbers them as they are registered)."""

    def grant_register(self, grantee: iam.IGrantable) -> iam.Grant:
        """Lets ``grantee`` register versions in the group and read them back, as a pipeline's register step does."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "sagemaker:CreateModelPackage",
                "sagemaker:DescribeModelPackage",
                "sagemaker:DescribeModelPackageGroup",
            ],
            resource_arns=[self.model_package_group_arn, self.model_packages_arn],
        )


def _name_problems(name: str) -> list[Problem]:
    if Token.is_unresolved(name):
        return [
            Problem(
                "model_package_group_name",
                "<token>",
                "a name known at synth time",
                "the stack name is a token here; give the name explicitly",
            )
        ]
    if len(name) <= _GROUP_NAME_MAX_LENGTH and _GROUP_NAME.match(name):
        return []
    return [
        Problem(
            "model_package_group_name",
            name,
            f"1-{_GROUP_NAME_MAX_LENGTH} letters, digits and hyphens, starting and ending with a letter or digit",
        )
    ]
