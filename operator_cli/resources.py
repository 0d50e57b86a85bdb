"""Finds a Region's deployed resources through its stacks' outputs, never through guessed names."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from botocore.exceptions import ClientError, ProfileNotFound

from operator_cli.errors import OperatorError
from platform_config.naming import stack_name, stage_name
from platform_contract.names import Output, StackId


class StackNotDeployed(OperatorError):
    """A stack of the Region does not exist (yet) in its account."""

    def __init__(self, stack: str, region: str) -> None:
        super().__init__(
            f"stack {stack} is not deployed in {region}; deploy the Region with: cdk deploy '{stage_name(region)}/*'"
        )
        self.stack = stack


def session(region: str) -> boto3.Session:
    """A boto3 session for ``region`` that has credentials, or an OperatorError saying how to get them."""
    try:
        aws = boto3.Session(region_name=region)
        credentials = aws.get_credentials()
    except ProfileNotFound as error:
        raise OperatorError(f"{error}; set AWS_PROFILE to a configured profile") from None
    if credentials is None:
        raise OperatorError(
            "no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login"
        )
    return aws


@dataclass(frozen=True)
class StackOutputs:
    name: str
    outputs: dict[str, str]

    def __getitem__(self, key: str) -> str:
        if key not in self.outputs:
            raise OperatorError(f"stack {self.name} has no output {key}; deploy this version of the platform to it")
        return self.outputs[key]


@dataclass(frozen=True)
class RegionResources:
    """The outputs of one Region's stacks; ``serving`` is None while the Region serves no model."""

    region: str
    data: StackOutputs
    training: StackOutputs
    serving: StackOutputs | None

    @property
    def bucket(self) -> str:
        return self.data[Output.DATA_BUCKET_NAME]

    @property
    def key_arn(self) -> str:
        return self.data[Output.KEY_ARN]

    @property
    def alert_topic_arn(self) -> str:
        return self.data[Output.ALERT_TOPIC_ARN]

    @property
    def pipeline_name(self) -> str:
        return self.training[Output.PIPELINE_NAME]

    @property
    def model_package_group(self) -> str:
        return self.training[Output.MODEL_PACKAGE_GROUP_NAME]

    @property
    def endpoint_name(self) -> str:
        if self.serving is None:
            raise OperatorError(
                f"Region {self.region} has no endpoint: no model is promoted there yet; "
                f"approve one and run mlp promote --region {self.region}"
            )
        return self.serving[Output.ENDPOINT_NAME]


def stack_outputs(aws: boto3.Session, region: str, stack_id: str) -> StackOutputs:
    """The outputs of stack ``stack_id`` (Data, Training, Serving) of ``region``."""
    name = stack_name(region, stack_id)
    try:
        stack = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in str(error):
            raise StackNotDeployed(name, region) from None
        raise OperatorError(f"cannot read stack {name}: {error}") from None
    return StackOutputs(name, {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])})


def find_resources(aws: boto3.Session, region: str) -> RegionResources:
    data, training = stack_outputs(aws, region, StackId.DATA), stack_outputs(aws, region, StackId.TRAINING)
    try:
        serving: StackOutputs | None = stack_outputs(aws, region, StackId.SERVING)
    except StackNotDeployed:
        serving = None  # a Region has no Serving stack until its config names a model
    return RegionResources(region, data, training, serving)
