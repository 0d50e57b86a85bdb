"""How the platform's stages and stacks are named: the CDK app and the operator CLI agree through this."""

from platform_contract.names import PLATFORM_TAG_KEY

STAGE_PREFIX = "MlPlatform"


def stage_name(region: str) -> str:
    """The stage of ``region``; ``cdk deploy '<stage>/*'`` deploys exactly that Region."""
    return f"{STAGE_PREFIX}-{region}"


def stack_name(region: str, stack_id: str) -> str:
    """The CloudFormation name of stack ``stack_id`` (Data, Network, Training, Serving) of ``region``."""
    return f"{stage_name(region)}-{stack_id}"


def platform_tag(region: str) -> tuple[str, str]:
    """The cost-allocation tag (key, value) of every resource of ``region``: its costs are those so tagged."""
    return PLATFORM_TAG_KEY, stage_name(region)
