"""What a TrainingPipeline trains with: one frozen props object, its defaults and the rules SageMaker enforces.

Field names are the keys of the ``training`` section of cdk.json, so a problem's key is the config path below it.
Standard library, ``platform_contract`` and ``data_preparation.settings`` (standard library only) only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from data_preparation import settings as preparation
from data_preparation.settings import PreparationSettings
from ml_constructs.pipeline_spec import HIGHER_IS_BETTER, QUALITY_METRICS, QualityMetric
from platform_contract.instance_types import Accelerator, InstanceType, InstanceUse, allowed_instance_types
from platform_contract.limits import MAX_TAGS_PER_RESOURCE
from platform_contract.problems import Problem

# Limits of CreateTrainingJob (SageMaker API reference: ResourceConfig, StoppingCondition, HyperParameters,
# AlgorithmSpecification.MetricDefinitions) and CreatePipeline's PipelineName.
MAX_INSTANCE_COUNT = 100
MAX_VOLUME_SIZE_GB = 16384
MAX_RUNTIME_SECONDS = 28 * 24 * 3600
MAX_HYPERPARAMETERS = 100
MAX_METRIC_DEFINITIONS = 40
# CreateProcessingJob: ProcessingClusterConfig.InstanceCount and ProcessingStoppingCondition.MaxRuntimeInSeconds.
MAX_PROCESSING_INSTANCE_COUNT = 100
MAX_PROCESSING_RUNTIME_SECONDS = 777600
_PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
_PIPELINE_NAME_MAX_LENGTH = 256


@dataclass(frozen=True)
class MetricDefinition:
    """A metric SageMaker reads from the training log: the first group of ``regex`` is its value."""

    name: str
    regex: str

    @classmethod
    def list_from_file(cls, path: Path) -> tuple[MetricDefinition, ...]:
        """Reads a JSON list of ``{"Name": ..., "Regex": ...}`` objects, as training_code/metric_definitions.json
        ships them."""
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"Cannot read metric definitions from {path}: {error}") from None
        problems = []
        if not isinstance(entries, list):
            problems.append("the file must hold a JSON list")
            entries = []
        for index, entry in enumerate(entries):
            if not (
                isinstance(entry, dict)
                and set(entry) == {"Name", "Regex"}
                and all(isinstance(v, str) for v in entry.values())
            ):
                problems.append(f"entry {index} is {entry!r}; allowed: an object with the strings Name and Regex only")
        if problems:
            raise ValueError(f"Invalid metric definitions in {path}: " + "; ".join(problems))
        return tuple(cls(entry["Name"], entry["Regex"]) for entry in entries)


@dataclass(frozen=True)
class QualityGate:
    """The evaluation metric a new model must reach before it is registered."""

    metric: QualityMetric = "auc"
    """auc and accuracy must be at least ``threshold``; rmse and mae at most. Default: auc."""
    threshold: float = 0.75
    """Above 0, and at most 1 for auc and accuracy. Default: 0.75; each execution may override it with the
    QualityThreshold parameter."""

    def problems(self) -> list[Problem]:
        if self.metric not in QUALITY_METRICS:
            return [Problem("metric", self.metric, ", ".join(QUALITY_METRICS))]
        higher_is_better = self.metric in HIGHER_IS_BETTER
        if 0 < self.threshold <= (1 if higher_is_better else float("inf")):
            return []
        allowed = "above 0 and at most 1" if higher_is_better else "above 0"
        return [Problem("threshold", self.threshold, allowed, f"for {self.metric}")]


class _Described(str):
    """What data_preparation found, in its words: rendered as written, not quoted."""

    def __repr__(self) -> str:
        return str(self)


def _from_preparation(problem: preparation.Problem) -> Problem:
    """data_preparation's problem (``key: <found> is not allowed; allowed: …``) in the platform's one shape."""
    return Problem(problem.key, _Described(problem.found.removesuffix(" is not allowed")), problem.allowed)


@dataclass(frozen=True)
class PreparationProps:
    """The Prepare step: data_preparation's Spark job, its settings and the cluster it runs on.

    Problems of ``settings`` are keyed by their own names (``train_fraction``, ``rules.value_ranges.age``), as the
    config's ``training.preparation`` section spells them.
    """

    settings: PreparationSettings
    """What the job does with the dataset (data_preparation/settings.py documents every default). Required."""
    instance_type: str = "ml.m5.xlarge"
    """A processing type of AWS's Spark image: x86, no accelerator. Default: ml.m5.xlarge."""
    instance_count: int = 1
    """Instances of the one Spark cluster (YARN), 1-100. Default: 1."""
    volume_size_gb: int = 30
    """Storage of each instance, 1-16384 GiB: each holds the whole raw dataset (FullyReplicated) and its HDFS share.
    Default: 30."""
    max_runtime_seconds: int = 3600
    """Longest run, up to 9 days. Default: 3600."""

    def problems(self) -> list[Problem]:
        problems = [_from_preparation(problem) for problem in self.settings.problems()]
        parsed = InstanceType.parse(self.instance_type)
        if (
            self.instance_type not in allowed_instance_types(InstanceUse.PROCESSING)
            or parsed is None
            or parsed.family.arm64
            or parsed.family.accelerator != Accelerator.NONE
        ):
            problems.append(
                Problem("instance_type", self.instance_type, "an x86 SageMaker processing instance type without GPU")
            )
        for key, value, low, high in (
            ("instance_count", self.instance_count, 1, MAX_PROCESSING_INSTANCE_COUNT),
            ("volume_size_gb", self.volume_size_gb, 1, MAX_VOLUME_SIZE_GB),
            ("max_runtime_seconds", self.max_runtime_seconds, 1, MAX_PROCESSING_RUNTIME_SECONDS),
        ):
            if not low <= value <= high:
                problems.append(Problem(key, value, f"{low} to {high}"))
        settings = self.settings
        if settings.feature_columns:
            # With the features listed, the settings name every column training reads; a rule on another column
            # is a typo unless required_columns names it too.
            known = (settings.label_column, *settings.feature_columns, *settings.rules.required_columns)
            problems += [
                Problem(
                    key,
                    column,
                    f"a column the settings name: {', '.join(dict.fromkeys(known))}",
                    "not the label, a feature or a required column",
                )
                for column, key in settings.rules.columns().items()
                if column not in known
            ]
        return problems


@dataclass(frozen=True)
class TrainingPipelineProps:
    """How the pipeline trains, evaluates and gates models; every field has its default here and only here."""

    instance_type: str = "ml.m5.xlarge"
    """Default of the TrainingInstanceType parameter, which accepts the x86 training types of the same storage kind:
    with local NVMe storage (no volume key: SageMaker rejects one, the hardware encrypts it) or without (volumes
    encrypted with the Region's key). Default: ml.m5.xlarge."""
    instance_count: int = 1
    """Default of TrainingInstanceCount, 1-100. Default: 1."""
    volume_size_gb: int = 30
    """Storage of each training instance, 1-16384 GiB. Default: 30."""
    use_spot_instances: bool = True
    """Default of UseSpotInstances. Default: true."""
    max_runtime_seconds: int = 3600
    """Longest run of a training or evaluation job, up to 28 days. Default: 3600."""
    max_wait_seconds: int = 7200
    """Longest wait for spot capacity plus run; at least ``max_runtime_seconds`` with spot. Default: 7200."""
    transform_instance_type: str = "ml.m5.large"
    """Instance type of the batch transform and the evaluation; their volumes get the Region's key unless it has
    local storage. Default: ml.m5.large."""
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    """Passed to ``train`` as strings, at most 100. Default: none (the container's defaults)."""
    quality_gate: QualityGate = QualityGate()
    """What a model must reach to be registered. Default: auc of at least 0.75."""
    metric_definitions: tuple[MetricDefinition, ...] = ()
    """Metrics SageMaker records from the training log, at most 40. Default: none."""
    pipeline_name: str | None = None
    """Default: ``<stack name>-<id>``, lower case."""
    preparation: PreparationProps | None = None
    """The Prepare step, first: it splits raw/<dataset>/ for the other steps, unless an execution gives InputDataUri.
    Its label and task are the hyperparameters target_column and task. Default: none (no Prepare step; the pipeline
    trains on InputDataUri, default datasets/)."""
    job_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every job and model an execution creates (SageMaker does not pass the pipeline's tags on), at most
    50 with ``stack_job_tag``. Default: none."""
    stack_job_tag: tuple[str, str] | None = None
    """One more tag (key, value) of every job and model, whose value differs per stack, such as a Region's
    cost-allocation tag. Its value is filled in at deploy time, so that pipelines whose other props are equal
    share one generated definition. Default: none."""

    @property
    def training_instance_types(self) -> tuple[str, ...]:
        """What TrainingInstanceType accepts: the x86 training types that store volumes as ``instance_type`` does
        (a definition with a volume key is valid only for types without local storage, and vice versa)."""
        local = has_local_storage(self.instance_type)
        return tuple(
            sorted(
                name
                for name in allowed_instance_types(InstanceUse.TRAINING)
                if (parsed := InstanceType.parse(name))
                and parsed.family.local_storage == local
                and not parsed.family.arm64
            )
        )

    def problems(self) -> list[Problem]:
        """Every value SageMaker would refuse, each keyed by its field (a dotted path for the quality gate)."""
        problems = []
        if self.instance_type not in self.training_instance_types:
            problems.append(Problem("instance_type", self.instance_type, "an x86 SageMaker training instance type"))
        transform_types = allowed_instance_types(InstanceUse.TRANSFORM) & allowed_instance_types(InstanceUse.PROCESSING)
        if self.transform_instance_type not in transform_types:
            problems.append(
                Problem("transform_instance_type", self.transform_instance_type, "a transform and processing type")
            )
        for key, value, low, high in (
            ("instance_count", self.instance_count, 1, MAX_INSTANCE_COUNT),
            ("volume_size_gb", self.volume_size_gb, 1, MAX_VOLUME_SIZE_GB),
            ("max_runtime_seconds", self.max_runtime_seconds, 1, MAX_RUNTIME_SECONDS),
        ):
            if not low <= value <= high:
                problems.append(Problem(key, value, f"{low} to {high}"))
        if self.use_spot_instances and self.max_wait_seconds < self.max_runtime_seconds:
            problems.append(
                Problem(
                    "max_wait_seconds",
                    self.max_wait_seconds,
                    f"at least max_runtime_seconds ({self.max_runtime_seconds})",
                    "spot training waits for capacity and then runs",
                )
            )
        if len(self.hyperparameters) > MAX_HYPERPARAMETERS:
            problems.append(Problem("hyperparameters", f"<{len(self.hyperparameters)} entries>", "at most 100"))
        problems += [
            Problem(f"hyperparameters.{key[:40]}", value[:40], "a key of 1-256 characters and a value of at most 2500")
            for key, value in self.hyperparameters.items()
            if not (1 <= len(key) <= 256 and len(value) <= 2500)
        ]
        if len(self.metric_definitions) > MAX_METRIC_DEFINITIONS:
            problems.append(Problem("metric_definitions", f"<{len(self.metric_definitions)} entries>", "at most 40"))
        problems += [
            Problem(f"metric_definitions[{index}]", definition.name, "a name of 1-255 and a regex of 1-500 characters")
            for index, definition in enumerate(self.metric_definitions)
            if not (1 <= len(definition.name) <= 255 and 1 <= len(definition.regex) <= 500)
        ]
        problems += [problem.under("quality_gate") for problem in self.quality_gate.problems()]
        if self.pipeline_name is not None:
            problems += pipeline_name_problems(self.pipeline_name)
        if self.preparation is not None:
            problems += [problem.under("preparation") for problem in self.preparation.problems()]
            for setting, hyperparameter in (("label_column", "target_column"), ("task", "task")):
                value = getattr(self.preparation.settings, setting)
                if self.hyperparameters.get(hyperparameter) != value:
                    problems.append(
                        Problem(
                            f"preparation.{setting}",
                            value,
                            f"the hyperparameter {hyperparameter} ({self.hyperparameters.get(hyperparameter)!r})",
                            "training reads what preparation writes",
                        )
                    )
        tag_count = len(self.job_tags) + (self.stack_job_tag is not None)
        if tag_count > MAX_TAGS_PER_RESOURCE:
            problems.append(
                Problem("job_tags", f"<{tag_count} tags>", f"at most {MAX_TAGS_PER_RESOURCE} with stack_job_tag")
            )
        if self.stack_job_tag is not None and self.stack_job_tag[0] in self.job_tags:
            problems.append(
                Problem("stack_job_tag", self.stack_job_tag[0], "a key that job_tags does not set", "one value per key")
            )
        return problems


def has_local_storage(instance_type: str) -> bool:
    parsed = InstanceType.parse(instance_type)
    return parsed is not None and parsed.family.local_storage


def pipeline_name_problems(name: str) -> list[Problem]:
    if len(name) <= _PIPELINE_NAME_MAX_LENGTH and _PIPELINE_NAME.match(name):
        return []
    allowed = f"1-{_PIPELINE_NAME_MAX_LENGTH} letters, digits and hyphens, starting and ending with a letter or digit"
    return [Problem("pipeline_name", name, allowed)]
