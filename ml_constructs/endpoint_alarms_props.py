"""What EndpointAlarms alarm on: one frozen props object, its defaults and the rules CloudWatch enforces.

Field names are the keys of the ``alarms`` section of cdk.json, so a problem's key is the config path below it.
Standard library and ``platform_contract`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

from platform_contract.problems import Problem

# SageMaker publishes endpoint metrics per minute, so a shorter or odd period sees no datapoints; CloudWatch limits
# Period times EvaluationPeriods to one day for periods under an hour and to seven days otherwise
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
METRIC_PERIOD_SECONDS = 60
_SHORT_PERIOD_WINDOW_SECONDS = 86400
_LONG_PERIOD_WINDOW_SECONDS = 604800
_LONG_PERIOD_SECONDS = 3600

PERCENT_FIELDS = (
    "server_error_rate_percent",
    "client_error_rate_percent",
    "cpu_utilization_percent",
    "memory_utilization_percent",
    "disk_utilization_percent",
    "invocations_per_instance_percent_of_max",
)
"""Thresholds that are shares: above 0, at most 100."""


@dataclass(frozen=True)
class EndpointAlarmsProps:
    """Thresholds and evaluation of the endpoint alarms; every field has its default here and only here."""

    server_error_rate_percent: float = 1.0
    """5XX responses as a share of invocations. Default: 1."""
    client_error_rate_percent: float = 5.0
    """4XX responses as a share of invocations. Default: 5."""
    model_latency_p99_ms: float = 250.0
    """p99 model latency. Default: 250."""
    overhead_latency_p99_ms: float = 50.0
    """p99 latency SageMaker adds around the container. Default: 50."""
    cpu_utilization_percent: float = 80.0
    """Average over the instance's vCPUs. Default: 80."""
    memory_utilization_percent: float = 85.0
    """Memory of the fullest instance. Default: 85."""
    disk_utilization_percent: float = 80.0
    """Disk of the fullest instance. Default: 80."""
    invocations_per_instance_percent_of_max: float = 90.0
    """Invocations per instance near the endpoint's measured maximum. Default: 90."""
    period_seconds: int = 60
    """Length of each evaluated period, a multiple of 60. Default: 60."""
    evaluation_periods: int = 5
    """Periods evaluated; times ``period_seconds`` at most one day (seven for periods of an hour or more).
    Default: 5."""
    datapoints_to_alarm: int = 3
    """Breaching periods among them that fire the alarm, 1 to ``evaluation_periods``. Default: 3."""

    def problems(self) -> list[Problem]:
        """Every value CloudWatch would refuse or that could never fire, each keyed by its field."""
        problems = [
            Problem(name, getattr(self, name), "more than 0, at most 100")
            for name in PERCENT_FIELDS
            if not 0 < getattr(self, name) <= 100
        ]
        problems += [
            Problem(name, getattr(self, name), "more than 0")
            for name in ("model_latency_p99_ms", "overhead_latency_p99_ms")
            if getattr(self, name) <= 0
        ]
        period = self.period_seconds
        if period < METRIC_PERIOD_SECONDS or period % METRIC_PERIOD_SECONDS:
            problems.append(
                Problem("period_seconds", period, "a multiple of 60", "SageMaker publishes endpoint metrics per minute")
            )
        window = _LONG_PERIOD_WINDOW_SECONDS if period >= _LONG_PERIOD_SECONDS else _SHORT_PERIOD_WINDOW_SECONDS
        if self.evaluation_periods < 1:
            problems.append(Problem("evaluation_periods", self.evaluation_periods, "1 or more"))
        elif period > 0 and self.evaluation_periods * period > window:
            problems.append(
                Problem(
                    "evaluation_periods",
                    self.evaluation_periods,
                    f"at most {window // period} with period_seconds {period}",
                    f"CloudWatch evaluates at most {window} s",
                )
            )
        if not 1 <= self.datapoints_to_alarm <= max(self.evaluation_periods, 1):
            problems.append(
                Problem(
                    "datapoints_to_alarm",
                    self.datapoints_to_alarm,
                    f"1 to evaluation_periods ({self.evaluation_periods})",
                )
            )
        return problems
