"""What the platform's day-2 operations need from the emulator that moto 5.2.5 lacks or fakes.

The emulator runs no SageMaker job and no model container of its own. What it adds is the API
behaviour that the operator CLI (``mlp``) relies on, each piece named with the gap it fills, and
control endpoints (under ``/_rehearsal/``, like moto's own ``/moto-api/``) through which a test or
the rehearsal supplies what only real jobs and instances would produce.

SageMaker Pipelines
- moto has no ListPipelineExecutionSteps, marks every execution Succeeded the moment it starts and
  never reports a failure reason. Here an execution follows its pipeline's definition: its steps
  are the definition's steps (names, display names, descriptions) along the branches its Condition
  steps take. A condition on pipeline parameters is evaluated with the execution's parameters; one
  on a step's output (an evaluation report, say), which no job produced, takes the branch that
  leads to the execution's last step if that is known, else its if-branch.
- A job step's request is checked as SageMaker checks its Create*Job call: a VolumeKmsKeyId with an
  instance type that has local NVMe storage fails the step, and the execution, with SageMaker's
  ValidationException, as the step's failure reason (``job_request_error``); so does a processing
  step's request that breaks botocore's CreateProcessingJob shape (member names, required members,
  types, enums, lengths, ranges, patterns), resolved with the execution's parameters; a parameter
  value outside the parameter's EnumValues is refused when the execution starts.
- How an execution ends is not something the emulator can know, so by default it ends as moto ends
  every execution: Succeeded, at once. ``POST /_rehearsal/sagemaker/pipeline-outcomes`` queues the
  outcome of a pipeline's next execution instead: its final status (Succeeded, Failed or Stopped),
  the step it fails or stops at, the failure reason, and how long each step takes, so that a
  follower sees steps start and end one after another. Steps run in definition order, one at a
  time; a Fail step on the path fails the execution with its error message.
SageMaker Runtime
- moto answers InvokeEndpoint with static data, for any endpoint name and in any endpoint status.
  Here an invocation is forwarded to a real model server (the platform's ``serve``) that
  ``POST /_rehearsal/sagemaker/model-servers`` registered for the model the endpoint serves: the
  model package ARN or model data URL of the primary container of its (first) variant's model, so
  an endpoint answers with the model its current config names. ContentType and Accept are passed
  on; the server's answer comes back as the model's, its errors as SageMaker's ModelError. An
  unknown endpoint, one that cannot take requests, or one whose model has no registered server is
  refused with a message that says which.
- moto's endpoints are InService from the moment they are created; a real one is Creating for
  minutes and may later be Updating, OutOfService or Failed. ``POST /_rehearsal/sagemaker/endpoint-status``
  sets the status that DescribeEndpoint reports and InvokeEndpoint honours.
"""

from __future__ import annotations

import datetime
import http.client
import json
import operator
import threading
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import get_pipeline_execution_from_arn, get_pipeline_from_name
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from platform_contract.api_shapes import request_problems
from platform_contract.instance_types import InstanceType
from rehearsal.aws import ENDPOINT_STATUS_PATH, MODEL_SERVERS_PATH, MONITORING_EXECUTIONS_PATH, PIPELINE_OUTCOMES_PATH
from rehearsal.emulator import monitoring

FINAL_STATUSES = ("Succeeded", "Failed", "Stopped")
ENDPOINT_STATUSES = frozenset(
    {
        "OutOfService",
        "Creating",
        "Updating",
        "SystemUpdating",
        "RollingBack",
        "InService",
        "Deleting",
        "Failed",
        "UpdateRollbackFailed",
    }
)
SERVING_STATUSES = frozenset({"InService", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed"})
"""Statuses in which SageMaker routes requests: an update or rollback keeps the old fleet serving."""
MODEL_SERVER_TIMEOUT_SECONDS = 60
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})

_lock = threading.Lock()


def apply() -> None:
    _add_pipeline_execution_steps()
    _forward_invocations()


class ControlError(Exception):
    """A control request the emulator cannot carry out; answered with ``status`` and the message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def required(request: dict[str, Any], *names: str) -> list[Any]:
    missing = [name for name in names if name not in request]
    if missing:
        raise ControlError(400, f"the request needs {', '.join(missing)}")
    return [request[name] for name in names]


# --- Pipeline executions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How an execution ends; the default is moto's: Succeeded at once."""

    status: str = "Succeeded"
    last_step: str | None = None
    """The step that fails or is stopped; required unless the execution succeeds."""
    failure_reason: str | None = None
    seconds_per_step: float = 0.0


@dataclass(frozen=True)
class PlannedStep:
    name: str
    type: str
    display_name: str | None
    description: str | None
    condition_outcome: bool | None
    """For a Condition step: the branch taken."""
    error_message: str | None
    """For a Fail step: its error message, if the definition states it as text."""
    request_error: str | None = None
    """For a job step: why SageMaker refuses the job it requests, as the step's failure reason."""


@dataclass(frozen=True)
class ExecutionRun:
    """An execution's steps, from its first to its last, and how it ends."""

    steps: tuple[PlannedStep, ...]
    status: str
    failure_reason: str | None
    seconds_per_step: float
    started: datetime.datetime

    def _elapsed_steps(self, now: datetime.datetime) -> float:
        if self.seconds_per_step <= 0:
            return float("inf")
        return (now - self.started).total_seconds() / self.seconds_per_step

    def status_at(self, now: datetime.datetime) -> str:
        return self.status if self._elapsed_steps(now) >= len(self.steps) else "Executing"

    def failure_reason_at(self, now: datetime.datetime) -> str | None:
        return self.failure_reason if self.status_at(now) == "Failed" else None

    def steps_at(self, now: datetime.datetime) -> list[dict[str, Any]]:
        """The steps that have started by ``now``, first to last, as ListPipelineExecutionSteps reports them."""
        elapsed = self._elapsed_steps(now)
        reported = []
        for index, step in enumerate(self.steps):
            if index > elapsed:
                break
            started = self.started + datetime.timedelta(seconds=index * self.seconds_per_step)
            entry: dict[str, Any] = {"StepName": step.name, "StartTime": started, "AttemptCount": 1}
            if step.display_name:
                entry["StepDisplayName"] = step.display_name
            if step.description:
                entry["StepDescription"] = step.description
            if index + 1 > elapsed:
                entry["StepStatus"] = "Executing"
            else:
                entry["EndTime"] = started + datetime.timedelta(seconds=self.seconds_per_step)
                is_last = index == len(self.steps) - 1
                entry["StepStatus"] = self.status if is_last else "Succeeded"
                if is_last and self.status == "Failed" and self.failure_reason:
                    entry["FailureReason"] = self.failure_reason
                # Only what the step itself decides; jobs, models and packages are not created here.
                if step.condition_outcome is not None:
                    entry["Metadata"] = {"Condition": {"Outcome": str(step.condition_outcome)}}
                elif step.type == "Fail":
                    entry["Metadata"] = {"Fail": {"ErrorMessage": self.failure_reason or ""}}
            reported.append(entry)
        return reported


_queued_outcomes: dict[tuple[str, str, str], deque[Outcome]] = {}
_runs: dict[str, ExecutionRun] = {}


def _queue_outcome(request: dict[str, Any], account_id: str) -> dict[str, Any]:
    region, pipeline_name = required(request, "region", "pipelineName")
    outcome = Outcome(
        status=request.get("status", "Succeeded"),
        last_step=request.get("lastStep"),
        failure_reason=request.get("failureReason"),
        seconds_per_step=float(request.get("secondsPerStep", 0)),
    )
    if outcome.status not in FINAL_STATUSES:
        raise ControlError(400, f"status {outcome.status!r}; allowed: {', '.join(FINAL_STATUSES)}")
    if outcome.status != "Succeeded" and not outcome.last_step:
        raise ControlError(400, f"a {outcome.status} outcome needs lastStep, the step it ends at")
    if not 0 <= outcome.seconds_per_step <= 60:
        raise ControlError(400, f"secondsPerStep {outcome.seconds_per_step}; allowed: 0 to 60")
    if pipeline_name not in sagemaker_backends[account_id][region].pipelines:
        raise ControlError(404, f"no pipeline {pipeline_name} in {region}")
    with _lock:
        queue = _queued_outcomes.setdefault((account_id, region, pipeline_name), deque())
        queue.append(outcome)
        return {"queued": len(queue)}


def _typed(value: Any, parameter_type: str) -> Any:
    """A parameter value as its declared type; StartPipelineExecution passes every value as text."""
    if not isinstance(value, str):
        return value
    if parameter_type == "Boolean":
        return value.lower() == "true"
    if parameter_type == "Integer":
        return int(value)
    if parameter_type == "Float":
        return float(value)
    return value


def _parameter_values(definition: dict[str, Any], given: list[dict[str, str]] | None) -> dict[str, Any]:
    declared = {parameter["Name"]: parameter for parameter in definition.get("Parameters", [])}
    values = {name: parameter.get("DefaultValue") for name, parameter in declared.items()}
    for parameter in given or []:
        if parameter["Name"] not in declared:
            raise ValidationError(f"Pipeline parameter {parameter['Name']} is not defined by the pipeline.")
        allowed = declared[parameter["Name"]].get("EnumValues")
        if allowed and parameter["Value"] not in allowed:
            raise ValidationError(
                f"Value {parameter['Value']} of pipeline parameter {parameter['Name']} is not one of its "
                f"EnumValues: {', '.join(allowed)}."
            )
        values[parameter["Name"]] = parameter["Value"]
    return {name: _typed(value, declared[name].get("Type", "String")) for name, value in values.items()}


_UNKNOWN = object()
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "GreaterThan": operator.gt,
    "GreaterThanOrEqualTo": operator.ge,
    "LessThan": operator.lt,
    "LessThanOrEqualTo": operator.le,
}


def _operand(node: Any, parameters: dict[str, Any]) -> Any:
    """A literal or a parameter's value; anything else (a step's property, a JSON lookup) is unknown."""
    if isinstance(node, dict):
        reference = node.get("Get", "") if len(node) == 1 else ""
        name = reference.removeprefix("Parameters.")
        return parameters[name] if reference.startswith("Parameters.") and name in parameters else _UNKNOWN
    return node


def _evaluate(conditions: list[dict[str, Any]], parameters: dict[str, Any]) -> bool | None:
    """Whether every condition holds, or None when one of them depends on what a job would produce."""
    results = []
    for condition in conditions:
        compare = _COMPARISONS.get(condition.get("Type", ""))
        left, right = (_operand(condition.get(side), parameters) for side in ("LeftValue", "RightValue"))
        if compare is None or left is _UNKNOWN or right is _UNKNOWN:
            return None
        results.append(compare(left, right))
    return all(results)


def _step_names(steps: list[dict[str, Any]]) -> Iterator[str]:
    for step in steps:
        yield step["Name"]
        arguments = step.get("Arguments", {})
        if step["Type"] == "Condition":
            yield from _step_names(arguments.get("IfSteps", []))
            yield from _step_names(arguments.get("ElseSteps", []))


def _path(steps: list[dict[str, Any]], parameters: dict[str, Any], last_step: str | None) -> Iterator[PlannedStep]:
    """The steps an execution runs, in definition order, following the branches its conditions take."""
    for step in steps:
        arguments = step.get("Arguments", {})
        outcome = None
        if step["Type"] == "Condition":
            outcome = _evaluate(arguments.get("Conditions", []), parameters)
            if outcome is None:
                outcome = last_step not in set(_step_names(arguments.get("ElseSteps", [])))
        message = arguments.get("ErrorMessage") if step["Type"] == "Fail" else None
        yield PlannedStep(
            name=step["Name"],
            type=step["Type"],
            display_name=step.get("DisplayName"),
            description=step.get("Description"),
            condition_outcome=outcome,
            error_message=message if isinstance(message, str) else None,
            request_error=job_request_error(step, parameters),
        )
        if outcome is not None:
            yield from _path(arguments.get("IfSteps" if outcome else "ElseSteps", []), parameters, last_step)


def plan_execution(definition: dict[str, Any], parameters: dict[str, Any], outcome: Outcome) -> ExecutionRun:
    """The run of an execution with ``parameters`` that ends as ``outcome`` says."""
    path = list(_path(definition.get("Steps", []), parameters, outcome.last_step))
    names = [step.name for step in path]
    status, reason = outcome.status, outcome.failure_reason
    if outcome.last_step is not None:
        if outcome.last_step not in names:
            raise ValidationError(
                f"The queued outcome ends at step {outcome.last_step}, which this execution does not run; "
                f"it runs {', '.join(names)}."
            )
        path = path[: names.index(outcome.last_step) + 1]
    refused = next((step for step in path if step.request_error or step.type == "Fail"), None)
    if refused is not None and refused.request_error:
        # SageMaker refuses the job, so the step fails whatever was queued.
        path = path[: path.index(refused) + 1]
        status, reason = "Failed", refused.request_error
    fail_step = next((step for step in path if step.type == "Fail"), None)
    if fail_step is not None:
        # Reaching a Fail step fails the execution, whatever else was queued.
        path = path[: path.index(fail_step) + 1]
        status = "Failed"
        reason = reason or fail_step.error_message or f"The execution reached the Fail step {fail_step.name}."
    return ExecutionRun(tuple(path), status, reason, outcome.seconds_per_step, utcnow())


# --- Pipeline job steps: what SageMaker's Create*Job refuses (training) -------------------------

_JOB_RESOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Training": ("CreateTrainingJob", ("ResourceConfig",)),
    "Transform": ("CreateTransformJob", ("TransformResources",)),
    "Processing": ("CreateProcessingJob", ("ProcessingResources", "ClusterConfig")),
}
"""A job step's type: the call its execution makes and where that call's instance resources are."""


def job_request_error(step: dict[str, Any], parameters: dict[str, Any]) -> str | None:
    """Why SageMaker refuses the job ``step`` requests, as a pipeline reports it for the step; None if it does not.

    Instance types with local NVMe storage encrypt it in hardware and take no volume key ("You can't request a
    VolumeKmsKeyId when using an instance type with local storage": SageMaker API reference, ResourceConfig,
    TransformResources, ProcessingClusterConfig).
    """
    action, path = _JOB_RESOURCES.get(step["Type"], ("", ()))
    if step["Type"] == "Processing":
        problems = processing_request_problems(step, parameters)
        if problems:
            return _validation_exception(action, "; ".join(problems))
    resources: Any = step.get("Arguments", {})
    for key in path:
        resources = resources.get(key, {})
    if not path or not resources.get("VolumeKmsKeyId"):
        return None
    instance_type = _operand(resources.get("InstanceType"), parameters)
    parsed = InstanceType.parse(instance_type) if isinstance(instance_type, str) else None
    if parsed is None or not parsed.family.local_storage:
        return None
    return _validation_exception(
        action,
        f"Volume KMS key is not supported for instance type {instance_type}: its local instance storage is encrypted "
        "in hardware. You can't request a VolumeKmsKeyId when using an instance type with local storage.",
    )


def _validation_exception(action: str, message: str) -> str:
    """A refused Create*Job call, as a pipeline reports it as the step's failure reason."""
    return (
        f"ClientError: Failed to invoke sagemaker:{action}. Error Details: An error occurred (ValidationException) "
        f"when calling the {action} operation: {message}"
    )


EMULATED_EXECUTION_ID = "emulated0000"
"""The execution ID a request is checked with before the execution exists."""


def _resolved(node: Any, parameters: dict[str, Any]) -> Any:
    """A step's arguments as SageMaker resolves them when it creates the job: parameters by value, the execution
    ID, an earlier step's property (an S3 URI the emulator cannot know) as a URI, functions evaluated."""
    if isinstance(node, list):
        return [_resolved(item, parameters) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Get"}:
        reference = node["Get"]
        if reference.startswith("Parameters."):
            return parameters.get(reference.removeprefix("Parameters."))
        if reference == "Execution.PipelineExecutionId":
            return EMULATED_EXECUTION_ID
        return f"s3://emulated-step-property/{EMULATED_EXECUTION_ID}/"
    if set(node) == {"Std:Join"}:
        join = node["Std:Join"]
        return join["On"].join(str(_resolved(value, parameters)) for value in join["Values"])
    return {key: _resolved(value, parameters) for key, value in node.items()}


def processing_request_problems(step: dict[str, Any], parameters: dict[str, Any]) -> list[str]:
    """Where the CreateProcessingJob request of a processing step breaks botocore's request shape."""
    request = {
        "ProcessingJobName": f"pipelines-{EMULATED_EXECUTION_ID}-{step['Name']}"[:63],
        **_resolved(step.get("Arguments", {}), parameters),
    }
    return request_problems("CreateProcessingJob", request)


def _next_outcome(account_id: str, region_name: str, pipeline_name: str) -> Outcome:
    with _lock:
        queue = _queued_outcomes.get((account_id, region_name, pipeline_name))
        return queue.popleft() if queue else Outcome()


def _add_pipeline_execution_steps() -> None:
    start, describe, list_executions = (
        SageMakerModelBackend.start_pipeline_execution,
        SageMakerModelBackend.describe_pipeline_execution,
        SageMakerModelBackend.list_pipeline_executions,
    )

    def start_pipeline_execution(
        self: SageMakerModelBackend, pipeline_name: str, display_name: str, parameters: Any, *args: Any
    ) -> dict[str, str]:
        pipeline = get_pipeline_from_name(self.pipelines, pipeline_name)
        definition = json.loads(pipeline.pipeline_definition)
        outcome = _next_outcome(self.account_id, self.region_name, pipeline.pipeline_name)
        run = plan_execution(definition, _parameter_values(definition, parameters), outcome)
        started = start(self, pipeline_name, display_name, parameters, *args)
        with _lock:
            _runs[started["PipelineExecutionArn"]] = run
        return started

    def describe_pipeline_execution(self: SageMakerModelBackend, pipeline_execution_arn: str) -> dict[str, Any]:
        described = describe(self, pipeline_execution_arn)
        run, now = _runs.get(pipeline_execution_arn), utcnow()
        if run is not None:
            described["PipelineExecutionStatus"] = run.status_at(now)
            described.pop("FailureReason", None)
            if run.failure_reason_at(now):
                described["FailureReason"] = run.failure_reason_at(now)
        return described

    def list_pipeline_executions(self: SageMakerModelBackend, pipeline_name: str) -> dict[str, Any]:
        listed = list_executions(self, pipeline_name)
        now = utcnow()
        for summary in listed["PipelineExecutionSummaries"]:
            run = _runs.get(summary["PipelineExecutionArn"])
            summary.pop("PipelineExecutionFailureReason", None)  # moto writes "None"
            if run is not None:
                summary["PipelineExecutionStatus"] = run.status_at(now)
                if run.failure_reason_at(now):
                    summary["PipelineExecutionFailureReason"] = run.failure_reason_at(now)
        return listed

    def list_pipeline_execution_steps(self: SageMakerResponse) -> ActionResult:
        arn = self._get_param("PipelineExecutionArn")
        get_pipeline_execution_from_arn(self.sagemaker_backend.pipelines, arn)  # moto's error if unknown
        steps = _runs[arn].steps_at(utcnow())
        if self._get_param("SortOrder", "Descending") == "Descending":
            steps.reverse()
        return ActionResult({"PipelineExecutionSteps": steps})

    # The replacement takes moto's trailing arguments (description, parallelism, token) as *args.
    SageMakerModelBackend.start_pipeline_execution = start_pipeline_execution  # type: ignore[assignment]
    SageMakerModelBackend.describe_pipeline_execution = describe_pipeline_execution
    SageMakerModelBackend.list_pipeline_executions = list_pipeline_executions
    # moto has no ListPipelineExecutionSteps; the emulator adds it.
    SageMakerResponse.list_pipeline_execution_steps = list_pipeline_execution_steps  # type: ignore[attr-defined]


# --- Endpoints and invocations -------------------------------------------------------------------

_model_servers: dict[tuple[str, str, str], str] = {}
"""(account, Region, model package ARN or model data URL) -> base URL of the server that serves it."""


def _register_model_server(request: dict[str, Any], account_id: str) -> dict[str, Any]:
    region, model, server = required(request, "region", "model", "url")
    url = urllib.parse.urlsplit(server)
    if url.scheme != "http" or url.hostname not in LOOPBACK_HOSTS or url.port is None:
        raise ControlError(400, f"url {server!r}; allowed: http://127.0.0.1:<port> (loopback only)")
    with _lock:
        _model_servers[account_id, region, model] = f"http://{url.hostname}:{url.port}"
    return {"model": model, "url": server}


def _set_endpoint_status(request: dict[str, Any], account_id: str) -> dict[str, Any]:
    region, name, status = required(request, "region", "endpointName", "status")
    if status not in ENDPOINT_STATUSES:
        raise ControlError(400, f"status {status!r}; allowed: {', '.join(sorted(ENDPOINT_STATUSES))}")
    endpoint = sagemaker_backends[account_id][region].endpoints.get(name)
    if endpoint is None:
        raise ControlError(404, f"no endpoint {name} in {region}")
    endpoint.endpoint_status = status
    endpoint.last_modified_time = utcnow()
    return {"endpointName": endpoint.endpoint_name, "status": status}


class RuntimeValidationError(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ValidationError", message)


class ModelError(JsonRESTError):
    """What SageMaker answers when the model's container answers with an error."""

    code = 424

    def __init__(self, status: int, message: str) -> None:
        kind = "client" if status < 500 else "server"
        super().__init__("ModelError", f'Received {kind} error ({status}) from primary with message "{message}".')
        self.description = json.dumps(
            {"__type": "ModelError", "message": self.message, "OriginalStatusCode": status, "OriginalMessage": message}
        )


def _served_model(backend: SageMakerModelBackend, endpoint: Any) -> tuple[str, Any]:
    """(variant name, model) of the endpoint's first variant."""
    variant = backend.endpoint_configs[endpoint.endpoint_config_name].production_variants[0]
    return variant["VariantName"], backend._models[variant["ModelName"]]


def forward_invocation(
    response: SageMakerRuntimeResponse, endpoint_name: str, model: Any, variant: str
) -> tuple[int, dict[str, str], bytes]:
    """Forwards the invocation to the server registered for ``model``'s package ARN or model data URL."""
    container = model.primary_container or (model.containers or [{}])[0]
    served = container.get("ModelPackageName") or container.get("ModelDataUrl", "")
    server = _model_servers.get((response.current_account, response.region, served))
    if server is None:
        raise RuntimeValidationError(
            f"The emulator has no model server for {served}, the model of endpoint {endpoint_name}; "
            f"register one with POST {MODEL_SERVERS_PATH}."
        )
    headers = {"Content-Type": response.headers.get("Content-Type", "application/octet-stream")}
    if response.headers.get("Accept"):
        headers["Accept"] = response.headers["Accept"]
    status, content_type, body = _post(server, "/invocations", response.raw_body, headers)
    if status >= 300:
        raise ModelError(status, body.decode(errors="replace"))
    return 200, {"Content-Type": content_type, "x-Amzn-Invoked-Production-Variant": variant}, body


def _forward_invocations() -> None:
    def invoke_endpoint(self: SageMakerRuntimeResponse) -> tuple[int, dict[str, str], bytes]:
        name = urllib.parse.unquote(self.path.split("/")[2])  # /endpoints/<name>/invocations
        backend = sagemaker_backends[self.current_account][self.region]
        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            raise RuntimeValidationError(f"Endpoint {name} of account {self.current_account} not found.")
        if endpoint.endpoint_status not in SERVING_STATUSES:
            raise RuntimeValidationError(
                f"Endpoint {name} of account {self.current_account} is {endpoint.endpoint_status}: "
                "it cannot take requests."
            )
        variant, model = _served_model(backend, endpoint)
        return forward_invocation(self, name, model, variant)

    SageMakerRuntimeResponse.invoke_endpoint = invoke_endpoint


def _post(server: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, bytes]:
    """(status, content type, body) of the model server's answer. http.client: no proxy, loopback only."""
    url = urllib.parse.urlsplit(server)
    if url.hostname is None:
        raise ValueError(f"model server address {server!r} names no host")
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=MODEL_SERVER_TIMEOUT_SECONDS)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", "application/octet-stream"), response.read()
    except OSError as error:
        raise ModelError(503, f"the model server at {server} did not answer: {error}") from None
    finally:
        connection.close()


CONTROL_HANDLERS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    PIPELINE_OUTCOMES_PATH: _queue_outcome,
    MODEL_SERVERS_PATH: _register_model_server,
    ENDPOINT_STATUS_PATH: _set_endpoint_status,
    MONITORING_EXECUTIONS_PATH: monitoring.record_execution,
}
"""Control request handlers by path: each carries out ``POST path`` with a JSON object and returns the answer."""
