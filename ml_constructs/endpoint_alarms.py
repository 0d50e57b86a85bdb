"""CloudWatch alarms that page people about a ModelEndpoint: errors, latency, saturation and capacity."""

from __future__ import annotations

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


class EndpointAlarms(Construct):
    """Alarms on one endpoint's metrics; one of them, the composite ``Unhealthy``, pages ``topic``.

    One incident is one page: the composite notifies ``topic`` when it fires and when it recovers, and every
    other alarm (the endpoint's rollback alarms included) has no actions of its own. They show on the
    dashboard, and the composite's rule names which of them fired.

    Every alarm is built from the endpoint's ``metric_*()`` helpers and evaluates ``datapoints_to_alarm`` of
    ``evaluation_periods`` periods of length ``period``:

    * ``ServerErrorRate`` / ``ClientErrorRate``: 100 × Invocation5XXErrors (4XX) ÷ Invocations, both Sum.
    * ``ModelLatency`` / ``OverheadLatency``: p99 in microseconds, so the threshold is milliseconds × 1000.
    * ``CpuUtilization``: SageMaker sums CPU use over an instance's vCPUs, so the threshold is the per-vCPU
      percentage × the endpoint's ``vcpus_per_instance`` (80 % on 2 vCPUs is 160).
    * ``MemoryUtilization`` / ``DiskUtilization``: of the fullest instance, in percent.
    * ``InvocationsPerInstance``: near the measured maximum an instance sustains, i.e. max requests per second
      × 60 × ``invocations_per_instance_percent_of_max`` % per minute, scaled to the period (the metric is a Sum).
    * ``InstanceCountAtMax``: the instance count derived from Invocations ÷ InvocationsPerInstance reached
      ``max_capacity``, so autoscaling has no room left (the ratio is not always whole, hence max − ½).
    * ``Unhealthy`` (composite): errors, latency, memory or disk, saturation (near the maximum load per
      instance while at the maximum instance count), or one of the endpoint's rollback alarms, which watch the
      same errors and latency over a shorter window and so are the first to fire.

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
        self._period = period
        self._evaluation_periods = evaluation_periods
        self._datapoints_to_alarm = datapoints_to_alarm
        vcpus = endpoint.vcpus_per_instance
        invocations_near_max = (
            max_requests_per_second_per_instance * period.to_seconds() * invocations_per_instance_percent_of_max / 100
        )

        self.server_error_rate = self._alarm(
            "ServerErrorRate",
            endpoint.metric_server_error_rate(period=period),
            server_error_rate_percent,
            missing=_QUIET_IS_FINE,
            description=f"More than {server_error_rate_percent}% of invocations fail with 5XX (the model fails)",
        )
        self.client_error_rate = self._alarm(
            "ClientErrorRate",
            endpoint.metric_client_error_rate(period=period),
            client_error_rate_percent,
            missing=_QUIET_IS_FINE,
            description=f"More than {client_error_rate_percent}% of invocations are rejected with 4XX (bad requests)",
        )
        self.model_latency = self._alarm(
            "ModelLatency",
            endpoint.metric_model_latency(period=period),
            model_latency_p99_ms * 1000,
            missing=_QUIET_IS_FINE,
            description=f"p99 model latency above {model_latency_p99_ms} ms "
            f"({model_latency_p99_ms * 1000:g} microseconds)",
        )
        self.overhead_latency = self._alarm(
            "OverheadLatency",
            endpoint.metric_overhead_latency(period=period),
            overhead_latency_p99_ms * 1000,
            missing=_QUIET_IS_FINE,
            description=f"p99 SageMaker overhead latency above {overhead_latency_p99_ms} ms "
            f"({overhead_latency_p99_ms * 1000:g} microseconds)",
        )
        self.cpu_utilization = self._alarm(
            "CpuUtilization",
            endpoint.metric_cpu_utilization(period=period),
            cpu_utilization_percent * vcpus,
            missing=_GAP_KEEPS_STATE,
            description=f"CPU above {cpu_utilization_percent}% per vCPU on average "
            f"({cpu_utilization_percent * vcpus:g}% summed over the {vcpus} vCPUs of {endpoint.instance_type})",
        )
        self.memory_utilization = self._alarm(
            "MemoryUtilization",
            endpoint.metric_memory_utilization(period=period),
            memory_utilization_percent,
            missing=_GAP_KEEPS_STATE,
            description=f"An instance uses more than {memory_utilization_percent}% of its memory",
        )
        self.disk_utilization = self._alarm(
            "DiskUtilization",
            endpoint.metric_disk_utilization(period=period),
            disk_utilization_percent,
            missing=_GAP_KEEPS_STATE,
            description=f"An instance uses more than {disk_utilization_percent}% of its disk",
        )
        self.invocations_per_instance = self._alarm(
            "InvocationsPerInstance",
            endpoint.metric_invocations_per_instance(period=period),
            invocations_near_max,
            missing=_QUIET_IS_FINE,
            description=f"Instances receive more than {invocations_per_instance_percent_of_max}% of the measured "
            f"maximum of {max_requests_per_second_per_instance} requests per second "
            f"({invocations_near_max:g} per {period.to_seconds():g} s)",
        )
        self.instance_count_at_max = self._alarm(
            "InstanceCountAtMax",
            endpoint.metric_instance_count(period=period),
            endpoint.max_capacity - 0.5,
            comparison_operator=_AT_LEAST,
            missing=_QUIET_IS_FINE,
            description=f"The endpoint runs its maximum of {endpoint.max_capacity} instances; it cannot scale out",
        )

        self.unhealthy = cloudwatch.CompositeAlarm(
            self,
            "Unhealthy",
            alarm_description="The endpoint fails, is slow, runs out of memory or disk, or is saturated at its maximum",
            alarm_rule=cloudwatch.AlarmRule.any_of(
                *(self.server_error_rate, self.model_latency, self.overhead_latency),
                *(self.memory_utilization, self.disk_utilization),
                cloudwatch.AlarmRule.all_of(self.invocations_per_instance, self.instance_count_at_max),
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
        """Every alarm of this construct, the composite last."""
        return (
            *(self.server_error_rate, self.client_error_rate, self.model_latency, self.overhead_latency),
            *(self.cpu_utilization, self.memory_utilization, self.disk_utilization),
            *(self.invocations_per_instance, self.instance_count_at_max, self.unhealthy),
        )

    def _alarm(
        self,
        id: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        *,
        missing: cloudwatch.TreatMissingData,
        description: str,
        comparison_operator: cloudwatch.ComparisonOperator = _ABOVE,
    ) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            id,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison_operator,
            evaluation_periods=self._evaluation_periods,
            datapoints_to_alarm=self._datapoints_to_alarm,
            treat_missing_data=missing,
            alarm_description=description,
        )

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
