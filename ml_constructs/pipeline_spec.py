"""What the training pipeline's construct and its definition generator share: the spec of a definition, the
container contract, and the deploy-time values that a generated template holds as placeholders.

Standard library and ``platform_contract`` only: the config reads the quality metrics from here without the SDK
or aws-cdk-lib, and the generator process (``pipeline_steps.generator``) imports it too.

Everything that is only known at deploy time (role, image, bucket, key, subnets, security groups, registry) or that
differs per stack (a tag's value) is a placeholder in the template; ``render_definition`` swaps in each Region's
values.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

QualityMetric = Literal["auc", "accuracy", "rmse", "mae"]
# SageMaker's model quality report groups the metrics by problem type, as training_code's reports do.
REPORT_SECTIONS: dict[str, str] = {
    "auc": "binary_classification_metrics",
    "accuracy": "binary_classification_metrics",
    "rmse": "regression_metrics",
    "mae": "regression_metrics",
}
QUALITY_METRICS: tuple[str, ...] = tuple(REPORT_SECTIONS)
# Metrics a model must reach (at least the threshold); the others must stay at or below it.
HIGHER_IS_BETTER: frozenset[str] = frozenset({"auc", "accuracy"})

# Paths inside the containers: the contract with training_code/ (see TrainingPipeline's docstring).
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
PREDICTIONS_LOCAL_PATH = "/opt/ml/processing/input/predictions"
LABELS_LOCAL_PATH = "/opt/ml/processing/input/labels"
EVALUATION_LOCAL_PATH = "/opt/ml/processing/evaluation"
EVALUATION_REPORT = "evaluation.json"
EVALUATE_ENTRYPOINT = ("evaluate",)
# The Prepare step's code, as SageMaker downloads it onto every instance (the two channels PySparkProcessor uses).
PREPARATION_PACKAGE_LOCAL_PATH = "/opt/ml/processing/input/py-files"
PREPARATION_SCRIPT_LOCAL_PATH = "/opt/ml/processing/input/code"
SPARK_SUBMIT = "smspark-submit"
"""The entry point of AWS's Spark processing image: bootstraps YARN and HDFS on every host, runs spark-submit."""
SPARK_VERSION = "3.5"
"""AWS's Spark processing image the Prepare step runs on; data_preparation is written for PySpark 3.5."""


def quality_report_path(metric: str) -> str:
    """JSON path of ``metric``'s value in the evaluation report, e.g. ``binary_classification_metrics.auc.value``."""
    return f"{REPORT_SECTIONS[metric]}.{metric}.value"


@dataclass(frozen=True)
class PreparationSpec:
    """The Prepare step: data_preparation's Spark job on a processing cluster."""

    dataset: str
    """Default of the RawDataset parameter, and the folder under the raw input the job reads."""
    arguments: tuple[str, ...]
    """The job's arguments (``data_preparation.contract.job_arguments``): its settings, base64-encoded."""
    instance_type: str
    instance_count: int
    """Instances of the one Spark cluster (YARN) the job runs on."""
    volume_key: bool
    """Whether the job names a volume key: not for types with local storage."""
    volume_size_gb: int
    max_runtime_seconds: int


@dataclass(frozen=True)
class PipelineSpec:
    """Everything about the pipeline that is known at synth time; equal specs share one definition."""

    instance_type: str
    training_instance_types: tuple[str, ...]
    """What TrainingInstanceType accepts: types of ``instance_type``'s storage kind (local NVMe or not)."""
    training_volume_key: bool
    """Whether the training step names a volume key: not for types with local storage."""
    instance_count: int
    use_spot_instances: bool
    volume_size_gb: int
    max_runtime_seconds: int
    max_wait_seconds: int
    evaluation_instance_type: str
    evaluation_volume_key: bool
    """Whether the transform and processing jobs name a volume key: not for types with local storage."""
    hyperparameters: tuple[tuple[str, str], ...]
    metric_definitions: tuple[tuple[str, str], ...]
    """(name, regex) pairs SageMaker applies to the training log."""
    quality_metric: QualityMetric
    quality_threshold: float
    preparation: PreparationSpec | None = None
    """The Prepare step; without it the pipeline trains on InputDataUri only."""
    tags: tuple[tuple[str, str], ...] = ()
    """Tags of every job and model an execution creates: SageMaker does not give them the pipeline's tags."""
    stack_tag_key: str | None = None
    """Key of one more such tag, whose value each stack fills in (``DeployTimeValues.stack_tag_value``)."""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PipelineSpec:
        fields = json.loads(text)
        for pairs in ("hyperparameters", "metric_definitions"):
            fields[pairs] = tuple(tuple(pair) for pair in fields[pairs])
        fields["training_instance_types"] = tuple(fields["training_instance_types"])
        fields["tags"] = tuple(tuple(pair) for pair in fields["tags"])
        if fields["preparation"] is not None:
            preparation = fields["preparation"]
            fields["preparation"] = PreparationSpec(**{**preparation, "arguments": tuple(preparation["arguments"])})
        return cls(**fields)


@dataclass(frozen=True)
class DeployTimeValues:
    """The values a Region's definition needs that exist only once its stacks are deployed."""

    execution_role_arn: str
    image_uri: str
    bucket_name: str
    key_arn: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    model_package_group_name: str
    spark_image_uri: str
    """AWS's Spark processing image in the Region (another account's repository)."""
    code_bucket_name: str
    """The bucket of the Prepare step's code: the CDK's file assets."""
    preparation_package_key: str
    """Object key of the data_preparation package (a zip for spark-submit's --py-files)."""
    preparation_script_key: str
    """Object key of the job script spark-submit runs."""
    stack_tag_value: str
    """Value of the jobs' tag ``PipelineSpec.stack_tag_key``, such as the Region's cost-allocation tag."""

    def references(self) -> tuple[str, ...]:
        """Every value, lists flattened."""
        return tuple(
            item for value in dataclasses.astuple(self) for item in (value if isinstance(value, tuple) else (value,))
        )


# Each is unique text in the generated template, shaped as the SDK expects (the role must look like an ARN).
PLACEHOLDERS = DeployTimeValues(
    execution_role_arn="arn:aws:iam::000000000000:role/deploy-time-execution-role",
    image_uri="000000000000.dkr.ecr.region.amazonaws.com/deploy-time-image:latest",
    bucket_name="deploy-time-bucket",
    key_arn="arn:aws:kms:region:000000000000:key/deploy-time-key",
    subnet_ids=("subnet-deploy-time",),
    security_group_ids=("sg-deploy-time",),
    model_package_group_name="deploy-time-model-package-group",
    spark_image_uri="000000000000.dkr.ecr.region.amazonaws.com/deploy-time-spark-image:latest",
    code_bucket_name="deploy-time-code-bucket",
    preparation_package_key="deploy-time-preparation-package.zip",
    preparation_script_key="deploy-time-preparation-script.py",
    stack_tag_value="deploy-time-stack-tag-value",
)


def render_definition(template: Mapping[str, Any], values: DeployTimeValues) -> dict[str, Any]:
    """``template`` with every placeholder replaced by the matching field of ``values``; list fields
    (subnets, security groups) replace the placeholder's list entry with all their entries."""
    pairs = list(zip(dataclasses.astuple(PLACEHOLDERS), dataclasses.astuple(values), strict=True))
    lists = {placeholder[0]: list(value) for placeholder, value in pairs if isinstance(placeholder, tuple)}
    texts = {placeholder: value for placeholder, value in pairs if isinstance(placeholder, str)}

    def substitute(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: substitute(value) for key, value in node.items()}
        if isinstance(node, list):
            return [
                item
                for entry in node
                for item in (lists[entry] if isinstance(entry, str) and entry in lists else [substitute(entry)])
            ]
        if isinstance(node, str):
            for placeholder, value in texts.items():
                node = node.replace(placeholder, value)
        return node

    return substitute(template)
