"""How a Region is deployed, by ``make deploy`` and ``mlp promote`` alike: the same gates, the same settings.

1. ``cdk synth '**'`` in the project directory: every Region with the compliance packs, whose findings fail it.
2. cfn-lint over the synthesized templates (``python -m scripts.lint_templates cdk.out``).
3. ``cdk deploy --app cdk.out`` of exactly the stacks asked for, from those checked templates: a Region's whole
   stage, or its Serving stack alone (``--exclusively``: never Data, Network or Training with it). A whole stage
   deploys with ``--import-existing-resources``, so that retained resources with fixed names that already exist
   (SageMaker's job log groups, in any account that has run a job) are imported instead of failing the deploy, and
   then its Training stack once more with ``--revert-drift``, which gives imported groups the configured retention
   and key (an import takes a resource as it is).
4. Where the Serving stack was deployed: the endpoint must run the endpoint config the stack now names.
   SageMaker rolls a blue/green update back when a rollback alarm trips, and the endpoint is then InService on
   its previous config while CloudFormation reports the update complete; that is a failed deploy here.

Deploy settings live in cdk.json, where every deploy reads them: a ``-c`` for the account or the environment
would deploy a Region as something a later ``mlp promote`` (which passes no ``-c``) would redeploy it as
differently, so it is refused.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

import boto3

from operator_cli.errors import OperatorError
from operator_cli.project import CHECKOUT, Project
from operator_cli.resources import stack_outputs
from platform_config.naming import stage_name
from platform_contract.names import Output, StackId

CLI_ENVIRONMENT = {"CDK_DISABLE_VERSION_CHECK": "true"}
"""What every cdk run of the project sets besides cdk.json: the CLI's version check has no cdk.json setting.
Telemetry, notices and version reporting are off in cdk.json, so that a fork inherits it."""
JSII_PACKAGE_CACHE = CHECKOUT / ".cache" / "jsii-packages"
"""Where a cdk run with a home of its own finds the JavaScript libraries already unpacked (see ``with_home``)."""


def with_home(environment: Mapping[str, str], home: Path) -> dict[str, str]:
    """``environment`` with ``home`` as HOME, so that nothing of the caller's home (~/.aws, ~/.cdk.json, the SDKs'
    config) reaches the run, but with the project's jsii package cache: under a new home jsii unpacks aws-cdk-lib
    and the other libraries again (about 200 MB, 6 s of a synth on 2 cores). The cache holds only the unpacked
    copies of the installed packages, keyed by their content."""
    return {**environment, "HOME": str(home), "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(JSII_PACKAGE_CACHE)}


DEPLOY_SETTINGS = ("platform", "platform.account", "platform.environment")
"""Context keys a deploy must take from cdk.json, never from ``-c``."""
ASSEMBLY = "cdk.out"


class RolledBack(OperatorError):
    """SageMaker rolled the endpoint's update back; the deploy did not take effect."""


def refuse_deploy_settings(context_args: Sequence[str]) -> None:
    """Raises for a ``-c key=value`` among ``context_args`` that sets what cdk.json must hold."""
    keys = [arg.split("=", 1)[0] for flag, arg in itertools.pairwise(context_args) if flag in ("-c", "--context")]
    refused = [key for key in keys if key in DEPLOY_SETTINGS]
    if refused:
        raise OperatorError(
            f"-c {', '.join(refused)}: the account and environment are deploy settings; set them in cdk.json "
            "(context.platform), where make deploy and mlp promote both read them"
        )


def deploy(
    project: Project,
    aws: boto3.Session,
    region: str,
    *,
    serving_only: bool,
    context_args: Sequence[str] = (),
    check_rollout: bool = True,
    out: TextIO,
) -> None:
    """Synthesizes, gates and deploys the Region (or its Serving stack alone), then checks the endpoint's rollout
    unless ``check_rollout`` is false.

    The CDK's output goes straight to the terminal. Raises OperatorError for a failed step, RolledBack when
    SageMaker rolled the endpoint's update back.
    """
    refuse_deploy_settings(context_args)
    cdk = shutil.which("cdk")
    if cdk is None:
        raise OperatorError("cdk is not on PATH; run make setup and export PATH=$PWD/node_modules/.bin:$PATH")
    stage = stage_name(region)
    outdir = project.directory / ASSEMBLY
    deploys = (
        [[f"{stage}/{StackId.SERVING}", "--exclusively"]]
        if serving_only
        else [
            [f"{stage}/*", "--import-existing-resources"],
            [f"{stage}/{StackId.TRAINING}", "--exclusively", "--revert-drift"],
        ]
    )
    steps = [
        ("synth", [cdk, "synth", "**", "--quiet", "-o", str(outdir), *context_args], project.directory),
        ("cfn-lint", [sys.executable, "-m", "scripts.lint_templates", str(outdir)], CHECKOUT),
        *(
            (
                "deploy",
                [cdk, "deploy", "--app", str(outdir), *targets, "--require-approval", "never"],
                project.directory,
            )
            for targets in deploys
        ),
    ]
    environment = {**os.environ, **CLI_ENVIRONMENT}
    for step, command, directory in steps:
        print(f"$ {' '.join(command)}  (in {directory})", file=out, flush=True)
        result = subprocess.run(command, cwd=directory, env=environment, check=False)
        if result.returncode != 0:
            raise OperatorError(f"{step} of {stage} failed (exit {result.returncode}; see its output above)")
    if check_rollout and (serving_only or _has_serving(aws, region)):
        verify_rollout(aws, region)


def _has_serving(aws: boto3.Session, region: str) -> bool:
    try:
        stack_outputs(aws, region, StackId.SERVING)
    except OperatorError:
        return False
    return True


def verify_rollout(aws: boto3.Session, region: str) -> None:
    """Raises RolledBack unless the endpoint runs the endpoint config its stack names, naming the tripped alarms.

    The rollback alarms are the ones the endpoint's last deployment was watched by (DescribeEndpoint's
    LastDeploymentConfig, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html).
    """
    outputs = stack_outputs(aws, region, StackId.SERVING)
    name, expected = outputs[Output.ENDPOINT_NAME], outputs[Output.ENDPOINT_CONFIG_NAME]
    sagemaker = aws.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName=name)
    running = endpoint["EndpointConfigName"]
    deployment = endpoint.get("LastDeploymentConfig", {})
    if running == expected:
        # A model served as an inference component rolls out, and back, in the component, not the endpoint.
        listed = sagemaker.list_inference_components(EndpointNameEquals=name)["InferenceComponents"]
        if not listed:
            return
        component = sagemaker.describe_inference_component(InferenceComponentName=listed[0]["InferenceComponentName"])
        running, expected = component["Specification"].get("ModelName", ""), _stack_model(aws, region)
        if running == expected:
            return
        name, deployment = (
            f"{name}'s inference component {component['InferenceComponentName']}",
            component.get("LastDeploymentConfig", {}),
        )
    watched = [alarm["AlarmName"] for alarm in deployment.get("AutoRollbackConfiguration", {}).get("Alarms", [])]
    described = aws.client("cloudwatch").describe_alarms(AlarmNames=watched)["MetricAlarms"] if watched else []
    firing = [alarm for alarm in described if alarm["StateValue"] == "ALARM"]
    reasons = "; ".join(f"{alarm['AlarmName']} is in ALARM ({alarm.get('StateReason', '')})" for alarm in firing)
    cause = (
        reasons
        or endpoint.get("FailureReason")
        or f"none of its rollback alarms ({', '.join(watched)}) is in ALARM now"
    )
    raise RolledBack(f"SageMaker rolled the update of endpoint {name} back: it runs {running}, not {expected}; {cause}")


def _stack_model(aws: boto3.Session, region: str) -> str:
    """The name of the model the Serving stack deployed last."""
    stack = stack_outputs(aws, region, StackId.SERVING).name
    summaries = aws.client("cloudformation").list_stack_resources(StackName=stack)["StackResourceSummaries"]
    physical = next(s["PhysicalResourceId"] for s in summaries if s["ResourceType"] == "AWS::SageMaker::Model")
    return physical.rsplit("/", 1)[-1]
