"""What a ModelMonitoring watches with: one frozen props object, its defaults and the rules Model Monitor enforces.

Field names are the keys of the ``serving.monitoring`` section of cdk.json, so a problem's key is the config path
below it. Standard library and ``platform_contract`` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from platform_contract.instance_types import InstanceUse, allowed_instance_types
from platform_contract.names import DataPrefix, MonitoringMetric
from platform_contract.problems import Problem

HOURLY = "cron(0 * ? * * *)"
# Model Monitor takes hourly and daily cron expressions (and NOW, for one run); every N hours is not used here
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ScheduleConfig.html).
_SCHEDULE = re.compile(r"^cron\(0 (?P<hour>\*|[01]?[0-9]|2[0-3]) \? \* \* \*\)$")
# MonitoringStoppingCondition: "MaxRuntimeInSeconds cannot exceed the frequency of the job", at most 86400
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_MonitoringStoppingCondition.html).
_MAX_RUNTIME_SECONDS = 86400
_MAX_VOLUME_SIZE_GB = 16384
# CloudWatch metric names are at most 255 characters (PutMetricData, MetricDatum.MetricName).
_METRIC_NAME_LENGTH = 255
_MAX_RETRAIN_INTERVAL_HOURS = 24 * 90
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>\S+)$")


@dataclass(frozen=True)
class MonitoringBaseline:
    """The statistics.json and constraints.json the served model package was registered with (its
    DriftCheckBaselines or ModelMetrics ModelDataQuality); ``mlp promote`` records them with the package."""

    statistics_uri: str
    constraints_uri: str

    def problems(self) -> list[Problem]:
        problems = []
        for key in ("statistics_uri", "constraints_uri"):
            uri = getattr(self, key)
            match = _S3_URI.match(uri)
            if not match or not any(match["key"].startswith(prefix.value) for prefix in DataPrefix):
                allowed = "s3://<data bucket>/<prefix>/…, under one of " + ", ".join(p.value for p in DataPrefix)
                problems.append(Problem(key, uri, allowed))
        return problems

    @property
    def prefixes(self) -> tuple[DataPrefix, ...]:
        """The data bucket prefixes the baseline files are under, which the monitoring role may read."""
        keys = [uri.split("/", 3)[-1] for uri in (self.statistics_uri, self.constraints_uri)]
        return tuple(sorted({prefix for prefix in DataPrefix for key in keys if key.startswith(prefix.value)}))


@dataclass(frozen=True)
class ModelMonitoringProps:
    """The monitors of one endpoint: data quality (with a baseline) and model quality, and their alarms."""

    schedule: str = HOURLY
    """When the monitors run: hourly ``cron(0 * ? * * *)`` or daily ``cron(0 H ? * * *)``. Default: hourly."""
    instance_type: str = "ml.m5.large"
    """Processing instance type of the monitoring jobs. Default: ml.m5.large."""
    volume_size_gb: int = 20
    """Default: 20."""
    max_runtime_seconds: int = 1800
    """At most the schedule's interval (3600 for hourly). Default: 1800."""
    drift_features: tuple[str, ...] = ()
    """Features whose drift from the baseline raises an alarm. Default: none (drift is reported, no alarm)."""
    drift_threshold: float = 0.1
    """Distribution distance (0 to 1) above which a drift alarm fires. Default: 0.1, the baseline's
    comparison_threshold."""
    model_quality: bool = True
    """Monitor the quality gate's metric over uploaded ground truth. Default: true."""
    baseline: MonitoringBaseline | None = None
    """Data quality runs only with a baseline. Default: none."""
    retrain_on_alarm: bool = False
    """Start the training pipeline when a drift or model-quality alarm goes into ALARM. Default: false."""
    retrain_min_interval_hours: int = 24
    """The least time between two starts of the pipeline on an alarm; any execution counts. Default: 24."""

    @property
    def period_seconds(self) -> int:
        """The interval between runs: an hour or a day."""
        match = _SCHEDULE.match(self.schedule)
        return 3600 if not match or match["hour"] == "*" else 86400

    def problems(self) -> list[Problem]:
        problems = []
        if not _SCHEDULE.match(self.schedule):
            problems.append(
                Problem("schedule", self.schedule, f"hourly {HOURLY} or daily cron(0 H ? * * *) with H from 0 to 23")
            )
        if self.instance_type not in allowed_instance_types(InstanceUse.PROCESSING):
            problems.append(Problem("instance_type", self.instance_type, "a SageMaker processing instance type"))
        if not 1 <= self.volume_size_gb <= _MAX_VOLUME_SIZE_GB:
            problems.append(Problem("volume_size_gb", self.volume_size_gb, f"1 to {_MAX_VOLUME_SIZE_GB}"))
        if not 1 <= self.max_runtime_seconds <= min(self.period_seconds, _MAX_RUNTIME_SECONDS):
            problems.append(
                Problem(
                    "max_runtime_seconds",
                    self.max_runtime_seconds,
                    f"1 to {self.period_seconds}, the schedule's interval (a run ends before the next starts)",
                )
            )
        if not 0 < self.drift_threshold <= 1:
            problems.append(Problem("drift_threshold", self.drift_threshold, "above 0 and at most 1"))
        longest = _METRIC_NAME_LENGTH - len(MonitoringMetric.DRIFT_PREFIX)
        for index, name in enumerate(self.drift_features):
            if not 1 <= len(name) <= longest or self.drift_features.index(name) != index:
                problems.append(
                    Problem(f"drift_features[{index}]", name, f"a feature name of 1 to {longest} characters, once")
                )
        if self.drift_features and self.baseline is None:
            problems.append(Problem("drift_features", list(self.drift_features), "none without a baseline"))
        if self.baseline:
            problems += [problem.under("baseline") for problem in self.baseline.problems()]
        if not 1 <= self.retrain_min_interval_hours <= _MAX_RETRAIN_INTERVAL_HOURS:
            problems.append(
                Problem(
                    "retrain_min_interval_hours", self.retrain_min_interval_hours, f"1 to {_MAX_RETRAIN_INTERVAL_HOURS}"
                )
            )
        if self.retrain_on_alarm and not (self.model_quality or self.drift_features):
            problems.append(
                Problem("retrain_on_alarm", True, "false unless an alarm can fire: model_quality or drift_features")
            )
        return problems
