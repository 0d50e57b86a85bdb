"""CloudWatch alarms on a ModelEndpoint, as data: one spec per alarm, one loop, one composite that pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from ml_constructs.compliance import acknowledge
from ml_constructs.model_endpoint import ModelEndpoint

_ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
_AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
# Without traffic there are no errors, latencies or load to worry about.
_QUIET_IS_FINE = cloudwatch.TreatMissingData.NOT_BREACHING
# Instance metrics pause while a fleet is replaced; a gap keeps the alarm's state instead of flapping.
_GAP_KEEPS_STATE = cloudwatch.TreatMissingData.IGNORE


@dataclass(frozen=True)
class AlarmInputs:
    """What an alarm's threshold and description are computed from: the construct's props and the endpoint."""

    endpoint: ModelEndpoint
    period: Duration
    max_requests_per_second_per_instance: float
    server_error_rate_percent: float
    client_error_rate_percent: float
    model_latency_p99_ms: float
    overhead_latency_p99_ms: float
    cpu_utilization_percent: float
    memory_utilization_percent: float
    disk_utilization_percent: float
    invocations_per_instance_percent_of_max: float

    @property
    def invocations_near_max(self) -> float:
        """Invocations per instance per period near the measured maximum (the metric is a Sum)."""
        return (
            self.max_requests_per_second_per_instance
            * self.period.to_seconds()
            * self.invocations_per_instance_percent_of_max
            / 100
        )

    @property
    def vcpus_per_instance(self) -> int:
        """The endpoint's vCPUs per instance; ModelEndpoint refuses to construct without them."""
        return cast(int, self.endpoint.vcpus_per_instance)


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: its construct ID, the endpoint metric it watches, its threshold and what it means."""

    id: str
    metric: Callable[[ModelEndpoint, Duration], cloudwatch.IMetric]
    threshold: Callable[[AlarmInputs], float]
    description: Callable[[AlarmInputs], str]
    missing: cloudwatch.TreatMissingData = _QUIET_IS_FINE
    comparison: cloudwatch.ComparisonOperator = _ABOVE
    unhealthy: bool = False
    """Part of the composite ``Unhealthy`` on its own (the saturation pair joins it together)."""


ALARMS: tuple[AlarmSpec, ...] = (
    AlarmSpec(
        "ServerErrorRate",
        lambda e, p: e.metric_server_error_rate(period=p),
        lambda i: i.server_error_rate_percent,
        lambda i: f"More than {i.server_error_rate_percent}% of invocations fail with 5XX (the model fails)",
        unhealthy=True,
    ),
    AlarmSpec(
        "ClientErrorRate",
        lambda e, p: e.metric_client_error_rate(period=p),
        lambda i: i.client_error_rate_percent,
        lambda i: f"More than {i.client_error_rate_percent}% of invocations are rejected with 4XX (bad requests)",
    ),
    AlarmSpec(
        "ModelLatency",
        lambda e, p: e.metric_model_latency(period=p),
        lambda i: i.model_latency_p99_ms * 1000,
        lambda i: (
            f"p99 model latency above {i.model_latency_p99_ms} ms ({i.model_latency_p99_ms * 1000:g} microseconds)"
        ),
        unhealthy=True,
    ),
    AlarmSpec(
        "OverheadLatency",
        lambda e, p: e.metric_overhead_latency(period=p),
        lambda i: i.overhead_latency_p99_ms * 1000,
        lambda i: (
            f"p99 SageMaker overhead latency above {i.overhead_latency_p99_ms} ms "
            f"({i.overhead_latency_p99_ms * 1000:g} microseconds)"
        ),
        unhealthy=True,
    ),
    AlarmSpec(
        "CpuUtilization",
        lambda e, p: e.metric_cpu_utilization(period=p),
        lambda i: i.cpu_utilization_percent * i.vcpus_per_instance,
        lambda i: (
            f"CPU above {i.cpu_utilization_percent}% per vCPU on average "
            f"({i.cpu_utilization_percent * i.vcpus_per_instance:g}% summed over the "
            f"{i.vcpus_per_instance} vCPUs of {i.endpoint.instance_type})"
        ),
        missing=_GAP_KEEPS_STATE,
    ),
    AlarmSpec(
        "MemoryUtilization",
        lambda e, p: e.metric_memory_utilization(period=p),
        lambda i: i.memory_utilization_percent,
        lambda i: f"An instance uses more than {i.memory_utilization_percent}% of its memory",
        missing=_GAP_KEEPS_STATE,
        unhealthy=True,
    ),
    AlarmSpec(
        "DiskUtilization",
        lambda e, p: e.metric_disk_utilization(period=p),
        lambda i: i.disk_utilization_percent,
        lambda i: f"An instance uses more than {i.disk_utilization_percent}% of its disk",
        missing=_GAP_KEEPS_STATE,
        unhealthy=True,
    ),
    AlarmSpec(
        "InvocationsPerInstance",
        lambda e, p: e.metric_invocations_per_instance(period=p),
        lambda i: i.invocations_near_max,
        lambda i: (
            f"Instances receive more than {i.invocations_per_instance_percent_of_max}% of the measured "
            f"maximum of {i.max_requests_per_second_per_instance} requests per second "
            f"({i.invocations_near_max:g} per {i.period.to_seconds():g} s)"
        ),
    ),
    AlarmSpec(
        "InstanceCountAtMax",
        lambda e, p: e.metric_instance_count(period=p),
        # The ratio the count is derived from is not always whole, hence max - 1/2.
        lambda i: i.endpoint.max_capacity - 0.5,
        lambda i: f"The endpoint runs its maximum of {i.endpoint.max_capacity} instances; it cannot scale out",
        comparison=_AT_LEAST,
    ),
)
"""The endpoint alarms, in the order the README's alarm table lists them."""
SATURATION = ("InvocationsPerInstance", "InstanceCountAtMax")
"""Together, not alone, part of ``Unhealthy``: near the maximum load per instance at the maximum instance count."""


class EndpointAlarms(Construct):
    """Alarms on one endpoint's metrics; one of them, the composite ``Unhealthy``, pages ``topic``.

    One incident is one page: the composite notifies ``topic`` when it fires and when it recovers, and every
    other alarm (the endpoint's rollback alarms included) has no actions of its own. They show on the
    dashboard, and the composite's rule names which of them fired.

    The alarms are ``ALARMS``, each built from one of the endpoint's ``metric_*()`` methods and evaluating
    ``datapoints_to_alarm`` of ``evaluation_periods`` periods of length ``period``. ``Unhealthy`` (composite)
    fires on any ``unhealthy`` spec, on saturation (``SATURATION`` together: near the maximum load per instance
    while at the maximum instance count), or on one of the endpoint's rollback alarms, which watch the same
    errors and latency over a shorter window and so are the first to fire.

    ``ClientErrorRate``, ``CpuUtilization`` and either saturation alarm alone do not page: callers' bad requests,
    and load the endpoint still serves within its latency, are for the dashboard.

    :param endpoint: the endpoint to watch. Required.
    :param topic: receives the composite's alarm and OK notifications. Required.
    :param max_requests_per_second_per_instance: measured sustainable load of one instance. Required.
    :param server_error_rate_percent: Default: 1.
    :param client_error_rate_percent: Default: 5.
    :param model_latency_p99_ms: Default: 250.
    :param overhead_latency_p99_ms: Default: 50.
    :param cpu_utilization_percent: average per vCPU. Default: 80.
    :param memory_utilization_percent: Default: 85.
    :param disk_utilization_percent: Default: 80.
    :param invocations_per_instance_percent_of_max: Default: 90.
    :param period: Default: 1 minute.
    :param evaluation_periods: Default: 5.
    :param datapoints_to_alarm: Default: 3.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: ModelEndpoint,
        topic: sns.ITopic,
        max_requests_per_second_per_instance: float,
        server_error_rate_percent: float = 1.0,
        client_error_rate_percent: float = 5.0,
        model_latency_p99_ms: float = 250.0,
        overhead_latency_p99_ms: float = 50.0,
        cpu_utilization_percent: float = 80.0,
        memory_utilization_percent: float = 85.0,
        disk_utilization_percent: float = 80.0,
        invocations_per_instance_percent_of_max: float = 90.0,
        period: Duration = Duration.minutes(1),
        evaluation_periods: int = 5,
        datapoints_to_alarm: int = 3,
    ) -> None:
        super().__init__(scope, id)
        self._validate(
            percents={
                "server_error_rate_percent": server_error_rate_percent,
                "client_error_rate_percent": client_error_rate_percent,
                "cpu_utilization_percent": cpu_utilization_percent,
                "memory_utilization_percent": memory_utilization_percent,
                "disk_utilization_percent": disk_utilization_percent,
                "invocations_per_instance_percent_of_max": invocations_per_instance_percent_of_max,
            },
            positives={
                "max_requests_per_second_per_instance": max_requests_per_second_per_instance,
                "model_latency_p99_ms": model_latency_p99_ms,
                "overhead_latency_p99_ms": overhead_latency_p99_ms,
            },
            period=period,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
        )
        inputs = AlarmInputs(
            endpoint=endpoint,
            period=period,
            max_requests_per_second_per_instance=max_requests_per_second_per_instance,
            server_error_rate_percent=server_error_rate_percent,
            client_error_rate_percent=client_error_rate_percent,
            model_latency_p99_ms=model_latency_p99_ms,
            overhead_latency_p99_ms=overhead_latency_p99_ms,
            cpu_utilization_percent=cpu_utilization_percent,
            memory_utilization_percent=memory_utilization_percent,
            disk_utilization_percent=disk_utilization_percent,
            invocations_per_instance_percent_of_max=invocations_per_instance_percent_of_max,
        )
        self.by_id: dict[str, cloudwatch.Alarm] = {
            spec.id: cloudwatch.Alarm(
                self,
                spec.id,
                metric=spec.metric(endpoint, period),
                threshold=spec.threshold(inputs),
                comparison_operator=spec.comparison,
                evaluation_periods=evaluation_periods,
                datapoints_to_alarm=datapoints_to_alarm,
                treat_missing_data=spec.missing,
                alarm_description=spec.description(inputs),
            )
            for spec in ALARMS
        }
        self.unhealthy = cloudwatch.CompositeAlarm(
            self,
            "Unhealthy",
            alarm_description="The endpoint fails, is slow, runs out of memory or disk, or is saturated at its maximum",
            alarm_rule=cloudwatch.AlarmRule.any_of(
                *(self.by_id[spec.id] for spec in ALARMS if spec.unhealthy),
                cloudwatch.AlarmRule.all_of(*(self.by_id[id] for id in SATURATION)),
                *endpoint.rollback_alarms,
            ),
        )
        notify = cloudwatch_actions.SnsAction(topic)
        self.unhealthy.add_alarm_action(notify)
        self.unhealthy.add_ok_action(notify)
        for alarm in (*self.alarms[:-1], *endpoint.rollback_alarms):
            for pack in ("NIST.800.53.R5", "HIPAA.Security"):
                acknowledge(
                    alarm,
                    f"{pack}::{pack}-CloudWatchAlarmAction",
                    f"Shown on the Region's dashboard; it pages through the composite alarm {self.unhealthy.node.id} "
                    "when it is part of an incident, so that one incident sends one page, not one per alarm.",
                )

    @property
    def alarms(self) -> tuple[cloudwatch.AlarmBase, ...]:
        """Every alarm of this construct in ``ALARMS`` order, the composite last."""
        return (*self.by_id.values(), self.unhealthy)

    def _validate(
        self,
        *,
        percents: dict[str, float],
        positives: dict[str, float],
        period: Duration,
        evaluation_periods: int,
        datapoints_to_alarm: int,
    ) -> None:
        problems = [
            f"{name} is {value}; allowed: more than 0, at most 100"
            for name, value in percents.items()
            if not 0 < value <= 100
        ]
        problems += [f"{name} is {value}; allowed: more than 0" for name, value in positives.items() if value <= 0]
        if period.to_seconds() < 60 or period.to_seconds() % 60:
            problems.append(
                f"period is {period.to_seconds()} s; allowed: a multiple of 60 s (SageMaker publishes per minute)"
            )
        if evaluation_periods < 1:
            problems.append(f"evaluation_periods is {evaluation_periods}; allowed: 1 or more")
        if not 1 <= datapoints_to_alarm <= evaluation_periods:
            problems.append(
                f"datapoints_to_alarm is {datapoints_to_alarm}; allowed: 1 to evaluation_periods ({evaluation_periods})"
            )
        if problems:
            listing = "\n".join(f"  - {problem}" for problem in problems)
            raise ValueError(f"Invalid EndpointAlarms {self.node.path} ({len(problems)} problem(s)):\n{listing}")
