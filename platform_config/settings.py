"""Typed settings of one Region of the platform.

Every field states its default. ``environment_presets`` holds the defaults that differ between ``dev`` and
``prod``; the loader layers them under the user's ``defaults`` block and each Region's overrides.

Field validators check one value (its type, range, or what AWS accepts for it). Rules between fields, and rules
that depend on the environment, Region or account, are ``problems()`` methods: each returns every problem with
the key of the field it concerns, so the loader can name the cdk.json key path.
"""

from __future__ import annotations

import dataclasses
import re
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ml_constructs.pipeline_definition import QualityMetric
from ml_constructs.studio_props import (
    ExperimentTrackingProps,
    StudioDomainProps,
    UserProfileProps,
)
from ml_constructs.training_pipeline_props import QualityGate, TrainingPipelineProps
from platform_config.container import hyperparameter_problems, image_accelerators
from platform_config.schedules import ScheduleTarget, schedule_problem
from platform_contract.instance_types import InstanceUse, instance_type_problems
from platform_contract.limits import LOG_RETENTION_DAYS, MAX_USER_TAGS
from platform_contract.personas import Persona
from platform_contract.problems import Problem


class Environment(str, Enum):
    DEV = "dev"
    PROD = "prod"


_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
# Tag keys and values, as the Resource Groups Tagging API documents them (letters in any language).
_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$", re.UNICODE)
_MODEL_PACKAGE_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):"
    r"model-package/[A-Za-z0-9-]{1,63}/[0-9]+$"
)
_S3_MODEL_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+\.tar\.gz$")
# Domains reserved for documentation (RFC 2606 and RFC 6761): mail sent there reaches nobody.
_PLACEHOLDER_DOMAIN = re.compile(r"(^|\.)(example\.(com|net|org)|[^.]+\.(example|test|invalid|localhost))$")
PLACEHOLDER_ACCOUNT = "123456789012"
"""The account ID of AWS's documentation examples, and of the deploy rehearsal's emulator."""


def _refuse(allowed: str, reason: str = "") -> PydanticCustomError:
    """A field error in the platform's one message shape (the loader renders it as a Problem)."""
    return PydanticCustomError("platform", "{allowed}", {"allowed": allowed, "reason": reason})


def _instance_type_for(use: InstanceUse):
    def check(value: str) -> str:
        problems = instance_type_problems(value, use, image_accelerators=image_accelerators())
        if problems:
            raise _refuse(problems[0].allowed, problems[0].reason)
        return value

    return AfterValidator(check)


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise _refuse("an e-mail address, name@domain.tld")
    return value


def _schedule_for(target: ScheduleTarget):
    def check(value: str) -> str:
        problem = schedule_problem(value, target)
        if problem:
            reason, _, allowed = problem.partition("; allowed: ")
            raise _refuse(allowed, reason)
        return value

    return AfterValidator(check)


def _retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise _refuse(f"a CloudWatch Logs retention: {', '.join(map(str, LOG_RETENTION_DAYS))}")
    return value


def _tags(value: dict[str, str]) -> dict[str, str]:
    problems = []
    if len(value) > MAX_USER_TAGS:
        problems.append(f"{len(value)} tags (at most {MAX_USER_TAGS}: AWS allows 50 per resource)")
    for key, text in value.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:") or not _TAG_TEXT.match(key):
            problems.append(f"tag key '{key}'")
        if len(text) > 256 or not _TAG_TEXT.match(text):
            problems.append(f"tag value '{text}' of '{key}'")
    if problems:
        raise _refuse(
            f"at most {MAX_USER_TAGS} tags; keys of 1-128 and values of 0-256 letters, digits, spaces and _.:/=+-@, "
            "keys not starting with aws:",
            ", ".join(problems),
        )
    return value


TrainingInstanceType = Annotated[str, _instance_type_for(InstanceUse.TRAINING)]
# The evaluation runs a batch transform and then a processing job on the same type.
EvaluationInstanceType = Annotated[
    str, _instance_type_for(InstanceUse.TRANSFORM), _instance_type_for(InstanceUse.PROCESSING)
]
EndpointInstanceType = Annotated[str, _instance_type_for(InstanceUse.ENDPOINT)]
Email = Annotated[str, AfterValidator(_email)]
RetrainSchedule = Annotated[str, _schedule_for(ScheduleTarget.EVENTBRIDGE)]
CapacityScheduleExpression = Annotated[str, _schedule_for(ScheduleTarget.APPLICATION_AUTO_SCALING)]
RetentionDays = Annotated[int, AfterValidator(_retention)]
Tags = Annotated[dict[str, str], AfterValidator(_tags)]
Percent = Annotated[float, Field(gt=0, le=100)]
PositiveSeconds = Annotated[int, Field(gt=0)]


class Context(BaseModel):
    """What rules beyond one Region's settings depend on."""

    model_config = ConfigDict(frozen=True)

    environment: Environment
    region: str
    account: str | None


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def problems(self, context: Context) -> list[Problem]:
        """Rules between this section's fields; keys are field paths within the section."""
        return []


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


class QualityGateSettings(_Section):
    """The metric a newly trained model must reach before it is registered: ``QualityGate``'s fields, defaults and
    rules (ml_constructs/training_pipeline_props.py)."""

    metric: QualityMetric = QualityGate.metric
    threshold: float = QualityGate.threshold


class TrainingSettings(_Section):
    """How the Region's training pipeline trains and tests models. The pipeline's settings are
    ``TrainingPipelineProps``'s fields, with its defaults and rules (ml_constructs/training_pipeline_props.py);
    the config adds what only it knows: the image's hyperparameters and accelerators, and the retraining schedule."""

    instance_type: TrainingInstanceType = TrainingPipelineProps.instance_type
    instance_count: int = TrainingPipelineProps.instance_count
    volume_size_gb: int = TrainingPipelineProps.volume_size_gb
    use_spot_instances: bool = TrainingPipelineProps.use_spot_instances
    max_runtime_seconds: int = TrainingPipelineProps.max_runtime_seconds
    max_wait_seconds: PositiveSeconds = TrainingPipelineProps.max_wait_seconds
    transform_instance_type: EvaluationInstanceType = TrainingPipelineProps.transform_instance_type
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    """Passed to the container as strings and checked against its contract (training_code/contract.json), which
    requires target_column and task. Default: none (the container's defaults for the others)."""
    quality_gate: QualityGateSettings = QualityGateSettings()
    retrain_schedule: RetrainSchedule | None = None
    """EventBridge schedule that starts the pipeline. Default: none (no scheduled retraining)."""

    def pipeline_props(self, **more: Any) -> TrainingPipelineProps:
        """The pipeline's props from these settings, with ``more`` props the config does not hold."""
        settings = self.model_dump(include=_PIPELINE_SETTINGS)
        return TrainingPipelineProps(**settings, quality_gate=QualityGate(**self.quality_gate.model_dump()), **more)

    def problems(self, context: Context) -> list[Problem]:
        problems = [problem.under("hyperparameters") for problem in hyperparameter_problems(self.hyperparameters)]
        return problems + self.pipeline_props().problems()


class TrafficShiftingSettings(_Section):
    """Blue/green rollout of a new model."""

    mode: Literal["canary", "linear"] = "canary"
    """Default: canary."""
    step_percent: int = Field(10, gt=0, lt=100)
    """Capacity share moved first (canary) or per step (linear). Default: 10."""
    wait_seconds: int = Field(300, ge=0, le=3600)
    """Baking time after each step while the rollback alarms watch. Default: 300."""
    termination_wait_seconds: int = Field(120, ge=0, le=3600)
    """Time the old fleet is kept after the shift. Default: 120."""


# Settings that are the pipeline's props by name; the quality gate is a section of its own.
_PIPELINE_SETTINGS = {field.name for field in dataclasses.fields(TrainingPipelineProps)} & set(
    TrainingSettings.model_fields
) - {"quality_gate"}


class ScheduledCapacitySettings(_Section):
    """A recurring change of the autoscaling bounds, e.g. fewer instances at night."""

    name: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    schedule: CapacityScheduleExpression
    min_capacity: int = Field(ge=1)
    max_capacity: int = Field(ge=1)

    def problems(self, context: Context) -> list[Problem]:
        if self.min_capacity > self.max_capacity:
            return [Problem("min_capacity", self.min_capacity, f"at most max_capacity ({self.max_capacity})")]
        return []


class ServingSettings(_Section):
    """The Region's real-time endpoint."""

    model_package_arn: str | None = None
    """Approved model package of this Region's registry to serve. Default: none."""
    model_data_url: str | None = None
    """Or: an s3:// model.tar.gz to import. Default: none. Without either the Region has no serving stack."""
    instance_type: EndpointInstanceType = "ml.m5.large"
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
    traffic_shifting: TrafficShiftingSettings = TrafficShiftingSettings()
    scheduled_capacity: tuple[ScheduledCapacitySettings, ...] = ()
    """Default: none."""

    def problems(self, context: Context) -> list[Problem]:
        problems = []
        if self.model_package_arn and self.model_data_url:
            problems.append(Problem("model_data_url", self.model_data_url, "null when model_package_arn is set"))
        if self.model_package_arn:
            problems += self._model_package_problems(self.model_package_arn, context)
        if self.model_data_url and not _S3_MODEL_URI.match(self.model_data_url):
            problems.append(Problem("model_data_url", self.model_data_url, "s3://<bucket>/<key>.tar.gz"))
        if self.min_capacity > self.max_capacity:
            problems.append(Problem("min_capacity", self.min_capacity, f"at most max_capacity ({self.max_capacity})"))
        if context.environment == Environment.PROD and self.min_capacity < 2:
            problems.append(
                Problem("min_capacity", self.min_capacity, "2 or more in prod, so that an Availability Zone can fail")
            )
        if self.scale_in_cooldown_seconds <= self.scale_out_cooldown_seconds:
            problems.append(
                Problem(
                    "scale_in_cooldown_seconds",
                    self.scale_in_cooldown_seconds,
                    f"more than scale_out_cooldown_seconds ({self.scale_out_cooldown_seconds}), "
                    "so that scale-in is slower",
                )
            )
        for index, window in enumerate(self.scheduled_capacity):
            problems += [problem.under(f"scheduled_capacity[{index}]") for problem in window.problems(context)]
        return problems

    @staticmethod
    def _model_package_problems(arn: str, context: Context) -> list[Problem]:
        match = _MODEL_PACKAGE_ARN.match(arn)
        if not match:
            return [
                Problem(
                    "model_package_arn", arn, "arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>"
                )
            ]
        problems = []
        if match["region"] != context.region:
            problems.append(
                Problem("model_package_arn", arn, f"a package of this Region's registry ({context.region})")
            )
        if context.account and match["account"] != context.account:
            problems.append(
                Problem("model_package_arn", arn, f"a package of the platform's account ({context.account})")
            )
        return problems

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

    def problems(self, context: Context) -> list[Problem]:
        if self.datapoints_to_alarm > self.evaluation_periods:
            return [
                Problem(
                    "datapoints_to_alarm",
                    self.datapoints_to_alarm,
                    f"at most evaluation_periods ({self.evaluation_periods})",
                )
            ]
        return []


class UserProfileSettings(_Section):
    """One person's Studio user profile: ``UserProfileProps``'s fields (ml_constructs/studio_props.py)."""

    name: str
    persona: Persona = UserProfileProps.persona


class StudioSettings(_Section):
    """The Region's SageMaker Studio domain: ``StudioDomainProps``'s fields, defaults and rules
    (ml_constructs/studio_props.py), and whether the Region has one."""

    enabled: bool = False
    """Creates the domain, its user profiles and the VPC endpoints Studio needs. Default: false."""
    domain_name: str | None = StudioDomainProps.domain_name
    idle_timeout_minutes: int = StudioDomainProps.idle_timeout_minutes
    max_idle_timeout_minutes: int = StudioDomainProps.max_idle_timeout_minutes
    user_profiles: tuple[UserProfileSettings, ...] = ()

    def domain_props(self) -> StudioDomainProps:
        return StudioDomainProps(
            domain_name=self.domain_name,
            idle_timeout_minutes=self.idle_timeout_minutes,
            max_idle_timeout_minutes=self.max_idle_timeout_minutes,
            user_profiles=tuple(UserProfileProps(**profile.model_dump()) for profile in self.user_profiles),
        )

    def problems(self, context: Context) -> list[Problem]:
        problems = self.domain_props().problems()
        if self.user_profiles and not self.enabled:
            problems.append(Problem("enabled", self.enabled, "true when user_profiles are given"))
        return problems


class ExperimentsSettings(_Section):
    """The Region's MLflow tracking server: ``ExperimentTrackingProps``'s fields, defaults and rules
    (ml_constructs/studio_props.py), and whether the Region has one."""

    enabled: bool = False
    """Creates the tracking server; training runs then log their parameters, metrics and model to it.
    Default: false."""
    tracking_server_name: str | None = ExperimentTrackingProps.tracking_server_name
    tracking_server_size: str = ExperimentTrackingProps.tracking_server_size
    mlflow_version: str | None = ExperimentTrackingProps.mlflow_version
    weekly_maintenance_window_start: str | None = ExperimentTrackingProps.weekly_maintenance_window_start
    automatic_model_registration: bool = ExperimentTrackingProps.automatic_model_registration

    def tracking_props(self) -> ExperimentTrackingProps:
        return ExperimentTrackingProps(**self.model_dump(exclude={"enabled"}))

    def problems(self, context: Context) -> list[Problem]:
        return self.tracking_props().problems()


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
    studio: StudioSettings = StudioSettings()
    experiments: ExperimentsSettings = ExperimentsSettings()

    def problems(self, context: Context) -> list[Problem]:
        problems = []
        if context.environment == Environment.PROD:
            if not self.alarm_email:
                problems.append(Problem("alarm_email", None, "an address that receives alarms (required in prod)"))
            elif _PLACEHOLDER_DOMAIN.search(self.alarm_email.rsplit("@", 1)[-1].lower()):
                problems.append(
                    Problem(
                        "alarm_email",
                        self.alarm_email,
                        "an address that reaches your on-call team",
                        "a documentation domain that delivers no mail, refused in prod",
                    )
                )
        for name in type(self).model_fields:
            section: Any = getattr(self, name)
            if isinstance(section, _Section):
                problems += [problem.under(name) for problem in section.problems(context)]
        return problems


# Layered under the user's defaults: what prod tightens compared with dev.
environment_presets: dict[Environment, dict] = {
    Environment.DEV: {},
    Environment.PROD: {"serving": {"min_capacity": 2}},
}
