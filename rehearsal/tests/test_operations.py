"""Each day-2 addition of the extension, shown through the AWS APIs of the emulator on loopback."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from rehearsal.aws import Emulator, EmulatorRefused
from rehearsal.tests.support import REGION, Stacks

ROLE = "arn:aws:iam::123456789012:role/any"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/model:latest"
REJECTION = "Quality gate: the model's auc on the test set is 0.61, which is below the threshold 0.75"
# The emulator checks a processing step's request as CreateProcessingJob does: this one is complete.
EVALUATION_REQUEST = {
    "RoleArn": ROLE,
    "AppSpecification": {"ImageUri": IMAGE, "ContainerEntrypoint": ["evaluate"]},
    "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}},
}


def _definition() -> str:
    """The platform pipeline's shape, small: a parameter picks a branch, a report decides the gate."""
    gate = {
        "Name": "Gate",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [
                {
                    "Type": "GreaterThanOrEqualTo",
                    "RightValue": {"Get": "Parameters.Threshold"},
                    "LeftValue": {
                        "Std:JsonGet": {
                            "Path": "auc.value",
                            "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"},
                        }
                    },
                }
            ],
            "IfSteps": [{"Name": "Register", "Type": "RegisterModel", "Arguments": {}}],
            "ElseSteps": [
                {
                    "Name": "Reject",
                    "Type": "Fail",
                    "Arguments": {
                        "ErrorMessage": {
                            "Std:Join": {"On": "", "Values": ["Quality gate: ", {"Get": "Parameters.Threshold"}]}
                        }
                    },
                }
            ],
        },
    }
    return json.dumps(
        {
            "Version": "2020-12-01",
            "Parameters": [
                {"Name": "UseSpot", "Type": "Boolean", "DefaultValue": True},
                {"Name": "Threshold", "Type": "Float", "DefaultValue": 0.75},
            ],
            "Steps": [
                {
                    "Name": "ChooseCapacity",
                    "Type": "Condition",
                    "Arguments": {
                        "Conditions": [
                            {"Type": "Equals", "LeftValue": {"Get": "Parameters.UseSpot"}, "RightValue": True}
                        ],
                        "IfSteps": [
                            {"Name": "TrainSpot", "Type": "Training", "DisplayName": "Train on spot", "Arguments": {}},
                            {"Name": "Evaluate", "Type": "Processing", "Arguments": EVALUATION_REQUEST},
                            gate,
                        ],
                        "ElseSteps": [{"Name": "TrainOnDemand", "Type": "Training", "Arguments": {}}],
                    },
                }
            ],
        }
    )


@pytest.fixture
def pipeline(stacks: Stacks) -> str:
    name = stacks.unique_name("pipeline")
    stacks.client("sagemaker").create_pipeline(PipelineName=name, PipelineDefinition=_definition(), RoleArn=ROLE)
    return name


def _steps(sagemaker: Any, execution_arn: str) -> list[tuple[str, str]]:
    listed = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn, SortOrder="Ascending")
    return [(step["StepName"], step["StepStatus"]) for step in listed["PipelineExecutionSteps"]]


def _finished(sagemaker: Any, execution_arn: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        if execution["PipelineExecutionStatus"] != "Executing":
            return execution
        time.sleep(0.1)
    raise AssertionError(f"{execution_arn} still executing after {timeout} s")


# Pipelines


def test_execution_steps_follow_the_definition_along_the_branches_the_parameters_choose(
    stacks: Stacks, pipeline: str
) -> None:
    sagemaker = stacks.client("sagemaker")
    on_spot = sagemaker.start_pipeline_execution(PipelineName=pipeline)["PipelineExecutionArn"]
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=on_spot)["PipelineExecutionStatus"] == "Succeeded"
    assert _steps(sagemaker, on_spot) == [
        ("ChooseCapacity", "Succeeded"),
        ("TrainSpot", "Succeeded"),
        ("Evaluate", "Succeeded"),
        ("Gate", "Succeeded"),
        ("Register", "Succeeded"),
    ]
    newest_first = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=on_spot)["PipelineExecutionSteps"]
    assert [step["StepName"] for step in newest_first][:2] == ["Register", "Gate"]
    chosen = {step["StepName"]: step for step in newest_first}
    assert chosen["ChooseCapacity"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert chosen["TrainSpot"]["StepDisplayName"] == "Train on spot"

    on_demand = sagemaker.start_pipeline_execution(
        PipelineName=pipeline, PipelineParameters=[{"Name": "UseSpot", "Value": "false"}]
    )["PipelineExecutionArn"]
    assert _steps(sagemaker, on_demand) == [("ChooseCapacity", "Succeeded"), ("TrainOnDemand", "Succeeded")]


def test_a_queued_failure_unfolds_step_by_step_and_reports_its_reason(
    emulator: Emulator, stacks: Stacks, pipeline: str
) -> None:
    sagemaker = stacks.client("sagemaker")
    emulator.queue_pipeline_outcome(
        REGION, pipeline, status="Failed", last_step="Reject", failure_reason=REJECTION, seconds_per_step=0.4
    )
    arn = sagemaker.start_pipeline_execution(PipelineName=pipeline)["PipelineExecutionArn"]
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing"
    assert _steps(sagemaker, arn) == [("ChooseCapacity", "Executing")]

    execution = _finished(sagemaker, arn)
    assert (execution["PipelineExecutionStatus"], execution["FailureReason"]) == ("Failed", REJECTION)
    assert _steps(sagemaker, arn) == [
        ("ChooseCapacity", "Succeeded"),
        ("TrainSpot", "Succeeded"),
        ("Evaluate", "Succeeded"),
        ("Gate", "Succeeded"),
        ("Reject", "Failed"),
    ]
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert steps[0]["FailureReason"] == REJECTION
    assert {s["StepName"]: s.get("Metadata") for s in steps}["Gate"] == {"Condition": {"Outcome": "False"}}
    summary = sagemaker.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"][0]
    assert (summary["PipelineExecutionStatus"], summary["PipelineExecutionFailureReason"]) == ("Failed", REJECTION)

    # The queue held one outcome: the next execution ends as moto's do.
    after = sagemaker.start_pipeline_execution(PipelineName=pipeline)["PipelineExecutionArn"]
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=after)["PipelineExecutionStatus"] == "Succeeded"


def test_an_outcome_off_the_executions_path_is_refused(emulator: Emulator, stacks: Stacks, pipeline: str) -> None:
    emulator.queue_pipeline_outcome(REGION, pipeline, status="Stopped", last_step="TrainOnDemand")
    with pytest.raises(ClientError, match="TrainOnDemand, which this execution does not run"):
        stacks.client("sagemaker").start_pipeline_execution(PipelineName=pipeline)
    with pytest.raises(EmulatorRefused, match="needs lastStep"):
        emulator.queue_pipeline_outcome(REGION, pipeline, status="Failed")


# Endpoints


class _EchoModel(BaseHTTPRequestHandler):
    """Answers an invocation with what it received, or 400 for a body of "bad", as a model server would."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = 400 if body == b"bad" else 200
        answer = json.dumps(
            {
                "path": self.path,
                "contentType": self.headers["Content-Type"],
                "accept": self.headers.get("Accept"),
                "body": body.decode(),
            }
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _model_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoModel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def endpoint(stacks: Stacks) -> tuple[str, str]:
    """(endpoint name, the model data URL it serves)."""
    sagemaker, name = stacks.client("sagemaker"), stacks.unique_name("endpoint")
    model_data = f"s3://data/models/{name}/output/model.tar.gz"
    sagemaker.create_model(
        ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE, "ModelDataUrl": model_data}
    )
    variant = {"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return name, model_data


def test_invocations_reach_the_model_server_of_the_endpoints_model(
    emulator: Emulator, stacks: Stacks, endpoint: tuple[str, str]
) -> None:
    runtime, (name, model_data) = stacks.client("sagemaker-runtime"), endpoint
    with pytest.raises(ClientError, match="no model server for " + model_data):
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=b"1,2")
    with _model_server() as url:
        emulator.serve_model(REGION, model_data, url)
        answer = runtime.invoke_endpoint(
            EndpointName=name, ContentType="text/csv", Accept="application/json", Body=b"1,2"
        )
        assert json.loads(answer["Body"].read()) == {
            "path": "/invocations",
            "contentType": "text/csv",
            "accept": "application/json",
            "body": "1,2",
        }
        assert (answer["ContentType"], answer["InvokedProductionVariant"]) == ("application/json", "AllTraffic")

        with pytest.raises(ClientError) as refused:
            runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=b"bad")
        assert refused.value.response["Error"]["Code"] == "ModelError"
        assert refused.value.response["OriginalStatusCode"] == 400
    with pytest.raises(ClientError, match="not found"):
        runtime.invoke_endpoint(EndpointName="no-such-endpoint", ContentType="text/csv", Body=b"1,2")
    with pytest.raises(EmulatorRefused, match="loopback only"):
        emulator.serve_model(REGION, model_data, "http://192.0.2.1:8080")


def test_an_endpoint_status_is_reported_and_honoured(
    emulator: Emulator, stacks: Stacks, endpoint: tuple[str, str]
) -> None:
    sagemaker, runtime, (name, model_data) = stacks.client("sagemaker"), stacks.client("sagemaker-runtime"), endpoint
    with _model_server() as url:
        emulator.serve_model(REGION, model_data, url)
        emulator.set_endpoint_status(REGION, name, "OutOfService")
        assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "OutOfService"
        with pytest.raises(ClientError, match="is OutOfService: it cannot take requests"):
            runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=b"1,2")

        emulator.set_endpoint_status(REGION, name, "Updating")  # a blue/green update keeps the old fleet serving
        assert runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=b"1,2")["Body"].read()
    with pytest.raises(EmulatorRefused, match="allowed: "):
        emulator.set_endpoint_status(REGION, name, "Sleeping")
