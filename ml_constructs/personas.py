"""The people of a Region as IAM roles: data scientist, approver and operator (``platform_contract.personas``)."""

from __future__ import annotations

import re

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from ml_constructs.compliance import acknowledge_inline_policy
from ml_constructs.data_store import DataStore
from ml_constructs.experiment_tracking import ExperimentTracking
from ml_constructs.model_registry import ModelRegistry
from ml_constructs.wildcard_acknowledgment import acknowledge_wildcard_resources
from platform_contract.names import DataPrefix
from platform_contract.personas import CDK_DEPLOY, Persona

# The CDK bootstrap's roles (default qualifier), which `cdk deploy` assumes for its work.
CDK_BOOTSTRAP_ROLES = "cdk-hnb659fds-*"
_LIST_ACTIONS_WITHOUT_RESOURCES = (
    "sagemaker:ListModelPackages",
    "sagemaker:ListMonitoringExecutions",
    "sagemaker:ListInferenceComponents",
)
"""SageMaker authorizes these on "*" only (Service Authorization Reference, Amazon SageMaker AI: no resource type)."""
_DESCRIPTIONS = {
    Persona.DATA_SCIENTIST: "reads data sets, trains with the pipeline, tracks experiments, reads the registry",
    Persona.APPROVER: "approves or rejects model versions of the Region's registry; reads everything",
    Persona.OPERATOR: "deploys and operates the Region with mlp",
}


def endpoint_name_pattern(serving_stack_name: str) -> str:
    """The names ``ModelEndpoint`` gives endpoints in the stack ``serving_stack_name`` (Names.unique_resource_name:
    the construct path without separators first), as SageMaker spells them in ARNs (lower case)."""
    return re.sub(r"[^A-Za-z0-9]", "", serving_stack_name).lower() + "-*"


class Personas(Construct):
    """One role per ``Persona``, least privilege, assumable by people of the account (through IAM or IAM Identity
    Center) and by SageMaker (a Studio user profile runs its apps with its persona's role).

    - data scientist: reads ``datasets/`` and ``raw/``, writes ``datasets/`` (``mlp upload-data``), starts and
      follows executions of the Region's pipeline, reads the registry, invokes the Region's endpoint, logs and reads
      experiments (with a tracking server). Cannot approve, register or deploy.
    - approver: changes the approval status of the Region's model versions; reads every prefix, the pipeline's
      executions, the endpoint and the experiments.
    - operator: what its ``mlp`` commands call (``platform_contract.personas.MLP_COMMANDS``): stack outputs, uploads,
      executions, the registry (read), the endpoint, alarms, and the CDK bootstrap roles ``cdk deploy`` assumes.

    Every persona reads the Region's stack outputs, through which ``mlp`` finds the Region's resources.

    :param data_store: the Region's bucket and key. Required.
    :param registry: the Region's model registry. Required.
    :param pipeline_name: the Region's training pipeline. Required.
    :param serving_stack_name: the stack the Region's endpoint is in, whether or not it exists yet. Required.
    :param stack_name_prefix: the Region's stacks' names begin with it. Required.
    :param tracking: the Region's MLflow tracking server. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_store: DataStore,
        registry: ModelRegistry,
        pipeline_name: str,
        serving_stack_name: str,
        stack_name_prefix: str,
        tracking: ExperimentTracking | None = None,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        principal = iam.CompositePrincipal(iam.AccountRootPrincipal(), iam.ServicePrincipal("sagemaker.amazonaws.com"))
        self.roles: dict[Persona, iam.Role] = {
            persona: iam.Role(
                self,
                "".join(part.capitalize() for part in persona.value.split("_")),
                assumed_by=principal,
                description=f"{persona.value.replace('_', ' ').capitalize()}: {_DESCRIPTIONS[persona]}",
            )
            for persona in Persona
        }
        pipeline_arn = stack.format_arn(service="sagemaker", resource="pipeline", resource_name=pipeline_name.lower())
        executions = f"{pipeline_arn}/execution/*"
        endpoints = stack.format_arn(
            service="sagemaker", resource="endpoint", resource_name=endpoint_name_pattern(serving_stack_name)
        )
        stacks = stack.format_arn(service="cloudformation", resource="stack", resource_name=f"{stack_name_prefix}-*/*")
        alarms = stack.format_arn(
            service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )

        def allow(persona: Persona, sid: str, actions: list[str], resources: list[str]) -> None:
            self.roles[persona].add_to_principal_policy(
                iam.PolicyStatement(sid=sid, actions=actions, resources=resources)
            )

        for persona in Persona:
            allow(
                persona,
                "ReadTheRegionsStacks",
                ["cloudformation:DescribeStacks", "cloudformation:ListStackResources"],
                [stacks],
            )
            allow(persona, "ListModelVersions", list(_LIST_ACTIONS_WITHOUT_RESOURCES), ["*"])
            allow(
                persona,
                "ReadTheRegistry",
                ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
                [registry.model_package_group_arn, registry.model_packages_arn],
            )
            allow(
                persona,
                "FollowPipelineExecutions",
                [
                    "sagemaker:DescribePipeline",
                    "sagemaker:ListPipelineExecutions",
                    "sagemaker:DescribePipelineExecution",
                    "sagemaker:DescribePipelineDefinitionForExecution",
                    "sagemaker:ListPipelineExecutionSteps",
                ],
                [pipeline_arn, executions],
            )
            # A failed Prepare step's reason (every data-quality violation) is its processing job's.
            allow(
                persona,
                "ReadThePipelinesProcessingJobs",
                ["sagemaker:DescribeProcessingJob"],
                [stack.format_arn(service="sagemaker", resource="processing-job", resource_name="pipelines-*")],
            )
            allow(persona, "SeeTheEndpoint", ["sagemaker:DescribeEndpoint"], [endpoints])
            allow(
                persona,
                "SeeTheEndpointsInferenceComponents",
                ["sagemaker:DescribeInferenceComponent"],
                [stack.format_arn(service="sagemaker", resource="inference-component", resource_name="*")],
            )
            allow(persona, "SeeTheAlarms", ["cloudwatch:DescribeAlarms"], [alarms])

        scientist, approver, operator = (self.roles[persona] for persona in Persona)
        data_store.grant_read(scientist, DataPrefix.DATASETS, DataPrefix.RAW, DataPrefix.EVALUATION)
        data_store.grant_write(scientist, DataPrefix.DATASETS, DataPrefix.RAW, DataPrefix.GROUND_TRUTH)
        allow(Persona.DATA_SCIENTIST, "StartThePipeline", ["sagemaker:StartPipelineExecution"], [pipeline_arn])
        allow(Persona.DATA_SCIENTIST, "InvokeTheEndpoint", ["sagemaker:InvokeEndpoint"], [endpoints])

        data_store.grant_read(approver, *DataPrefix)
        allow(
            Persona.APPROVER,
            "ApproveOrRejectModelVersions",
            ["sagemaker:UpdateModelPackage"],
            [registry.model_packages_arn],
        )

        data_store.grant_read(operator, DataPrefix.EVALUATION)
        data_store.grant_write(operator, DataPrefix.DATASETS, DataPrefix.RAW, DataPrefix.GROUND_TRUTH)
        allow(Persona.OPERATOR, "ReadTheCosts", ["ce:GetCostAndUsage"], ["*"])
        allow(Persona.OPERATOR, "StartThePipeline", ["sagemaker:StartPipelineExecution"], [pipeline_arn])
        allow(Persona.OPERATOR, "InvokeTheEndpoint", ["sagemaker:InvokeEndpoint"], [endpoints])
        allow(
            Persona.OPERATOR,
            "DeployWithTheCdkBootstrapRoles",
            [CDK_DEPLOY],
            [stack.format_arn(service="iam", region="", resource="role", resource_name=CDK_BOOTSTRAP_ROLES)],
        )

        if tracking is not None:
            tracking.grant_log(scientist, data_store)
            tracking.grant_read(scientist, data_store)
            tracking.grant_read(approver, data_store)

        reasons = {
            ":inference-component/*": "The inference component that serves a scale-to-zero endpoint's model; "
            "ModelEndpoint names it after the endpoint, which changes when the endpoint is replaced.",
            "*": "sagemaker:ListModelPackages, ListMonitoringExecutions and ListInferenceComponents, and "
            "ce:GetCostAndUsage, support no "
            "resource-level permissions; mlp lists the Region's group and schedules with them (what it lists is read "
            "with their ARNs) and asks Cost Explorer for the Region's tag only.",
            ":processing-job/pipelines-*": "The processing jobs SageMaker Pipelines starts, which it names "
            "pipelines-<execution>-<step>; mlp reads a failed step's reason.",
            f":model-package/{registry.model_package_group_name.lower()}/*": "The versions of the Region's model "
            "package group only; SageMaker numbers them as they are registered.",
            "/execution/*": "Executions of the Region's pipeline only; SageMaker names them when they start.",
            endpoint_name_pattern(serving_stack_name): "The Region's endpoint only; its name ends with a hash and "
            "the instance type (ModelEndpoint), which change when the endpoint is replaced.",
            f"{stack_name_prefix}-*/*": "The Region's own stacks only; CloudFormation appends a generated ID to "
            "stack ARNs.",
            ":alarm:*": "CloudWatch alarms: mlp lists those in ALARM and keeps the ones that page the Region's "
            "topic; alarm names are generated.",
            f":role/{CDK_BOOTSTRAP_ROLES}": "The CDK bootstrap roles of this account (deploy, publishing, lookup), "
            "which cdk deploy assumes; their own policies limit what they do.",
            **{
                f"/{prefix.value}*": f"Objects under the {prefix.value} prefix of the Region's bucket only."
                for prefix in DataPrefix
            },
        }
        for role in self.roles.values():
            acknowledge_inline_policy(role)
            acknowledge_wildcard_resources(role, reasons)

    def role(self, persona: Persona) -> iam.IRole:
        return self.roles[persona]
