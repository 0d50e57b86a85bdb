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
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from data_preparation.settings import PreparationSettings, QualityRules, ValueRange
from ml_constructs.endpoint_alarms_props import EndpointAlarmsProps
from ml_constructs.model_endpoint_props import NO_MODEL, ModelEndpointProps, ScheduledCapacity
from ml_constructs.model_monitoring_props import ModelMonitoringProps, MonitoringBaseline
from ml_constructs.pipeline_spec import QualityMetric
from ml_constructs.region_budget_props import RegionBudgetProps
from ml_constructs.studio_props import (
    ExperimentTrackingProps,
    StudioDomainProps,
    UserProfileProps,
)
from ml_constructs.traffic_shifting import ShiftMode, TrafficShifting
from ml_constructs.training_pipeline_props import PreparationProps, QualityGate, TrainingPipelineProps
from platform_config.container import hyperparameter_problems, image_accelerators
from platform_config.schedules import ScheduleTarget, schedule_problem
from platform_contract.instance_types import InstanceUse, instance_type_problems
from platform_contract.limits import LOG_RETENTION_DAYS, MAX_USER_TAGS
from platform_contract.names import PLATFORM_TAG_KEY
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
        problems.append(f"{len(value)} tags (at most {MAX_USER_TAGS}: AWS allows 50 per resource, the platform sets 1)")
    for key, text in value.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:") or not _TAG_TEXT.match(key):
            problems.append(f"tag key '{key}'")
        elif key == PLATFORM_TAG_KEY:
            problems.append(f"tag key '{key}' (the platform's own: budgets and mlp cost select costs by it)")
        if len(text) > 256 or not _TAG_TEXT.match(text):
            problems.append(f"tag value '{text}' of '{key}'")
    if problems:
        raise _refuse(
            f"at most {MAX_USER_TAGS} tags; keys of 1-128 and values of 0-256 letters, digits, spaces and _.:/=+-@, "
            f"keys not starting with aws: and other than {PLATFORM_TAG_KEY}",
            ", ".join(problems),
        )
    return value


TrainingInstanceType = Annotated[str, _instance_type_for(InstanceUse.TRAINING)]
# The evaluation runs a batch transform and then a processing job on the same type.
EvaluationInstanceType = Annotated[
    str, _instance_type_for(InstanceUse.TRANSFORM), _instance_type_for(InstanceUse.PROCESSING)
]
EndpointInstanceType = Annotated[str, _instance_type_for(InstanceUse.ENDPOINT)]
ProcessingInstanceType = Annotated[str, _instance_type_for(InstanceUse.PROCESSING)]
Email = Annotated[str, AfterValidator(_email)]
RetrainSchedule = Annotated[str, _schedule_for(ScheduleTarget.EVENTBRIDGE)]
CapacityScheduleExpression = Annotated[str, _schedule_for(ScheduleTarget.APPLICATION_AUTO_SCALING)]
RetentionDays = Annotated[int, AfterValidator(_retention)]
Tags = Annotated[dict[str, str], AfterValidator(_tags)]
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


class ValueRangeSettings(_Section):
    """Inclusive bounds of a column's values: ``ValueRange``'s fields (data_preparation/settings.py)."""

    minimum: float | None = ValueRange.minimum
    maximum: float | None = ValueRange.maximum


class QualityRuleSettings(_Section):
    """The data-quality rules the Prepare step checks on the whole dataset: ``QualityRules``'s fields, defaults and
    rules (data_preparation/settings.py)."""

    required_columns: dict[str, str] = Field(default_factory=dict)
    max_null_fraction: dict[str, float] = Field(default_factory=dict)
    value_ranges: dict[str, ValueRangeSettings] = Field(default_factory=dict)
    min_rows: int = QualityRules.min_rows
    min_class_fraction: float | None = QualityRules.min_class_fraction

    def rules(self) -> QualityRules:
        return QualityRules(
            required_columns=self.required_columns,
            max_null_fraction=self.max_null_fraction,
            value_ranges={column: ValueRange(**bounds.model_dump()) for column, bounds in self.value_ranges.items()},
            min_rows=self.min_rows,
            min_class_fraction=self.min_class_fraction,
        )


class PreparationStepSettings(_Section):
    """The pipeline's Prepare step: ``PreparationSettings``'s fields, defaults and rules (data_preparation/settings.py)
    but its label and task, which are the hyperparameters target_column and task (what training reads is what
    preparation writes), and the cluster it runs on, ``PreparationProps``'s (ml_constructs/training_pipeline_props.py).
    """

    dataset: str
    """The folder under raw/ to prepare: the default of the RawDataset parameter. Required."""
    feature_columns: tuple[str, ...] = PreparationSettings.feature_columns
    train_fraction: float = PreparationSettings.train_fraction
    validation_fraction: float = PreparationSettings.validation_fraction
    test_fraction: float = PreparationSettings.test_fraction
    seed: int = PreparationSettings.seed
    rows_per_file: int = PreparationSettings.rows_per_file
    rules: QualityRuleSettings = QualityRuleSettings()
    instance_type: ProcessingInstanceType = PreparationProps.instance_type
    instance_count: int = PreparationProps.instance_count
    volume_size_gb: int = PreparationProps.volume_size_gb
    max_runtime_seconds: int = PreparationProps.max_runtime_seconds

    def props(self, hyperparameters: dict[str, str]) -> PreparationProps:
        job = self.model_dump(include=_JOB_SETTINGS)
        settings = PreparationSettings(
            **job,
            label_column=hyperparameters.get("target_column", ""),
            task=hyperparameters.get("task", ""),
            rules=self.rules.rules(),
        )
        return PreparationProps(settings=settings, **self.model_dump(include=_CLUSTER_SETTINGS))


# The Prepare step's settings by name: the job's (PreparationSettings) and the cluster's (PreparationProps).
_JOB_SETTINGS = {field.name for field in dataclasses.fields(PreparationSettings)} & set(
    PreparationStepSettings.model_fields
) - {"rules"}
_CLUSTER_SETTINGS = {field.name for field in dataclasses.fields(PreparationProps)} & set(
    PreparationStepSettings.model_fields
)


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
    """EventBridge schedule that starts the pipeline, on the configured raw dataset when ``preparation`` is set.
    Default: none (no scheduled retraining)."""
    preparation: PreparationStepSettings | None = None
    """The Prepare step, first in the pipeline. Default: none (the pipeline trains on a split dataset only)."""

    def pipeline_props(self, **more: Any) -> TrainingPipelineProps:
        """The pipeline's props from these settings, with ``more`` props the config does not hold."""
        settings = self.model_dump(include=_PIPELINE_SETTINGS)
        return TrainingPipelineProps(
            **settings,
            quality_gate=QualityGate(**self.quality_gate.model_dump()),
            preparation=self.preparation.props(self.hyperparameters) if self.preparation else None,
            **more,
        )

    def problems(self, context: Context) -> list[Problem]:
        problems = [problem.under("hyperparameters") for problem in hyperparameter_problems(self.hyperparameters)]
        return problems + self.pipeline_props().problems()


class TrafficShiftingSettings(_Section):
    """Blue/green rollout of a new model: ``TrafficShifting``'s fields, defaults and rules
    (ml_constructs/traffic_shifting.py)."""

    mode: ShiftMode = TrafficShifting.mode
    step_percent: int = TrafficShifting.step_percent
    wait_seconds: int = TrafficShifting.wait_seconds
    termination_wait_seconds: int = TrafficShifting.termination_wait_seconds


# Settings that are the pipeline's props by name; the quality gate and the Prepare step are sections of their own.
_PIPELINE_SETTINGS = {field.name for field in dataclasses.fields(TrainingPipelineProps)} & set(
    TrainingSettings.model_fields
) - {"quality_gate", "preparation"}


class ScheduledCapacitySettings(_Section):
    """A recurring change of the autoscaling bounds: ``ScheduledCapacity``'s fields and rules
    (ml_constructs/model_endpoint_props.py); the config checks the schedule expression."""

    name: str
    schedule: CapacityScheduleExpression
    min_capacity: int
    max_capacity: int


class MonitoringBaselineSettings(_Section):
    """The served package's Model Monitor baseline: ``MonitoringBaseline``'s fields and rules
    (ml_constructs/model_monitoring_props.py). ``mlp promote`` records it with the package it promotes."""

    statistics_uri: str
    constraints_uri: str

    def problems(self, context: Context) -> list[Problem]:
        return MonitoringBaseline(**self.model_dump()).problems()


class MonitoringSettings(_Section):
    """Data- and model-quality monitoring of the endpoint: ``ModelMonitoringProps``'s fields, defaults and rules
    (ml_constructs/model_monitoring_props.py), plus whether to monitor at all."""

    enabled: bool = True
    """Default: true."""
    schedule: str = ModelMonitoringProps.schedule
    instance_type: ProcessingInstanceType = ModelMonitoringProps.instance_type
    volume_size_gb: int = ModelMonitoringProps.volume_size_gb
    max_runtime_seconds: int = ModelMonitoringProps.max_runtime_seconds
    drift_features: tuple[str, ...] = ModelMonitoringProps.drift_features
    drift_threshold: float = ModelMonitoringProps.drift_threshold
    model_quality: bool = ModelMonitoringProps.model_quality
    baseline: MonitoringBaselineSettings | None = None
    retrain_on_alarm: bool = ModelMonitoringProps.retrain_on_alarm
    retrain_min_interval_hours: int = ModelMonitoringProps.retrain_min_interval_hours

    def props(self) -> ModelMonitoringProps:
        """The construct's props from these settings."""
        fields = self.model_dump(exclude={"enabled", "baseline"})
        return ModelMonitoringProps(
            **fields, baseline=MonitoringBaseline(**self.baseline.model_dump()) if self.baseline else None
        )

    def problems(self, context: Context) -> list[Problem]:
        return self.props().problems() if self.enabled else []


class ServingSettings(_Section):
    """The Region's real-time endpoint. Its settings are ``ModelEndpointProps``'s fields, with its defaults and
    rules (ml_constructs/model_endpoint_props.py); the config adds what only it knows: the image's instance
    types, and the Region and account a model package must belong to. Without a model the Region has no
    serving stack, and the other settings are still checked."""

    model_package_arn: str | None = ModelEndpointProps.model_package_arn
    model_data_url: str | None = ModelEndpointProps.model_data_url
    instance_type: EndpointInstanceType = ModelEndpointProps.instance_type
    min_capacity: int = ModelEndpointProps.min_capacity
    """Default: 1 in dev, 2 in prod (SageMaker then spreads instances over Availability Zones)."""
    max_capacity: int = ModelEndpointProps.max_capacity
    max_requests_per_second_per_instance: float = ModelEndpointProps.max_requests_per_second_per_instance
    scaling_safety_factor: float = ModelEndpointProps.scaling_safety_factor
    target_invocations_per_instance: int | None = ModelEndpointProps.target_invocations_per_instance
    scale_out_cooldown_seconds: int = ModelEndpointProps.scale_out_cooldown_seconds
    scale_in_cooldown_seconds: int = ModelEndpointProps.scale_in_cooldown_seconds
    data_capture_sampling_percent: int = ModelEndpointProps.data_capture_sampling_percent
    traffic_shifting: TrafficShiftingSettings = TrafficShiftingSettings()
    scheduled_capacity: tuple[ScheduledCapacitySettings, ...] = ()
    maximum_execution_timeout_seconds: int | None = ModelEndpointProps.maximum_execution_timeout_seconds
    scale_to_zero: bool = ModelEndpointProps.scale_to_zero
    """Default: true in dev (an idle endpoint costs nothing), false in prod (refused there: prod keeps two
    instances)."""
    max_concurrent_requests_per_instance: int = ModelEndpointProps.max_concurrent_requests_per_instance
    copy_memory_mb: int = ModelEndpointProps.copy_memory_mb
    monitoring: MonitoringSettings = MonitoringSettings()

    @property
    def serves_a_model(self) -> bool:
        return bool(self.model_package_arn or self.model_data_url)

    def endpoint_props(self, **more: Any) -> ModelEndpointProps:
        """The endpoint's props from these settings, with ``more`` props the config does not hold."""
        return ModelEndpointProps(
            **self.model_dump(include=_ENDPOINT_SETTINGS),
            traffic_shifting=TrafficShifting(**self.traffic_shifting.model_dump()),
            scheduled_capacity=tuple(ScheduledCapacity(**window.model_dump()) for window in self.scheduled_capacity),
            **more,
        )

    def problems(self, context: Context) -> list[Problem]:
        props = self.endpoint_props(high_availability=context.environment == Environment.PROD)
        problems = [problem for problem in props.problems() if self.serves_a_model or problem != NO_MODEL]
        if self.model_package_arn:
            problems += self._model_package_problems(self.model_package_arn, context)
        if self.model_data_url and not _S3_MODEL_URI.match(self.model_data_url):
            problems.append(Problem("model_data_url", self.model_data_url, "s3://<bucket>/<key>.tar.gz"))
        return problems + [problem.under("monitoring") for problem in self.monitoring.problems(context)]

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


# Settings that are the endpoint's props by name; traffic shifting and scheduled capacity are sections of their own.
_ENDPOINT_SETTINGS = {field.name for field in dataclasses.fields(ModelEndpointProps)} & set(
    ServingSettings.model_fields
) - {"traffic_shifting", "scheduled_capacity"}


class AlarmSettings(_Section):
    """Thresholds of the endpoint alarms that page the Region's topic: ``EndpointAlarmsProps``'s fields, defaults
    and rules (ml_constructs/endpoint_alarms_props.py). The endpoint's rollback alarms use the server error rate
    and model latency thresholds too."""

    server_error_rate_percent: float = EndpointAlarmsProps.server_error_rate_percent
    client_error_rate_percent: float = EndpointAlarmsProps.client_error_rate_percent
    model_latency_p99_ms: float = EndpointAlarmsProps.model_latency_p99_ms
    overhead_latency_p99_ms: float = EndpointAlarmsProps.overhead_latency_p99_ms
    cpu_utilization_percent: float = EndpointAlarmsProps.cpu_utilization_percent
    memory_utilization_percent: float = EndpointAlarmsProps.memory_utilization_percent
    disk_utilization_percent: float = EndpointAlarmsProps.disk_utilization_percent
    invocations_per_instance_percent_of_max: float = EndpointAlarmsProps.invocations_per_instance_percent_of_max
    period_seconds: int = EndpointAlarmsProps.period_seconds
    evaluation_periods: int = EndpointAlarmsProps.evaluation_periods
    datapoints_to_alarm: int = EndpointAlarmsProps.datapoints_to_alarm

    def alarms_props(self) -> EndpointAlarmsProps:
        return EndpointAlarmsProps(**self.model_dump())

    def problems(self, context: Context) -> list[Problem]:
        return self.alarms_props().problems()


class CostSettings(_Section):
    """The Region's monthly cost budget: ``RegionBudgetProps``'s fields, defaults and rules
    (ml_constructs/region_budget_props.py). Without ``monthly_budget`` the Region has no budget."""

    monthly_budget: float | None = None
    """The month's budget of the Region's tagged costs. Default: none (no budget)."""
    currency: str = RegionBudgetProps.currency
    actual_alert_percentages: tuple[float, ...] = RegionBudgetProps.actual_alert_percentages
    forecast_alert_percentages: tuple[float, ...] = RegionBudgetProps.forecast_alert_percentages

    def budget_props(self) -> RegionBudgetProps | None:
        if self.monthly_budget is None:
            return None
        return RegionBudgetProps(**self.model_dump())

    def problems(self, context: Context) -> list[Problem]:
        props = self.budget_props()
        return props.problems() if props else []


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
    cost: CostSettings = CostSettings()
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
    Environment.DEV: {"serving": {"scale_to_zero": True}},
    Environment.PROD: {"serving": {"min_capacity": 2}},
}
