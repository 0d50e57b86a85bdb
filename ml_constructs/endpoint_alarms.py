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
from ml_constructs.endpoint_alarms_props import EndpointAlarmsProps
from ml_constructs.model_endpoint import ModelEndpoint
from platform_contract.problems import raise_if_any

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
    props: EndpointAlarmsProps

    @property
    def period(self) -> Duration:
        return Duration.seconds(self.props.period_seconds)

    @property
    def max_requests_per_second_per_instance(self) -> float:
        """The endpoint's measured maximum load per instance, which its scaling target derives from too."""
        return self.endpoint.props.max_requests_per_second_per_instance

    @property
    def invocations_near_max(self) -> float:
        """Invocations per instance per period near the measured maximum (the metric is a Sum)."""
        return (
            self.max_requests_per_second_per_instance
            * self.props.period_seconds
            * self.props.invocations_per_instance_percent_of_max
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
        lambda i: i.props.server_error_rate_percent,
        lambda i: f"More than {i.props.server_error_rate_percent}% of invocations fail with 5XX (the model fails)",
        unhealthy=True,
    ),
    AlarmSpec(
        "ClientErrorRate",
        lambda e, p: e.metric_client_error_rate(period=p),
        lambda i: i.props.client_error_rate_percent,
        lambda i: f"More than {i.props.client_error_rate_percent}% of invocations are rejected with 4XX (bad requests)",
    ),
    AlarmSpec(
        "ModelLatency",
        lambda e, p: e.metric_model_latency(period=p),
        lambda i: i.props.model_latency_p99_ms * 1000,
        lambda i: (
            f"p99 model latency above {i.props.model_latency_p99_ms} ms "
            f"({i.props.model_latency_p99_ms * 1000:g} microseconds)"
        ),
        unhealthy=True,
    ),
    AlarmSpec(
        "OverheadLatency",
        lambda e, p: e.metric_overhead_latency(period=p),
        lambda i: i.props.overhead_latency_p99_ms * 1000,
        lambda i: (
            f"p99 SageMaker overhead latency above {i.props.overhead_latency_p99_ms} ms "
            f"({i.props.overhead_latency_p99_ms * 1000:g} microseconds)"
        ),
        unhealthy=True,
    ),
    AlarmSpec(
        "CpuUtilization",
        lambda e, p: e.metric_cpu_utilization(period=p),
        lambda i: i.props.cpu_utilization_percent * i.vcpus_per_instance,
        lambda i: (
            f"CPU above {i.props.cpu_utilization_percent}% per vCPU on average "
            f"({i.props.cpu_utilization_percent * i.vcpus_per_instance:g}% summed over the "
            f"{i.vcpus_per_instance} vCPUs of {i.endpoint.instance_type})"
        ),
        missing=_GAP_KEEPS_STATE,
    ),
    AlarmSpec(
        "MemoryUtilization",
        lambda e, p: e.metric_memory_utilization(period=p),
        lambda i: i.props.memory_utilization_percent,
        lambda i: f"An instance uses more than {i.props.memory_utilization_percent}% of its memory",
        missing=_GAP_KEEPS_STATE,
        unhealthy=True,
    ),
    AlarmSpec(
        "DiskUtilization",
        lambda e, p: e.metric_disk_utilization(period=p),
        lambda i: i.props.disk_utilization_percent,
        lambda i: f"An instance uses more than {i.props.disk_utilization_percent}% of its disk",
        missing=_GAP_KEEPS_STATE,
        unhealthy=True,
    ),
    AlarmSpec(
        "InvocationsPerInstance",
        lambda e, p: e.metric_invocations_per_instance(period=p),
        lambda i: i.invocations_near_max,
        lambda i: (
            f"Instances receive more than {i.props.invocations_per_instance_percent_of_max}% of the measured "
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
    ``datapoints_to_alarm`` of ``evaluation_periods`` periods of ``period_seconds``. ``Unhealthy`` (composite)
    fires on any ``unhealthy`` spec, on saturation (``SATURATION`` together: near the maximum load per instance
    while at the maximum instance count), or on one of the endpoint's rollback alarms, which watch the same
    errors and latency over a shorter window and so are the first to fire.

    ``ClientErrorRate``, ``CpuUtilization`` and either saturation alarm alone do not page: callers' bad requests,
    and load the endpoint still serves within its latency, are for the dashboard. ``InvocationsPerInstance`` is
    near the endpoint's own ``max_requests_per_second_per_instance``.

    :param endpoint: the endpoint to watch. Required.
    :param topic: receives the composite's alarm and OK notifications. Required.
    :param props: thresholds and evaluation; see ``EndpointAlarmsProps``, where every default is documented.
        Default: ``EndpointAlarmsProps()``.

    Raises ``InvalidInput`` once, with every problem of the props, each keyed by its field.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: ModelEndpoint,
        topic: sns.ITopic,
        props: EndpointAlarmsProps = EndpointAlarmsProps(),
    ) -> None:
        super().__init__(scope, id)
        raise_if_any(f"EndpointAlarms {self.node.path}", props.problems())
        inputs = AlarmInputs(endpoint=endpoint, props=props)
        self.by_id: dict[str, cloudwatch.Alarm] = {
            spec.id: cloudwatch.Alarm(
                self,
                spec.id,
                metric=spec.metric(endpoint, inputs.period),
                threshold=spec.threshold(inputs),
                comparison_operator=spec.comparison,
                evaluation_periods=props.evaluation_periods,
                datapoints_to_alarm=props.datapoints_to_alarm,
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
