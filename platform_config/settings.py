"""Typed settings of one Region of the platform.

Every field states its default. ``environment_presets`` holds the defaults that
differ between ``dev`` and ``prod``; the loader layers them under the user's
``defaults`` block and each Region's overrides.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)


class Environment(str, Enum):
    DEV = "dev"
    PROD = "prod"


# Values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

_ML_INSTANCE_TYPE = re.compile(r"^ml\.[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|[0-9]*xlarge|metal)$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_SCHEDULE = re.compile(r"^(cron\(\S+( \S+){5}\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\))$")
_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$", re.UNICODE)
_MODEL_PACKAGE_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):[0-9]{12}:model-package/[A-Za-z0-9-]{1,63}/[0-9]+$"
)
_S3_MODEL_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+\.tar\.gz$")


def _ml_instance_type(value: str) -> str:
    if not _ML_INSTANCE_TYPE.match(value):
        raise ValueError(f"'{value}' is not a SageMaker instance type; allowed: ml.<family>.<size>, e.g. ml.m5.xlarge")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"'{value}' is not an e-mail address; allowed: name@domain.tld")
    return value


def _schedule(value: str) -> str:
    if not _SCHEDULE.match(value):
        raise ValueError(
            f"'{value}' is not an EventBridge schedule; allowed: cron(min hour day month weekday year) or rate(N unit)"
        )
    return value


def _retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"{value} is not a CloudWatch Logs retention; allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}"
        )
    return value


def _tags(value: dict[str, str]) -> dict[str, str]:
    problems = []
    for key, text in value.items():
        if not 1 <= len(key) <= 128 or key.startswith("aws:") or not _TAG_TEXT.match(key):
            problems.append(f"tag key '{key}' (allowed: 1-128 letters, digits, spaces and _.:/=+-@, not starting aws:)")
        if len(text) > 256 or not _TAG_TEXT.match(text):
            problems.append(f"tag value '{text}' of '{key}' (allowed: 0-256 letters, digits, spaces and _.:/=+-@)")
    if problems:
        raise ValueError("invalid " + "; ".join(problems))
    return value


MlInstanceType = Annotated[str, AfterValidator(_ml_instance_type)]
Email = Annotated[str, AfterValidator(_email)]
Schedule = Annotated[str, AfterValidator(_schedule)]
RetentionDays = Annotated[int, AfterValidator(_retention)]
Tags = Annotated[dict[str, str], AfterValidator(_tags)]
Percent = Annotated[float, Field(gt=0, le=100)]
PositiveSeconds = Annotated[int, Field(gt=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSettings(_Section):
    """The Region's data bucket and its access-log bucket."""

    noncurrent_version_expiration_days: int = Field(90, gt=0)
    """Days a replaced or deleted object version is kept before it expires. Default: 90."""
    intelligent_tiering_transition_days: int = Field(0, ge=0)
    """Days after upload when objects move to S3 Intelligent-Tiering. Default: 0 (at once)."""
    incomplete_multipart_upload_days: int = Field(7, gt=0)
    """Days before unfinished multipart uploads are aborted. Default: 7."""
    access_log_expiration_days: int = Field(365, gt=0)
    """Days server access logs are kept. Default: 365."""


class QualityGate(_Section):
    """The metric a newly trained model must reach before it is registered."""

    metric: Literal["auc", "accuracy", "rmse", "mae"] = "auc"
    """Evaluation metric; auc and accuracy must reach the threshold, rmse and mae stay at or under it. Default: auc."""
    threshold: float = Field(0.75, gt=0)
    """Default: 0.75."""


class TrainingSettings(_Section):
    """How the Region's training pipeline trains and tests models."""

    instance_type: MlInstanceType = "ml.m5.xlarge"
    """Default: ml.m5.xlarge."""
    instance_count: int = Field(1, ge=1, le=100)
    """Default: 1. More than one trains with the container's distributed mode."""
    volume_size_gb: int = Field(30, ge=1, le=16384)
    """Default: 30."""
    use_spot_instances: bool = True
    """Managed spot training, resuming from checkpoints. Default: true."""
    max_runtime_seconds: PositiveSeconds = 3600
    """Default: 3600."""
    max_wait_seconds: PositiveSeconds = 7200
    """Time to wait for spot capacity plus training; at least max_runtime_seconds. Default: 7200."""
    transform_instance_type: MlInstanceType = "ml.m5.large"
    """Instance type of the batch-transform evaluation. Default: ml.m5.large."""
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    """Passed to the container as strings. Default: none (the container's defaults)."""
    quality_gate: QualityGate = QualityGate()
    retrain_schedule: Schedule | None = None
    """EventBridge schedule that starts the pipeline. Default: none (no scheduled retraining)."""

    @model_validator(mode="after")
    def _wait_covers_runtime(self) -> TrainingSettings:
        if self.use_spot_instances and self.max_wait_seconds < self.max_runtime_seconds:
            raise ValueError(
                f"max_wait_seconds ({self.max_wait_seconds}) must be at least max_runtime_seconds "
                f"({self.max_runtime_seconds}) with spot instances"
            )
        return self


class TrafficShifting(_Section):
    """Blue/green rollout of a new model."""

    mode: Literal["canary", "linear"] = "canary"
    """Default: canary."""
    step_percent: int = Field(10, gt=0, lt=100)
    """Capacity share moved first (canary) or per step (linear). Default: 10."""
    wait_seconds: int = Field(300, ge=0, le=3600)
    """Baking time after each step while the rollback alarms watch. Default: 300."""
    termination_wait_seconds: int = Field(120, ge=0, le=3600)
    """Time the old fleet is kept after the shift. Default: 120."""


class ScheduledCapacity(_Section):
    """A recurring change of the autoscaling bounds, e.g. fewer instances at night."""

    name: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    schedule: Schedule
    min_capacity: int = Field(ge=1)
    max_capacity: int = Field(ge=1)


class ServingSettings(_Section):
    """The Region's real-time endpoint."""

    model_package_arn: str | None = None
    """Approved model package of this Region's registry to serve. Default: none."""
    model_data_url: str | None = None
    """Or: an s3:// model.tar.gz to import. Default: none. Without either the Region has no serving stack."""
    instance_type: MlInstanceType = "ml.m5.large"
    """Default: ml.m5.large."""
    min_capacity: int = Field(1, ge=1)
    """Default: 1 in dev, 2 in prod (SageMaker then spreads instances over Availability Zones)."""
    max_capacity: int = Field(4, ge=1)
    """Default: 4."""
    max_requests_per_second_per_instance: float = Field(3200.0, gt=0)
    """Maximum sustainable load of one instance: the image's server sustained 3262 req/s of 100-row requests
    on 2 vCPUs (ml.m5.large has 2), see docs/serving-benchmark.md; remeasure for your model. Default: 3200."""
    scaling_safety_factor: float = Field(0.5, gt=0, le=1)
    """Share of the measured maximum that autoscaling aims for. Default: 0.5."""
    target_invocations_per_instance: int | None = Field(None, gt=0)
    """Overrides the derived per-minute target. Default: max rps × 60 × safety factor."""
    scale_out_cooldown_seconds: PositiveSeconds = 60
    """Default: 60."""
    scale_in_cooldown_seconds: PositiveSeconds = 600
    """Longer than scale-out so that capacity is not dropped between bursts. Default: 600."""
    data_capture_sampling_percent: int = Field(20, gt=0, le=100)
    """Share of requests and responses captured to capture/. Default: 20."""
    traffic_shifting: TrafficShifting = TrafficShifting()
    scheduled_capacity: tuple[ScheduledCapacity, ...] = ()
    """Default: none."""

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> ServingSettings:
        problems = []
        if self.model_package_arn and self.model_data_url:
            problems.append("give model_package_arn or model_data_url, not both")
        if self.model_package_arn:
            match = _MODEL_PACKAGE_ARN.match(self.model_package_arn)
            region = (info.context or {}).get("region")
            if not match:
                problems.append(
                    f"model_package_arn '{self.model_package_arn}' is not a model package version ARN; allowed: "
                    "arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>"
                )
            elif region and match["region"] != region:
                problems.append(
                    f"model_package_arn is in {match['region']}; allowed: a "
                    f"package of this Region's registry ({region})"
                )
        if self.model_data_url and not _S3_MODEL_URI.match(self.model_data_url):
            problems.append(
                f"model_data_url '{self.model_data_url}' is not allowed; allowed: s3://<bucket>/<key>.tar.gz"
            )
        if self.min_capacity > self.max_capacity:
            problems.append(f"min_capacity ({self.min_capacity}) must not exceed max_capacity ({self.max_capacity})")
        if (info.context or {}).get("environment") == Environment.PROD and self.min_capacity < 2:
            problems.append(
                f"min_capacity is {self.min_capacity}; prod needs at least 2 so that an Availability Zone can fail"
            )
        if self.scale_in_cooldown_seconds <= self.scale_out_cooldown_seconds:
            problems.append(
                f"scale_in_cooldown_seconds ({self.scale_in_cooldown_seconds}) must exceed "
                f"scale_out_cooldown_seconds ({self.scale_out_cooldown_seconds}) so that scale-in is slower"
            )
        for window in self.scheduled_capacity:
            if window.min_capacity > window.max_capacity:
                problems.append(
                    f"scheduled_capacity '{window.name}': min_capacity ({window.min_capacity}) "
                    f"must not exceed max_capacity ({window.max_capacity})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def target_invocations_per_minute(self) -> int:
        """Target of the invocations-per-instance scaling policy (per minute, as SageMaker reports it)."""
        if self.target_invocations_per_instance is not None:
            return self.target_invocations_per_instance
        return max(1, int(self.max_requests_per_second_per_instance * 60 * self.scaling_safety_factor))


class AlarmSettings(_Section):
    """Thresholds of the endpoint alarms that page the Region's topic."""

    server_error_rate_percent: Percent = 1.0
    """5XX responses as a share of invocations. Default: 1."""
    client_error_rate_percent: Percent = 5.0
    """4XX responses as a share of invocations. Default: 5."""
    model_latency_p99_ms: float = Field(250.0, gt=0)
    """Default: 250."""
    overhead_latency_p99_ms: float = Field(50.0, gt=0)
    """Default: 50."""
    cpu_utilization_percent: Percent = 80.0
    """Average over the instance's vCPUs. Default: 80."""
    memory_utilization_percent: Percent = 85.0
    """Default: 85."""
    disk_utilization_percent: Percent = 80.0
    """Default: 80."""
    invocations_per_instance_percent_of_max: Percent = 90.0
    """Invocations per instance near the measured maximum. Default: 90."""
    period_seconds: Literal[60, 300] = 60
    """Default: 60."""
    evaluation_periods: int = Field(5, ge=1, le=60)
    """Default: 5."""
    datapoints_to_alarm: int = Field(3, ge=1, le=60)
    """Default: 3."""

    @model_validator(mode="after")
    def _datapoints_fit(self) -> AlarmSettings:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(
                f"datapoints_to_alarm ({self.datapoints_to_alarm}) must not exceed "
                f"evaluation_periods ({self.evaluation_periods})"
            )
        return self


class RegionSettings(_Section):
    """Everything that can differ between Regions; the ``defaults`` block and each Region's overrides."""

    alarm_email: Email | None = None
    """Receives alarms and pipeline events. Default: none in dev; required in prod."""
    tags: Tags = Field(default_factory=dict)
    """Added to every resource of the Region. Default: none."""
    log_retention_days: RetentionDays = 365
    """Retention of every log group the platform creates. Default: 365."""
    data: DataSettings = DataSettings()
    training: TrainingSettings = TrainingSettings()
    serving: ServingSettings = ServingSettings()
    alarms: AlarmSettings = AlarmSettings()

    @model_validator(mode="after")
    def _prod_needs_a_pager(self, info: ValidationInfo) -> RegionSettings:
        if (info.context or {}).get("environment") == Environment.PROD and not self.alarm_email:
            raise ValueError("alarm_email is required in prod; allowed: an address that receives alarms")
        return self


# Layered under the user's defaults: what prod tightens compared with dev.
environment_presets: dict[Environment, dict] = {
    Environment.DEV: {},
    Environment.PROD: {"serving": {"min_capacity": 2}},
}
