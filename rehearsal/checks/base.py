"""What every check builds on: a deployed stack seen through the emulator's APIs, template values
resolved the way CloudFormation resolves them, and a verifier that collects every failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rehearsal.assembly import StackArtifact
from rehearsal.aws import ACCOUNT, Emulator


class CheckFailed(AssertionError):
    pass


@dataclass
class Verifier:
    """Collects the outcome of every expectation so that one run reports all that is wrong."""

    passed: int = 0
    failures: list[str] = field(default_factory=list)

    def true(self, condition: bool, what: str) -> None:
        if condition:
            self.passed += 1
        else:
            self.failures.append(what)

    def equal(self, actual: Any, expected: Any, what: str) -> None:
        self.true(actual == expected, f"{what}: expected {expected!r}, found {actual!r}")

    def raise_failures(self, scope: str) -> None:
        if self.failures:
            raise CheckFailed(
                f"{scope}: {len(self.failures)} check(s) failed:\n" + "\n".join(f"  - {f}" for f in self.failures)
            )


_NO_VALUE = object()


@dataclass
class DeployedStack:
    """A stack as deployed: its template, its resources and outputs as the CloudFormation API reports them."""

    emulator: Emulator
    region: str
    artifact: StackArtifact

    def client(self, service: str) -> Any:
        return self.emulator.client(service, self.region)

    def monitoring_job_definition(self, monitoring_type: str, name: str) -> dict[str, Any]:
        """DescribeDataQualityJobDefinition or DescribeModelQualityJobDefinition, by ``monitoring_type`` (a schedule's
        MonitoringType: DataQuality or ModelQuality)."""
        sagemaker = self.client("sagemaker")
        describe = {
            "DataQuality": sagemaker.describe_data_quality_job_definition,
            "ModelQuality": sagemaker.describe_model_quality_job_definition,
        }[monitoring_type]
        return describe(JobDefinitionName=name)

    @property
    def name(self) -> str:
        return self.artifact.stack_name

    @property
    def template_resources(self) -> dict[str, dict[str, Any]]:
        return self.artifact.template.get("Resources", {})

    @cached_property
    def description(self) -> dict[str, Any]:
        return self.client("cloudformation").describe_stacks(StackName=self.name)["Stacks"][0]

    @cached_property
    def resources(self) -> dict[str, dict[str, Any]]:
        """ListStackResources by logical ID."""
        pages = self.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=self.name)
        return {summary["LogicalResourceId"]: summary for page in pages for summary in page["StackResourceSummaries"]}

    @cached_property
    def outputs(self) -> dict[str, str]:
        return {output["OutputKey"]: output["OutputValue"] for output in self.description.get("Outputs", [])}

    def physical_id(self, logical_id: str) -> str:
        return self.resources[logical_id]["PhysicalResourceId"]

    def of_type(self, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
        """(logical ID, properties) of the template's resources of ``resource_type`` that were created."""
        return [
            (logical_id, definition.get("Properties", {}))
            for logical_id, definition in self.template_resources.items()
            if definition["Type"] == resource_type and self.condition_holds(definition.get("Condition"))
        ]

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        found = self.of_type(resource_type)
        if len(found) != 1:
            raise CheckFailed(f"{self.name}: expected one {resource_type}, the template has {len(found)}")
        return found[0]

    # Template values, resolved as CloudFormation resolves them for this stack.

    def condition_holds(self, name: str | None) -> bool:
        if name is None:
            return True
        return bool(self._evaluate_condition(self.artifact.template["Conditions"][name]))

    def _evaluate_condition(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((function, argument),) = node.items()
            if function == "Condition":
                return self.condition_holds(argument)
            if function == "Fn::Equals":
                left, right = (self._evaluate_condition(value) for value in argument)
                return str(left) == str(right)
            if function == "Fn::Not":
                return not self._evaluate_condition(argument[0])
            if function == "Fn::And":
                return all(self._evaluate_condition(value) for value in argument)
            if function == "Fn::Or":
                return any(self._evaluate_condition(value) for value in argument)
        return self.resolve(node)

    @cached_property
    def _parameters(self) -> dict[str, str]:
        return {
            p["ParameterKey"]: p.get("ResolvedValue", p["ParameterValue"])
            for p in self.description.get("Parameters", [])
        }

    def resolve(self, node: Any) -> Any:
        """``node`` with every intrinsic function replaced by its value in this deployment."""
        if isinstance(node, list):
            return [value for value in (self.resolve(item) for item in node) if value is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((function, argument),) = node.items()
            resolver = _INTRINSICS.get(function)
            if resolver is not None:
                return resolver(self, argument)
        return {key: value for key, value in ((k, self.resolve(v)) for k, v in node.items()) if value is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.name,
            "AWS::StackId": self.description["StackId"],
            "AWS::NoValue": _NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        return self.physical_id(name)

    def _get_att(self, argument: Any) -> Any:
        logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        resource_type = self.template_resources[logical_id]["Type"]
        getter = ATTRIBUTES.get((resource_type, attribute))
        if getter is None:
            raise CheckFailed(
                f"{self.name}: the rehearsal cannot resolve Fn::GetAtt {resource_type}.{attribute}; "
                "add it to ATTRIBUTES in rehearsal/checks/base.py"
            )
        return getter(self, self.physical_id(logical_id))

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: self.resolve(value) for name, value in variables.items()}
        result, position = [], 0
        while (start := text.find("${", position)) != -1:
            end = text.index("}", start)
            result.append(text[position:start])
            name = text[start + 2 : end]
            if name.startswith("!"):
                result.append("${" + name[1:] + "}")
            elif name in values:
                result.append(str(values[name]))
            elif "." in name:
                result.append(str(self._get_att(name)))
            else:
                result.append(str(self._ref(name)))
            position = end + 1
        return "".join(result) + text[position:]

    def _get_stack_output(self, argument: dict[str, Any]) -> str:
        spec = self.resolve(argument)
        stack = self.emulator.client("cloudformation", spec.get("Region", self.region)).describe_stacks(
            StackName=spec["StackName"]
        )["Stacks"][0]
        return next(o["OutputValue"] for o in stack.get("Outputs", []) if o["OutputKey"] == spec["OutputName"])


_INTRINSICS: dict[str, Callable[[DeployedStack, Any], Any]] = {
    "Ref": lambda stack, name: stack._ref(name),
    "Fn::GetAtt": lambda stack, argument: stack._get_att(argument),
    "Fn::Join": lambda stack, argument: argument[0].join(str(v) for v in stack.resolve(argument[1])),
    "Fn::Sub": lambda stack, argument: stack._sub(argument),
    "Fn::Select": lambda stack, argument: stack.resolve(argument[1])[int(stack.resolve(argument[0]))],
    "Fn::Split": lambda stack, argument: stack.resolve(argument[1]).split(argument[0]),
    "Fn::If": lambda stack, argument: stack.resolve(argument[1] if stack.condition_holds(argument[0]) else argument[2]),
    "Fn::GetStackOutput": lambda stack, argument: stack._get_stack_output(argument),
    "Fn::ToJsonString": lambda stack, argument: json.dumps(stack.resolve(argument)),
}

_ARN = "arn:aws:{service}:{region}:" + ACCOUNT + ":{resource}"


# Fn::GetAtt, answered from the service APIs (never from the emulator's CloudFormation) by physical ID.
def _job_definition_arn(monitoring_type: str) -> Callable[[DeployedStack, str], Any]:
    return lambda s, arn: s.monitoring_job_definition(monitoring_type, arn.rsplit("/", 1)[-1])["JobDefinitionArn"]


ATTRIBUTES: dict[tuple[str, str], Callable[[DeployedStack, str], Any]] = {
    ("AWS::KMS::Key", "Arn"): lambda s, key_id: s.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]["Arn"],
    ("AWS::IAM::Role", "Arn"): lambda s, name: s.client("iam").get_role(RoleName=name)["Role"]["Arn"],
    ("AWS::S3::Bucket", "Arn"): lambda s, name: f"arn:aws:s3:::{name}",
    ("AWS::SNS::Topic", "TopicArn"): lambda s, arn: s.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"][
        "TopicArn"
    ],
    ("AWS::Logs::LogGroup", "Arn"): lambda s, name: _ARN.format(
        service="logs", region=s.region, resource=f"log-group:{name}:*"
    ),
    ("AWS::EC2::SecurityGroup", "GroupId"): lambda s, group_id: group_id,
    ("AWS::SageMaker::Model", "ModelName"): lambda s, arn: arn.rsplit("/", 1)[-1],
    ("AWS::SageMaker::EndpointConfig", "EndpointConfigName"): lambda s, arn: arn.rsplit("/", 1)[-1],
    ("AWS::SageMaker::Endpoint", "EndpointName"): lambda s, arn: arn.rsplit("/", 1)[-1],
    ("AWS::SageMaker::ModelPackageGroup", "ModelPackageGroupArn"): lambda s, arn: arn,
    ("AWS::CloudWatch::Alarm", "Arn"): lambda s, name: _ARN.format(
        service="cloudwatch", region=s.region, resource=f"alarm:{name}"
    ),
    ("AWS::CloudWatch::CompositeAlarm", "Arn"): lambda s, name: _ARN.format(
        service="cloudwatch", region=s.region, resource=f"alarm:{name}"
    ),
    ("AWS::ApplicationAutoScaling::ScalingPolicy", "Arn"): lambda s, arn: arn,
    ("AWS::SageMaker::Domain", "DomainId"): lambda s, domain_id: domain_id,
    ("AWS::Events::Rule", "Arn"): lambda s, name: s.client("events").describe_rule(Name=name)["Arn"],
    # A job definition's physical ID is its ARN, as SageMaker's Create call returns it.
    ("AWS::SageMaker::DataQualityJobDefinition", "JobDefinitionArn"): _job_definition_arn("DataQuality"),
    ("AWS::SageMaker::ModelQualityJobDefinition", "JobDefinitionArn"): _job_definition_arn("ModelQuality"),
}
