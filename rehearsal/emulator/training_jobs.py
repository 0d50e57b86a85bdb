"""The training job behind each pipeline Training step, with the times SageMaker bills, in the emulator.

The pipeline stand-in (``operations``) runs no job, so a Training step leaves no training job behind, its entry in
ListPipelineExecutionSteps names none, and nothing reports how long a job trained or what it was billed for. Here,
once a Training step has succeeded, a training job exists as SageMaker would have created it for the step
(``pipelines-<execution id>-<step>``, Completed, the step's instance count and spot setting), the step's
``Metadata.TrainingJob.Arn`` names it, and DescribeTrainingJob reports TrainingTimeInSeconds and
BillableTimeInSeconds. ``POST /_rehearsal/sagemaker/training-times`` queues those times for the training step of a
pipeline's next execution; by default a job trains for as long as its step took. As in SageMaker, only managed spot
training bills less than the training time: an on-demand job's billable time is its training time.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import get_pipeline_execution_from_arn

from rehearsal.aws import TRAINING_TIMES_PATH
from rehearsal.emulator.operations import ControlError, required

_lock = threading.Lock()


@dataclass(frozen=True)
class TrainingTimes:
    training_seconds: int
    billable_seconds: int


_queued: dict[tuple[str, str, str], deque[TrainingTimes]] = {}
_times: dict[str, TrainingTimes] = {}
"""Execution ARN -> the times of its training job."""
_jobs: dict[tuple[str, str], str] = {}
"""(execution ARN, step name) -> the name of the step's training job."""


def queue_training_times(request: dict[str, Any], account_id: str) -> dict[str, Any]:
    region, pipeline, training, billable = required(
        request, "region", "pipelineName", "trainingSeconds", "billableSeconds"
    )
    if not (isinstance(training, int) and isinstance(billable, int) and 0 <= billable <= training):
        raise ControlError(
            400, f"seconds {training}, {billable}: integers with 0 <= billableSeconds <= trainingSeconds"
        )
    if pipeline not in sagemaker_backends[account_id][region].pipelines:
        raise ControlError(404, f"no pipeline {pipeline} in {region}")
    with _lock:
        queue = _queued.setdefault((account_id, region, pipeline), deque())
        queue.append(TrainingTimes(training, billable))
        return {"queued": len(queue)}


def _steps(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step
        for branch in ("IfSteps", "ElseSteps"):
            yield from _steps(step.get("Arguments", {}).get(branch, []))


def _parameter(value: Any, execution: Any, definition: dict[str, Any]) -> Any:
    """A literal, or the execution's value of a ``Parameters.<name>`` reference (else its default)."""
    if not (isinstance(value, dict) and str(value.get("Get", "")).startswith("Parameters.")):
        return value
    name = value["Get"].removeprefix("Parameters.")
    given = {p["Name"]: p["Value"] for p in execution.pipeline_parameters or []}
    declared = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", [])}
    return given.get(name, declared.get(name))


def _create_job(backend: SageMakerModelBackend, arn: str, step: dict[str, Any], seconds: float) -> str:
    execution = get_pipeline_execution_from_arn(backend.pipelines, arn)
    definition = json.loads(backend.pipelines[arn.split("/")[1]].pipeline_definition)
    arguments = step.get("Arguments", {})
    configured = arguments.get("ResourceConfig", {})
    resources = {"InstanceCount": 1} | {key: _parameter(v, execution, definition) for key, v in configured.items()}
    spot = arguments.get("EnableManagedSpotTraining") is True
    times = _times.get(arn, TrainingTimes(int(seconds), int(seconds)))
    name = f"pipelines-{arn.rsplit('/', 1)[1]}-{step['Name']}"[:63].lower()
    output = arguments.get("OutputDataConfig", {}).get("S3OutputPath")
    job = backend.create_training_job(
        training_job_name=name,
        hyper_parameters=arguments.get("HyperParameters", {}),
        algorithm_specification={},
        role_arn=_parameter(arguments.get("RoleArn", ""), execution, definition),
        input_data_config=[],
        output_data_config={"S3OutputPath": output if isinstance(output, str) else "s3://pipeline/models/"},
        resource_config=resources,
        vpc_config={},
        stopping_condition=arguments.get("StoppingCondition", {}),
        tags=arguments.get("Tags", []),
        enable_network_isolation=arguments.get("EnableNetworkIsolation", False),
        enable_inter_container_traffic_encryption=arguments.get("EnableInterContainerTrafficEncryption", False),
        enable_managed_spot_training=spot,
        checkpoint_config={},
        debug_hook_config={},
        debug_rule_configurations=[],
        tensor_board_output_config={},
        experiment_config={},
    )
    # DescribeTrainingJob reports these; SageMaker bills an on-demand job for all of its training time.
    job.training_time_in_seconds = times.training_seconds  # type: ignore[attr-defined]
    job.billable_time_in_seconds = times.billable_seconds if spot else times.training_seconds  # type: ignore[attr-defined]
    return job.arn


def apply() -> None:
    start = SageMakerModelBackend.start_pipeline_execution
    list_steps = SageMakerResponse.list_pipeline_execution_steps  # type: ignore[attr-defined]  # operations adds it

    def start_pipeline_execution(
        self: SageMakerModelBackend, pipeline_name: str, display_name: str, parameters: Any, *args: Any
    ) -> dict[str, str]:
        started = start(self, pipeline_name, display_name, parameters, *args)
        with _lock:
            queue = _queued.get((self.account_id, self.region_name, pipeline_name))
            if queue:
                _times[started["PipelineExecutionArn"]] = queue.popleft()
        return started

    def list_pipeline_execution_steps(self: SageMakerResponse) -> ActionResult:
        listed = list_steps(self)
        arn = self._get_param("PipelineExecutionArn")
        backend = self.sagemaker_backend
        definition = json.loads(backend.pipelines[arn.split("/")[1]].pipeline_definition)
        training = {step["Name"]: step for step in _steps(definition.get("Steps", [])) if step["Type"] == "Training"}
        for entry in listed.result["PipelineExecutionSteps"]:
            step = training.get(entry["StepName"])
            if step is None or entry["StepStatus"] != "Succeeded":
                continue
            with _lock:
                if (arn, step["Name"]) not in _jobs:
                    seconds = (entry["EndTime"] - entry["StartTime"]).total_seconds()
                    _jobs[arn, step["Name"]] = _create_job(backend, arn, step, seconds)
                entry["Metadata"] = {"TrainingJob": {"Arn": _jobs[arn, step["Name"]]}}
        return listed

    # The replacement takes moto's trailing arguments (description, parallelism, token) as *args.
    SageMakerModelBackend.start_pipeline_execution = start_pipeline_execution  # type: ignore[assignment]
    SageMakerResponse.list_pipeline_execution_steps = list_pipeline_execution_steps  # type: ignore[attr-defined]


CONTROLS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {TRAINING_TIMES_PATH: queue_training_times}
