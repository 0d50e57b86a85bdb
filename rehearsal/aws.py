"""Clients of the emulator, and nothing else: every one is pinned to its endpoint and certificate."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ACCOUNT = "123456789012"
"""The emulator's default account; the stacks are synthesized for it."""
CREDENTIALS = {"aws_access_key_id": "rehearsal", "aws_secret_access_key": "rehearsal"}
INVENTORY_PATH = "/_rehearsal/inventory"
# Control endpoints of the emulator's extension (rehearsal/emulator/operations.py): what real jobs and instances would
# produce, supplied by the rehearsal and the tests.
PIPELINE_OUTCOMES_PATH = "/_rehearsal/sagemaker/pipeline-outcomes"
MODEL_SERVERS_PATH = "/_rehearsal/sagemaker/model-servers"
ENDPOINT_STATUS_PATH = "/_rehearsal/sagemaker/endpoint-status"
TRAINING_TIMES_PATH = "/_rehearsal/sagemaker/training-times"
COST_RECORDS_PATH = "/_rehearsal/ce/costs"
MONITORING_EXECUTIONS_PATH = "/_rehearsal/sagemaker/monitoring-executions"
# A simulation of Application Auto Scaling for inference components (rehearsal/emulator/inference_component_scaling.py).
INFERENCE_COMPONENT_SCALING_PATH = "/_rehearsal/sagemaker/inference-component-scaling"


class EmulatorRefused(RuntimeError):
    """A control request the emulator refused, with its reason."""


@dataclass(frozen=True)
class Emulator:
    endpoint: str
    """https://localhost:PORT"""
    certificate: Path
    """The emulator's self-signed certificate: the CA bundle of every client."""
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    # One session for every client: it loads each service model and the endpoint rules once, not per client.
    _session: boto3.session.Session = field(
        default_factory=lambda: boto3.session.Session(**CREDENTIALS), init=False, repr=False, compare=False
    )

    def client(self, service: str, region: str) -> Any:
        """One client per service and Region, for the emulator's lifetime."""
        if (service, region) not in self._clients:
            self._clients[service, region] = self._session.client(
                service,
                region_name=region,
                endpoint_url=self.endpoint,
                verify=str(self.certificate),
                config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60),
            )
        return self._clients[service, region]

    def inventory(self) -> dict[str, Any]:
        """The extension's report: the types it registered, each of their resources and whether it is really backed."""
        return self._control(INVENTORY_PATH)

    def queue_pipeline_outcome(
        self,
        region: str,
        pipeline_name: str,
        *,
        status: str,
        last_step: str | None = None,
        failure_reason: str | None = None,
        seconds_per_step: float = 0.0,
    ) -> None:
        """How the pipeline's next execution ends (the emulator runs no job): its status, the step it fails or
        stops at, the reason, and how long each step takes."""
        request = {
            "region": region,
            "pipelineName": pipeline_name,
            "status": status,
            "secondsPerStep": seconds_per_step,
        }
        request |= {"lastStep": last_step} if last_step else {}
        request |= {"failureReason": failure_reason} if failure_reason else {}
        self._control(PIPELINE_OUTCOMES_PATH, request)

    def serve_model(self, region: str, model: str, url: str) -> None:
        """Endpoints whose model is ``model`` (a package ARN or model data URL) forward invocations to ``url``."""
        self._control(MODEL_SERVERS_PATH, {"region": region, "model": model, "url": url})

    def set_endpoint_status(self, region: str, endpoint_name: str, status: str) -> None:
        """Puts the endpoint in a status a real one passes through (the emulator's are InService at once)."""
        self._control(ENDPOINT_STATUS_PATH, {"region": region, "endpointName": endpoint_name, "status": status})

    def queue_training_times(self, region: str, pipeline_name: str, *, training: int, billable: int) -> None:
        """The training job of the pipeline's next execution trains ``training`` seconds and, if it is a spot job,
        is billed for ``billable`` of them (rehearsal/emulator/training_jobs.py)."""
        request = {"region": region, "pipelineName": pipeline_name}
        self._control(TRAINING_TIMES_PATH, request | {"trainingSeconds": training, "billableSeconds": billable})

    def record_costs(self, costs: list[dict[str, Any]]) -> None:
        """Costs Cost Explorer reports: each a day (YYYY-MM-DD), service, amount in USD, region and resource tags
        (rehearsal/emulator/cost_explorer.py)."""
        self._control(COST_RECORDS_PATH, {"costs": costs})

    def record_monitoring_execution(self, region: str, schedule_name: str, status: str, **more: str) -> None:
        """Records an execution of a monitoring schedule, as SageMaker would after a run (rehearsal/emulator/
        monitoring.py); ``more``: ScheduledTime, FailureReason, ProcessingJobArn."""
        request = {"Region": region, "MonitoringScheduleName": schedule_name, "MonitoringExecutionStatus": status}
        self._control(MONITORING_EXECUTIONS_PATH, request | more)

    def simulate_scaling(
        self, region: str, component_name: str, *, concurrent_requests_per_copy: float | None = None
    ) -> dict[str, Any]:
        """Evaluates the component's deployed scaling policies once (a simulation; nothing waits or really scales),
        with ``concurrent_requests_per_copy`` as the target-tracking metric's value; returns each policy's decision
        and the copies before and after."""
        request: dict[str, Any] = {"region": region, "inferenceComponentName": component_name}
        if concurrent_requests_per_copy is not None:
            request["concurrentRequestsPerCopy"] = concurrent_requests_per_copy
        return self._control(INFERENCE_COMPONENT_SCALING_PATH, request)

    def _control(self, path: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path``, or POST ``request`` to it as JSON; the answer's JSON. Errors carry the emulator's message."""
        context = ssl.create_default_context(cafile=str(self.certificate))
        data = None if request is None else json.dumps(request).encode()
        call = urllib.request.Request(self.endpoint + path, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(call, context=context, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            raise EmulatorRefused(f"{path}: {json.load(error).get('error', error.reason)}") from None

    def client_environment(self, region: str) -> dict[str, str]:
        """What points the CDK CLI (and any SDK) at the emulator, with credentials it accepts."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CA_BUNDLE": str(self.certificate),
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
