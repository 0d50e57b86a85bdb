"""Who works on a Region, and what each ``mlp`` command needs of AWS.

The personas are IAM roles of the Studio stack (``ml_constructs/personas.py``); the table below says which persona
runs which ``mlp`` command and which IAM actions the command calls. The README's persona table is tested against
it, the actions against the calls operator_cli makes, and each persona's policy against the actions of its
commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from platform_contract.names import Output


class Persona(StrEnum):
    DATA_SCIENTIST = "data_scientist"
    """Reads data sets, trains, tracks experiments and reads the registry; cannot approve or deploy."""
    APPROVER = "approver"
    """Approves or rejects the model versions of the Region's registry; reads everything."""
    OPERATOR = "operator"
    """Deploys and runs the Region with ``mlp``; approving is the approver's alone, so that nobody both approves
    and ships a model."""


PERSONA_OUTPUTS = {
    Persona.DATA_SCIENTIST: Output.DATA_SCIENTIST_ROLE_ARN,
    Persona.APPROVER: Output.APPROVER_ROLE_ARN,
    Persona.OPERATOR: Output.OPERATOR_ROLE_ARN,
}
"""The Studio stack's output with each persona's role ARN."""

CDK_DEPLOY = "sts:AssumeRole"
"""``cdk deploy`` works through the bootstrap stack's roles (deploy, file and image publishing, lookup), which the
CLI assumes; their policies, not the operator's, hold the CloudFormation and asset permissions."""

_STACK_OUTPUTS = ("cloudformation:DescribeStacks",)
_FOLLOW = (
    "sagemaker:DescribePipelineDefinitionForExecution",
    "sagemaker:DescribePipelineExecution",
    "sagemaker:ListPipelineExecutionSteps",
)
_ROLLOUT = (
    "sagemaker:DescribeEndpoint",
    "cloudwatch:DescribeAlarms",
    # An endpoint that scales to zero serves its model as an inference component.
    "sagemaker:ListInferenceComponents",
    "sagemaker:DescribeInferenceComponent",
)


@dataclass(frozen=True)
class MlpCommand:
    personas: tuple[Persona, ...]
    """Who runs it."""
    actions: tuple[str, ...]
    """The IAM actions of the AWS calls it makes (``cdk deploy`` as CDK_DEPLOY)."""


MLP_COMMANDS: dict[str, MlpCommand] = {
    "upload-data": MlpCommand(
        (Persona.DATA_SCIENTIST, Persona.OPERATOR),
        (*_STACK_OUTPUTS, "s3:PutObject", "s3:AbortMultipartUpload"),
    ),
    "train": MlpCommand(
        (Persona.DATA_SCIENTIST, Persona.OPERATOR),
        (*_STACK_OUTPUTS, "sagemaker:StartPipelineExecution", *_FOLLOW, "sagemaker:DescribeProcessingJob"),
    ),
    "status": MlpCommand(
        (Persona.DATA_SCIENTIST, Persona.APPROVER, Persona.OPERATOR),
        (
            *_STACK_OUTPUTS,
            "sagemaker:ListPipelineExecutions",
            "sagemaker:ListModelPackages",
            "sagemaker:ListMonitoringExecutions",
            *_ROLLOUT,
        ),
    ),
    "approve": MlpCommand(
        (Persona.APPROVER,), (*_STACK_OUTPUTS, "sagemaker:ListModelPackages", "sagemaker:UpdateModelPackage")
    ),
    "reject": MlpCommand(
        (Persona.APPROVER,), (*_STACK_OUTPUTS, "sagemaker:ListModelPackages", "sagemaker:UpdateModelPackage")
    ),
    "promote": MlpCommand(
        (Persona.OPERATOR,),
        (
            *_STACK_OUTPUTS,
            "sagemaker:ListModelPackages",
            "sagemaker:DescribeModelPackage",
            CDK_DEPLOY,
            *_ROLLOUT,
            "cloudformation:ListStackResources",
        ),
    ),
    "deploy": MlpCommand(
        (Persona.OPERATOR,), (*_STACK_OUTPUTS, CDK_DEPLOY, *_ROLLOUT, "cloudformation:ListStackResources")
    ),
    "invoke": MlpCommand(
        (Persona.DATA_SCIENTIST, Persona.OPERATOR),
        (
            *_STACK_OUTPUTS,
            "sagemaker:DescribeEndpoint",
            "sagemaker:ListInferenceComponents",
            "sagemaker:InvokeEndpoint",
        ),
    ),
    "ground-truth": MlpCommand(
        (Persona.DATA_SCIENTIST, Persona.OPERATOR), (*_STACK_OUTPUTS, "s3:PutObject", "s3:AbortMultipartUpload")
    ),
    "cost": MlpCommand((Persona.OPERATOR,), (*_STACK_OUTPUTS, "ce:GetCostAndUsage")),
}
"""Every ``mlp`` command: who runs it and what it calls."""


def actions_of(persona: Persona) -> frozenset[str]:
    """What ``persona``'s commands call."""
    return frozenset(
        action for command in MLP_COMMANDS.values() if persona in command.personas for action in command.actions
    )
