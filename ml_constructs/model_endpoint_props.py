"""What a ModelEndpoint serves and how it scales and rolls out: one frozen props object, its defaults and the
rules SageMaker and Application Auto Scaling enforce.

Field names are the keys of the ``serving`` section of cdk.json, so a problem's key is the config path below it
(``traffic_shifting.wait_seconds``, ``scheduled_capacity[0].min_capacity``). Standard library and
``platform_contract`` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ml_constructs.endpoint_alarms_props import METRIC_PERIOD_SECONDS, EndpointAlarmsProps
from ml_constructs.traffic_shifting import TrafficShifting
from platform_contract.instance_types import InstanceType
from platform_contract.problems import Problem

# UpdateEndpoint's DeploymentConfig.BlueGreenUpdatePolicy.MaximumExecutionTimeoutInSeconds
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_BlueGreenUpdatePolicy.html).
MAXIMUM_EXECUTION_TIMEOUT_RANGE = (600, 28800)
# Time SageMaker needs to provision and health-check the new fleet before the first traffic shift.
PROVISIONING_ALLOWANCE_SECONDS = 3600
# Rollback alarms look at one-minute datapoints and trip after this many bad ones in a row: fast enough to stop a
# canary within its baking time, slow enough to ignore a single bad minute.
ROLLBACK_DATAPOINTS = 2
ROLLBACK_PERIOD_SECONDS = METRIC_PERIOD_SECONDS
# InferenceComponentComputeResourceRequirements.MinMemoryRequiredInMb
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_InferenceComponentComputeResourceRequirements.html).
MIN_COPY_MEMORY_MB = 128
_SCHEDULED_ACTION_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")

NO_MODEL = Problem("model_package_arn", None, "a model package ARN, or model_data_url", "the endpoint serves nothing")
"""The problem of props that name no model; the config leaves a Region without one unserved instead."""


@dataclass(frozen=True)
class ScheduledCapacity:
    """A recurring change of the autoscaling bounds, e.g. fewer instances at night. It applies until the next
    schedule changes the bounds again, so a night window needs a morning schedule that restores the day bounds."""

    name: str
    """Name of the scheduled action: 1-64 letters, digits and hyphens, unique per endpoint. Required."""
    schedule: str
    """An Application Auto Scaling schedule expression: ``cron(...)``, ``rate(...)`` or ``at(...)``. Required."""
    min_capacity: int
    """Instances at least while the schedule applies, 1 or more. Required."""
    max_capacity: int
    """Instances at most while the schedule applies, at least ``min_capacity``. Required."""

    def problems(self) -> list[Problem]:
        problems = []
        if not _SCHEDULED_ACTION_NAME.match(self.name):
            problems.append(Problem("name", self.name, "1-64 letters, digits and hyphens"))
        if self.min_capacity < 1:
            problems.append(Problem("min_capacity", self.min_capacity, "1 or more"))
        elif self.min_capacity > self.max_capacity:
            problems.append(Problem("min_capacity", self.min_capacity, f"at most max_capacity ({self.max_capacity})"))
        return problems


@dataclass(frozen=True)
class ModelEndpointProps:
    """What the endpoint serves, how it scales and how a new model rolls out; every field has its default here and
    only here."""

    model_package_arn: str | None = None
    """Approved model package version to serve; the image it was registered with must be the endpoint's. Give this
    or ``model_data_url``."""
    model_data_url: str | None = None
    """Or: ``s3://`` URI of a model.tar.gz under the data bucket's models/ prefix, served with the endpoint's image."""
    instance_type: str = "ml.m5.large"
    """ML instance type. Default: ml.m5.large."""
    min_capacity: int = 1
    """Instances at least, and the initial instance count. Default: 1."""
    max_capacity: int = 4
    """Instances at most. Autoscaling is on when it exceeds ``min_capacity`` or ``scheduled_capacity`` is given;
    burstable (ml.t*) instances cannot autoscale. Default: 4."""
    high_availability: bool = False
    """Require at least two instances at all times, which SageMaker spreads over Availability Zones. Default: false
    (the platform sets it in prod)."""
    max_requests_per_second_per_instance: float = 3200.0
    """Maximum sustainable load of one instance: the image's server sustained 3262 req/s of 100-row requests on
    2 vCPUs (ml.m5.large has 2), see docs/serving-benchmark.md; remeasure for your model. The scaling target and
    the InvocationsPerInstance alarm derive from it. Default: 3200."""
    scaling_safety_factor: float = 0.5
    """Share of the measured maximum that autoscaling aims for, above 0 and at most 1. Default: 0.5."""
    target_invocations_per_instance: int | None = None
    """Target of the SageMakerVariantInvocationsPerInstance policy, per instance per minute. Default:
    ``max_requests_per_second_per_instance`` × 60 × ``scaling_safety_factor``."""
    scale_out_cooldown_seconds: int = 60
    """Default: 60."""
    scale_in_cooldown_seconds: int = 600
    """Longer than ``scale_out_cooldown_seconds``, so that capacity is not dropped between bursts. Default: 600."""
    data_capture_sampling_percent: int = 20
    """Share of requests and responses captured to capture/, 1-100. Default: 20."""
    traffic_shifting: TrafficShifting = field(default_factory=TrafficShifting)
    """Default: a 10 % canary that bakes for 5 minutes and keeps the old fleet 2 minutes more; all at once with the
    same baking for a fleet that may run a single instance (``effective_traffic_shifting``)."""
    scheduled_capacity: tuple[ScheduledCapacity, ...] = ()
    """Scheduled changes of the autoscaling bounds. Default: none."""
    maximum_execution_timeout_seconds: int | None = None
    """Limit of a whole deployment, 600-28800. Default: the baking time of every step plus the termination wait plus
    one hour to provision the new fleet."""
    rollback_server_error_rate_percent: float = EndpointAlarmsProps.server_error_rate_percent
    """5XX share of invocations that rolls a deployment back. Default: the alarms' ``server_error_rate_percent``."""
    rollback_model_latency_p99_ms: float = EndpointAlarmsProps.model_latency_p99_ms
    """p99 model latency that rolls a deployment back. Default: the alarms' ``model_latency_p99_ms``."""
    vcpus_per_instance: int | None = None
    """vCPUs of ``instance_type``, which scale CPUUtilization (summed over vCPUs). Default: derived from the size
    (large 2, xlarge 4, Nxlarge 4N); required where that rule fails."""
    scale_to_zero: bool = False
    """Hold no instance while the endpoint is idle. The model is then hosted as an inference component with one copy
    per instance (it reserves every vCPU of one), whose copies autoscale between 0 and ``max_capacity``; the first
    request that finds no copy fails and brings one back within minutes. ``min_capacity`` is then the initial count
    only. Excludes ``high_availability`` and ``scheduled_capacity``. Default: false (the platform sets it in dev)."""
    max_concurrent_requests_per_instance: int = 4
    """Concurrent requests at which one instance sustains ``max_requests_per_second_per_instance`` (the image's
    server reached its maximum at concurrency 4, see docs/serving-benchmark.md). With ``scale_to_zero`` the scaling
    target, concurrent requests per copy, derives from it. Default: 4."""
    copy_memory_mb: int = 1024
    """Memory reserved for each copy of the model with ``scale_to_zero``, at least 128 MB and within the instance's
    memory. Default: 1024."""

    @property
    def autoscaling(self) -> bool:
        return self.scale_to_zero or self.max_capacity > self.min_capacity or bool(self.scheduled_capacity)

    @property
    def scaling_min_capacity(self) -> int:
        """The autoscaler's lower bound: no copy at all when the endpoint scales to zero."""
        return 0 if self.scale_to_zero else self.min_capacity

    @property
    def target_concurrent_requests_per_copy(self) -> float:
        """Target of the concurrent-requests-per-copy scaling policy (``scale_to_zero``)."""
        return max(1.0, self.max_concurrent_requests_per_instance * self.scaling_safety_factor)

    @property
    def effective_traffic_shifting(self) -> TrafficShifting:
        """``traffic_shifting`` for the smallest fleet the endpoint may run (``min_capacity``, schedule minimums)."""
        smallest = min([self.scaling_min_capacity, *(window.min_capacity for window in self.scheduled_capacity)])
        return self.traffic_shifting.for_fleet(smallest)

    @property
    def execution_timeout_seconds(self) -> int:
        if self.maximum_execution_timeout_seconds is not None:
            return self.maximum_execution_timeout_seconds
        baking = self.effective_traffic_shifting.baking_seconds
        return max(MAXIMUM_EXECUTION_TIMEOUT_RANGE[0], baking + PROVISIONING_ALLOWANCE_SECONDS)

    @property
    def target_invocations_per_minute(self) -> int:
        """Target of the invocations-per-instance scaling policy (per minute, as SageMaker reports it)."""
        if self.target_invocations_per_instance is not None:
            return self.target_invocations_per_instance
        return max(1, int(self.max_requests_per_second_per_instance * 60 * self.scaling_safety_factor))

    @property
    def resolved_vcpus_per_instance(self) -> int | None:
        """``vcpus_per_instance``, or the vCPUs derived from the instance size; None where neither is known."""
        parsed = InstanceType.parse(self.instance_type)
        return self.vcpus_per_instance or (parsed.vcpus if parsed else None)

    def problems(self, *, instance_type_known: bool = True) -> list[Problem]:
        """Every value SageMaker or Application Auto Scaling would refuse, each keyed by its field (a dotted path for
        traffic shifting, an indexed one for scheduled capacity). ``instance_type_known=False``: the instance type is
        a deploy-time token, so it is not checked and ``vcpus_per_instance`` is required."""
        problems = self._model_problems()
        if instance_type_known:
            problems += self._instance_type_problems()
        problems += self._vcpu_problems(instance_type_known=instance_type_known)
        problems += self._capacity_problems()
        problems += self._scaling_problems()
        problems += self._scale_to_zero_problems()
        if not 1 <= self.data_capture_sampling_percent <= 100:
            problems.append(Problem("data_capture_sampling_percent", self.data_capture_sampling_percent, "1-100"))
        problems += self._rollout_problems()
        if not 0 < self.rollback_server_error_rate_percent <= 100:
            problems.append(
                Problem(
                    "rollback_server_error_rate_percent",
                    self.rollback_server_error_rate_percent,
                    "more than 0, at most 100",
                )
            )
        if self.rollback_model_latency_p99_ms <= 0:
            problems.append(Problem("rollback_model_latency_p99_ms", self.rollback_model_latency_p99_ms, "more than 0"))
        return problems

    def _model_problems(self) -> list[Problem]:
        if self.model_package_arn and self.model_data_url:
            return [Problem("model_data_url", self.model_data_url, "null when model_package_arn is set")]
        if not (self.model_package_arn or self.model_data_url):
            return [NO_MODEL]
        return []

    def _instance_type_problems(self) -> list[Problem]:
        parsed = InstanceType.parse(self.instance_type)
        if parsed is None:
            return [Problem("instance_type", self.instance_type, "ml.<family>.<size>, e.g. ml.m5.large")]
        problems = []
        if self.autoscaling and parsed.family.burstable:
            problems.append(
                Problem(
                    "instance_type",
                    self.instance_type,
                    "a non-burstable type such as ml.m5.large, or max_capacity equal to min_capacity, no "
                    "scheduled_capacity and scale_to_zero false",
                    "burstable, and SageMaker cannot autoscale it",
                )
            )
        return problems

    def _vcpu_problems(self, *, instance_type_known: bool) -> list[Problem]:
        if self.vcpus_per_instance is not None:
            return (
                []
                if self.vcpus_per_instance >= 1
                else [Problem("vcpus_per_instance", self.vcpus_per_instance, "1 or more")]
            )
        if not instance_type_known:
            return [
                Problem(
                    "vcpus_per_instance",
                    None,
                    "the vCPUs of the instance type",
                    "they cannot be derived from an instance type known only at deploy time",
                )
            ]
        parsed = InstanceType.parse(self.instance_type)
        if parsed and parsed.vcpus is None:
            return [
                Problem(
                    "vcpus_per_instance",
                    None,
                    f"the vCPUs of {self.instance_type}",
                    "they cannot be derived from its size",
                )
            ]
        return []

    def _capacity_problems(self) -> list[Problem]:
        problems = []
        if self.max_capacity < 1:
            problems.append(Problem("max_capacity", self.max_capacity, "1 or more"))
        if self.min_capacity < 1:
            problems.append(Problem("min_capacity", self.min_capacity, "1 or more"))
        elif self.min_capacity > self.max_capacity >= 1:
            problems.append(Problem("min_capacity", self.min_capacity, f"at most max_capacity ({self.max_capacity})"))
        elif self.high_availability and self.min_capacity < 2:
            problems.append(Problem("min_capacity", self.min_capacity, _HIGH_AVAILABILITY))
        names = [window.name for window in self.scheduled_capacity]
        for index, window in enumerate(self.scheduled_capacity):
            key = f"scheduled_capacity[{index}]"
            problems += [problem.under(key) for problem in window.problems()]
            if names.index(window.name) < index:
                problems.append(Problem(f"{key}.name", window.name, "a name no other schedule has", "listed twice"))
            if self.high_availability and 1 <= window.min_capacity < 2:
                problems.append(Problem(f"{key}.min_capacity", window.min_capacity, _HIGH_AVAILABILITY))
        return problems

    def _scaling_problems(self) -> list[Problem]:
        problems = []
        if self.max_requests_per_second_per_instance <= 0:
            problems.append(
                Problem(
                    "max_requests_per_second_per_instance", self.max_requests_per_second_per_instance, "more than 0"
                )
            )
        if not 0 < self.scaling_safety_factor <= 1:
            problems.append(Problem("scaling_safety_factor", self.scaling_safety_factor, "more than 0, at most 1"))
        if self.target_invocations_per_instance is not None and self.target_invocations_per_instance < 1:
            problems.append(
                Problem("target_invocations_per_instance", self.target_invocations_per_instance, "1 or more, or null")
            )
        if self.scale_out_cooldown_seconds < 1:
            problems.append(Problem("scale_out_cooldown_seconds", self.scale_out_cooldown_seconds, "1 or more"))
        if self.scale_in_cooldown_seconds <= self.scale_out_cooldown_seconds:
            problems.append(
                Problem(
                    "scale_in_cooldown_seconds",
                    self.scale_in_cooldown_seconds,
                    f"more than scale_out_cooldown_seconds ({self.scale_out_cooldown_seconds}), "
                    "so that scale-in is slower",
                )
            )
        return problems

    def _scale_to_zero_problems(self) -> list[Problem]:
        problems = []
        if self.max_concurrent_requests_per_instance < 1:
            problems.append(
                Problem("max_concurrent_requests_per_instance", self.max_concurrent_requests_per_instance, "1 or more")
            )
        if self.copy_memory_mb < MIN_COPY_MEMORY_MB:
            problems.append(Problem("copy_memory_mb", self.copy_memory_mb, f"{MIN_COPY_MEMORY_MB} or more"))
        if not self.scale_to_zero:
            return problems
        if self.high_availability:
            problems.append(
                Problem(
                    "scale_to_zero",
                    True,
                    "false with high_availability (prod)",
                    "an idle endpoint would hold no instance, while high availability keeps at least two",
                )
            )
        if self.scheduled_capacity:
            problems.append(
                Problem(
                    "scheduled_capacity",
                    f"<{len(self.scheduled_capacity)} schedule(s)>",
                    "none with scale_to_zero",
                    "an idle endpoint already holds no instance, and a schedule's minimum would keep one",
                )
            )
        return problems

    def _rollout_problems(self) -> list[Problem]:
        shifting = self.traffic_shifting
        problems = [problem.under("traffic_shifting") for problem in shifting.problems()]
        rollback_seconds = ROLLBACK_DATAPOINTS * ROLLBACK_PERIOD_SECONDS
        if 0 <= shifting.wait_seconds < rollback_seconds:
            problems.append(
                Problem(
                    "traffic_shifting.wait_seconds",
                    shifting.wait_seconds,
                    f"at least {rollback_seconds}",
                    "the time the rollback alarms need to trip",
                )
            )
        if problems:
            return problems  # the deployment's length is computed from valid steps only
        low, high = MAXIMUM_EXECUTION_TIMEOUT_RANGE
        baking = self.effective_traffic_shifting.baking_seconds
        timeout = self.execution_timeout_seconds
        if self.maximum_execution_timeout_seconds is None:
            if timeout > high:
                problems.append(
                    Problem(
                        "traffic_shifting.wait_seconds",
                        shifting.wait_seconds,
                        f"a baking time of at most {high - PROVISIONING_ALLOWANCE_SECONDS} s in all",
                        f"{self.effective_traffic_shifting.steps} step(s) and the termination wait bake for "
                        f"{baking} s; with an hour to provision, the deployment would exceed SageMaker's {high} s",
                    )
                )
        elif not (low <= timeout <= high and timeout > baking):
            problems.append(
                Problem(
                    "maximum_execution_timeout_seconds",
                    timeout,
                    f"{low}-{high} and longer than the {baking} s of baking and termination wait",
                )
            )
        return problems


_HIGH_AVAILABILITY = "2 or more with high_availability (prod), so that an Availability Zone can fail"
