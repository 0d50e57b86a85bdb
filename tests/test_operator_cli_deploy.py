"""How mlp deploys: the gates of make deploy, cdk.json's settings, the Serving stack alone for a promotion, and a
rollout SageMaker rolled back reported as the failure it is."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from operator_cli import commands
from operator_cli.deploy import RolledBack, deploy, refuse_deploy_settings
from operator_cli.errors import OperatorError
from operator_cli.project import CHECKOUT, Project

REGION = "eu-west-1"
PACKAGE = f"arn:aws:sagemaker:{REGION}:123456789012:model-package/mlplatform-{REGION}-training-pipeline-models/9"


class FakeClient:
    """The few SageMaker, CloudWatch and CloudFormation answers a deploy's check reads."""

    def __init__(self, answers: dict) -> None:
        self.answers = answers

    def describe_stacks(self, StackName: str) -> dict:
        outputs = {"EndpointName": "churn-endpoint", "EndpointConfigName": self.answers["named"]}
        return {"Stacks": [{"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}]}

    def describe_endpoint(self, EndpointName: str) -> dict:
        deployment = {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-RollbackServerErrorRate"}]}}
        return {"EndpointConfigName": self.answers["running"], "LastDeploymentConfig": deployment}

    def describe_model_package(self, ModelPackageName: str) -> dict:
        return {"ModelPackageArn": ModelPackageName}  # registered without a data-quality baseline

    def list_inference_components(self, EndpointNameEquals: str) -> dict:
        component = self.answers["component_model"]
        return {"InferenceComponents": [{"InferenceComponentName": "churn-model"}] if component else []}

    def describe_inference_component(self, InferenceComponentName: str) -> dict:
        deployment = {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-RollbackModelLatency"}]}}
        return {
            "InferenceComponentName": InferenceComponentName,
            "Specification": {"ModelName": self.answers["component_model"]},
            "LastDeploymentConfig": deployment,
        }

    def list_stack_resources(self, StackName: str) -> dict:
        model = f"arn:aws:sagemaker:{REGION}:123456789012:model/model-new"
        return {"StackResourceSummaries": [{"ResourceType": "AWS::SageMaker::Model", "PhysicalResourceId": model}]}

    def describe_alarms(self, AlarmNames: list[str]) -> dict:
        state = "ALARM" if self.answers["firing"] else "OK"
        return {
            "MetricAlarms": [{"AlarmName": n, "StateValue": state, "StateReason": "5XX rate 12%"} for n in AlarmNames]
        }


class FakeSession:
    def __init__(self, **answers) -> None:
        self.answers = {"named": "config-new", "running": "config-new", "firing": False, "component_model": None}
        self.answers |= answers

    def client(self, service: str) -> FakeClient:
        return FakeClient(self.answers)


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Project:
    """A fork of the project with a cdk on PATH that records its arguments and writes an empty assembly."""
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "cdk.json").write_text((CHECKOUT / "cdk.json").read_text())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    assembly = tmp_path / "assembly"
    assembly.mkdir()
    stack = {"type": "aws:cloudformation:stack", "environment": f"aws://unknown-account/{REGION}"}
    manifest = {"version": "1", "artifacts": {"Serving": {**stack, "properties": {"templateFile": "Serving.json"}}}}
    (assembly / "manifest.json").write_text(json.dumps(manifest))
    topic = {"Type": "AWS::SNS::Topic", "Properties": {}}
    (assembly / "Serving.json").write_text(json.dumps({"Resources": {"Topic": topic}}))
    cdk = bin_dir / "cdk"
    cdk.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {tmp_path / "cdk-calls"}\n'
        f"[ -f {tmp_path / 'cdk-fails'} ] && exit 3\n"
        f'if [ "$1" = synth ]; then rm -rf "$5" && cp -r {assembly} "$5"; fi\n'
    )
    cdk.chmod(cdk.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return Project(directory)


def _calls(project: Project) -> list[str]:
    return (project.directory.parent / "cdk-calls").read_text().splitlines()


def _served(project: Project) -> str | None:
    entries = json.loads(project.cdk_json.read_text())["context"]["platform"]["regions"]
    return next(entry for entry in entries if entry["region"] == REGION).get("serving", {}).get("model_package_arn")


def test_a_promotion_synthesizes_everything_with_the_gates_then_deploys_the_serving_stack_alone(project):
    out = io.StringIO()
    commands.promote(project, FakeSession(), REGION, PACKAGE, out=out)
    synth, deploy_call = _calls(project)
    assert synth.startswith("synth ** --quiet -o ") and "-c" not in synth.split()
    assert deploy_call.split()[:5] == [
        "deploy",
        "--app",
        str(project.directory / "cdk.out"),
        f"MlPlatform-{REGION}/Serving",
        "--exclusively",
    ]
    assert "scripts.lint_templates" in out.getvalue()
    assert _served(project) == PACKAGE


def test_a_deploy_of_a_region_deploys_its_whole_stage_from_the_gated_assembly(project):
    deploy(project, FakeSession(), REGION, serving_only=False, out=io.StringIO())
    assert _calls(project)[1].split()[3] == f"MlPlatform-{REGION}/*"


@pytest.mark.parametrize("key", ["platform.account", "platform.environment", "platform"])
def test_the_account_and_environment_come_from_cdk_json_only(key):
    with pytest.raises(OperatorError, match=r"set them in cdk\.json"):
        refuse_deploy_settings(["-c", f"{key}=prod", "-c", "platform.regions.eu-west-1.serving.max_capacity=8"])
    refuse_deploy_settings(["-c", "platform.regions.eu-west-1.serving.model_package_arn=null"])


def test_a_rolled_back_promotion_restores_cdk_json_and_names_the_alarm(project):
    before = project.cdk_json.read_text()
    session = FakeSession(named="config-new", running="config-old", firing=True)
    with pytest.raises(RolledBack) as raised:
        commands.promote(project, session, REGION, PACKAGE, out=io.StringIO())
    message = str(raised.value)
    assert "rolled the update of endpoint churn-endpoint back: it runs config-old, not config-new" in message
    assert "churn-RollbackServerErrorRate is in ALARM (5XX rate 12%)" in message
    assert message.endswith("is restored and the Serving stack deployed from it")
    assert project.cdk_json.read_text() == before
    # Deployed again from the restored cdk.json, so that the stack no longer describes the refused model.
    assert [call.split()[0] for call in _calls(project)] == ["synth", "deploy", "synth", "deploy"]


def test_a_failed_deploy_restores_cdk_json(project):
    before = project.cdk_json.read_text()
    (project.directory.parent / "cdk-fails").write_text("")
    with pytest.raises(OperatorError, match=r"synth of MlPlatform-eu-west-1 failed .* is restored"):
        commands.promote(project, FakeSession(), REGION, PACKAGE, out=io.StringIO())
    assert project.cdk_json.read_text() == before


def test_a_region_deploy_that_sagemaker_rolled_back_fails_too(project):
    with pytest.raises(RolledBack, match="it runs config-old, not config-new"):
        deploy(project, FakeSession(running="config-old"), REGION, serving_only=False, out=io.StringIO())


def test_a_rolled_back_inference_component_fails_the_deploy_naming_its_alarm(project):
    """Scale to zero: the endpoint keeps its config and the component its previous model."""
    session = FakeSession(component_model="model-old", firing=True)
    with pytest.raises(RolledBack) as raised:
        deploy(project, session, REGION, serving_only=True, out=io.StringIO())
    message = str(raised.value)
    assert "endpoint churn-endpoint's inference component churn-model back: it runs model-old, not model-new" in message
    assert "churn-RollbackModelLatency is in ALARM" in message
    deploy(project, FakeSession(component_model="model-new"), REGION, serving_only=True, out=io.StringIO())


def test_make_deploy_is_mlp_deploy():
    """One deploy path: make deploy runs what mlp promote runs, with CDK_ARGS as its context overrides."""
    # Run under `make test`, a nested make would inherit its flags and print the directories it enters.
    environment = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "deploy", "REGION=eu-west-1", "CDK_ARGS=-c a.b=1"],
        cwd=CHECKOUT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines()[-1] == "mlp deploy --region eu-west-1 -c a.b=1"
