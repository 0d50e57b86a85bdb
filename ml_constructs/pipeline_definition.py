"""The training pipeline's definition as the SageMaker Python SDK writes it: the spec, the container contract,
the deploy-time placeholders and the generator that runs in a process of its own (``definition_process``
starts it, offline, and caches what it writes).

This module imports nothing but the standard library and ``platform_contract`` (standard library only) at
load time; it runs as a script in the generator process (``python pipeline_definition.py '<spec as JSON>'``),
where an audit hook refuses every network connection and name lookup and telemetry is switched off before
the first SDK call, so a change in the SDK that reaches for the network fails synth instead of leaking a
request. Everything that is only known at deploy time (role, image, bucket, key, subnets, security groups,
registry) is a placeholder in the template; ``render_definition`` swaps in each Region's CDK tokens.

Volume keys: instance types with local NVMe storage encrypt it in hardware, and CreateTrainingJob,
CreateTransformJob and CreateProcessingJob reject a VolumeKmsKeyId for them
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html,
API_TransformResources.html, API_ProcessingClusterConfig.html). The evaluation's type is fixed at synth, so
its key is there or not; the training type is the TrainingInstanceType parameter, which an execution may
change, so the parameter only accepts the types of the default's storage kind (``EnumValues``, which
SageMaker checks when an execution starts) and the training step has a volume key exactly when they have
no local storage. A definition is thus valid for every value an execution may pass.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

CONTRACT_DIR = Path(__file__).resolve().parent.parent / "platform_contract"
"""The names shared with the operator CLI and the rehearsal; the generator uses them too."""


def _load_contract() -> None:
    """Makes ``platform_contract`` importable in the generator process, where -P keeps the project root off
    sys.path; only that package, so nothing else of the project can shadow a library."""
    spec = importlib.util.spec_from_file_location(
        "platform_contract", CONTRACT_DIR / "__init__.py", submodule_search_locations=[str(CONTRACT_DIR)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["platform_contract"] = module
    spec.loader.exec_module(module)


if __name__ == "__main__":
    _load_contract()

from platform_contract.names import DataPrefix, MediaType, PipelineParameter  # noqa: E402

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


def quality_report_path(metric: str) -> str:
    """JSON path of ``metric``'s value in the evaluation report, e.g. ``binary_classification_metrics.auc.value``."""
    return f"{REPORT_SECTIONS[metric]}.{metric}.value"


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

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PipelineSpec:
        fields = json.loads(text)
        for pairs in ("hyperparameters", "metric_definitions"):
            fields[pairs] = tuple(tuple(pair) for pair in fields[pairs])
        fields["training_instance_types"] = tuple(fields["training_instance_types"])
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


# --- In the generator process -------------------------------------------------------------------

_NETWORK_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.sendto",
        "socket.sendmsg",
    }
)

_network_attempts: list[str] = []


def _refuse_network(event: str, args: tuple) -> None:
    if event in _NETWORK_EVENTS:
        # Recorded as well as refused: the SDK swallows errors of some calls (telemetry, for one).
        _network_attempts.append(f"{event}{args!r}")
        raise PermissionError(f"Synth is offline; the SageMaker SDK attempted {event}{args!r}")


def _switch_off_telemetry() -> None:
    # The SDK's documented switch (TelemetryOptOut in its defaults config) makes it re-validate that config
    # against its JSON schema on every lookup, which costs seconds; this replaces the one function that sends.
    from sagemaker.core.telemetry import telemetry_logging

    if not callable(getattr(telemetry_logging, "_send_telemetry_request", None)):
        raise RuntimeError("The SageMaker SDK's telemetry sender moved; switch it off again before generating")
    telemetry_logging._send_telemetry_request = lambda *args, **kwargs: None


@dataclass(frozen=True)
class _Build:
    """What every step builder shares: the spec, the SDK session, the placeholders, the parameters."""

    spec: PipelineSpec
    session: Any
    input_data: Any
    instance_type: Any
    instance_count: Any
    threshold: Any
    network: Any
    values: DeployTimeValues = PLACEHOLDERS

    @property
    def bucket(self) -> str:
        return f"s3://{self.values.bucket_name}/"

    def dataset(self, folder: str) -> Any:
        """``<InputDataUri><folder>/``."""
        from sagemaker.core.workflow.functions import Join

        return Join(on="", values=[self.input_data, f"{folder}/"])

    def per_execution(self, prefix: str, suffix: str = "") -> Any:
        """``s3://<bucket>/<prefix><execution id>/<suffix>``."""
        from sagemaker.core.workflow.execution_variables import ExecutionVariables
        from sagemaker.core.workflow.functions import Join

        return Join(on="", values=[f"{self.bucket}{prefix}", ExecutionVariables.PIPELINE_EXECUTION_ID, f"/{suffix}"])

    def volume_key(self, encrypted: bool) -> str | None:
        return self.values.key_arn if encrypted else None

    def model_builder(self, training: Any) -> Any:
        """The trained artifact served by the image: there is no inference code to package (dependencies={})."""
        from sagemaker.serve.model_builder import ModelBuilder

        return ModelBuilder(
            s3_model_data_url=training.properties.ModelArtifacts.S3ModelArtifacts,
            image_uri=self.values.image_uri,
            role_arn=self.values.execution_role_arn,
            network=self.network,
            dependencies={},
            sagemaker_session=self.session,
        )


def _train_step(build: _Build, capacity: str, spot: bool) -> Any:
    from sagemaker.core.shapes import MetricDefinition
    from sagemaker.core.training.configs import (
        CheckpointConfig,
        Compute,
        InputData,
        OutputDataConfig,
        StoppingCondition,
    )
    from sagemaker.mlops.workflow.steps import TrainingStep
    from sagemaker.train.model_trainer import ModelTrainer

    spec, values = build.spec, build.values
    trainer = ModelTrainer(
        sagemaker_session=build.session,
        role=values.execution_role_arn,
        training_image=values.image_uri,
        base_job_name="train",
        compute=Compute(
            instance_type=build.instance_type,
            instance_count=build.instance_count,
            volume_size_in_gb=spec.volume_size_gb,
            volume_kms_key_id=build.volume_key(spec.training_volume_key),
            enable_managed_spot_training=spot,
        ),
        networking=build.network,
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=spec.max_runtime_seconds,
            # SageMaker rejects a wait time on on-demand capacity.
            max_wait_time_in_seconds=spec.max_wait_seconds if spot else None,
        ),
        # Per execution: a new execution must never resume from an older one's checkpoints.
        checkpoint_config=CheckpointConfig(
            s3_uri=build.per_execution(DataPrefix.CHECKPOINTS), local_path=CHECKPOINT_LOCAL_PATH
        ),
        output_data_config=OutputDataConfig(
            s3_output_path=f"{build.bucket}{DataPrefix.MODELS}", kms_key_id=values.key_arn
        ),
        hyperparameters=dict(spec.hyperparameters),
    )
    trainer.with_metric_definitions(
        [MetricDefinition(name=name, regex=regex) for name, regex in spec.metric_definitions]
    )
    return TrainingStep(
        name=f"Train{capacity}",
        step_args=trainer.train(
            input_data_config=[
                InputData(channel_name="train", data_source=build.dataset("train")),
                InputData(channel_name="validation", data_source=build.dataset("validation")),
            ]
        ),
    )


def _model_step(build: _Build, capacity: str, training: Any) -> Any:
    from sagemaker.mlops.workflow.model_step import ModelStep

    return ModelStep(name=f"CreateModel{capacity}", step_args=build.model_builder(training).build())


def _predict_step(build: _Build, capacity: str, model: Any) -> Any:
    from sagemaker.core.transformer import Transformer
    from sagemaker.mlops.workflow.steps import TransformStep

    transformer = Transformer(
        model_name=model.properties.ModelName,
        instance_count=1,
        instance_type=build.spec.evaluation_instance_type,
        strategy="MultiRecord",
        assemble_with="Line",
        accept=MediaType.CSV.value,
        output_path=build.per_execution(DataPrefix.EVALUATION, "predictions/"),
        output_kms_key=build.values.key_arn,
        volume_kms_key=build.volume_key(build.spec.evaluation_volume_key),
        sagemaker_session=build.session,
    )
    return TransformStep(
        name=f"PredictTestSet{capacity}",
        step_args=transformer.transform(
            data=build.dataset("test"), content_type=MediaType.CSV.value, split_type="Line"
        ),
    )


def _evaluate_step(build: _Build, capacity: str, prediction: Any) -> tuple[Any, Any]:
    """The evaluation step and the report (a property file) it writes."""
    from sagemaker.core.network import NetworkConfig
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.mlops.workflow.steps import ProcessingStep, PropertyFile

    values = build.values

    def s3_input(name: str, uri: Any, local_path: str) -> ProcessingInput:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=uri, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File"
            ),
        )

    evaluator = Processor(
        role=values.execution_role_arn,
        image_uri=values.image_uri,
        entrypoint=list(EVALUATE_ENTRYPOINT),
        instance_count=1,
        instance_type=build.spec.evaluation_instance_type,
        volume_kms_key=build.volume_key(build.spec.evaluation_volume_key),
        output_kms_key=values.key_arn,
        max_runtime_in_seconds=build.spec.max_runtime_seconds,
        network_config=NetworkConfig(
            enable_network_isolation=True,
            security_group_ids=list(values.security_group_ids),
            subnets=list(values.subnet_ids),
            encrypt_inter_container_traffic=True,
        ),
        sagemaker_session=build.session,
    )
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path=EVALUATION_REPORT)
    evaluation = ProcessingStep(
        name=f"Evaluate{capacity}",
        property_files=[report],
        step_args=evaluator.run(
            inputs=[
                s3_input("predictions", prediction.properties.TransformOutput.S3OutputPath, PREDICTIONS_LOCAL_PATH),
                s3_input("labels", build.dataset("test-labels"), LABELS_LOCAL_PATH),
            ],
            outputs=[
                ProcessingOutput(
                    output_name="evaluation",
                    s3_output=ProcessingS3Output(
                        s3_uri=build.per_execution(DataPrefix.EVALUATION, "report/"),
                        local_path=EVALUATION_LOCAL_PATH,
                        s3_upload_mode="EndOfJob",
                    ),
                )
            ],
        ),
    )
    return evaluation, report


def _gate_step(build: _Build, capacity: str, training: Any, evaluation: Any, report: Any) -> Any:
    """Registers the model for approval if the report's metric passes the threshold; fails the execution if not."""
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo, ConditionLessThanOrEqualTo
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.model_step import ModelStep

    spec = build.spec
    media_types = [media_type.value for media_type in MediaType]
    score = JsonGet(step_name=evaluation.name, property_file=report, json_path=quality_report_path(spec.quality_metric))
    registration = ModelStep(
        name=f"RegisterModel{capacity}",
        step_args=build.model_builder(training).register(
            model_package_group_name=build.values.model_package_group_name,
            content_types=media_types,
            response_types=media_types,
            transform_instances=[spec.evaluation_instance_type],
            approval_status="PendingManualApproval",
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(
                    content_type=MediaType.JSON.value,
                    s3_uri=build.per_execution(DataPrefix.EVALUATION, f"report/{EVALUATION_REPORT}"),
                )
            ),
        ),
    )
    higher_is_better = spec.quality_metric in HIGHER_IS_BETTER
    rejection = FailStep(
        name=f"RejectModel{capacity}",
        error_message=Join(
            on="",
            values=[
                f"Quality gate: the model's {spec.quality_metric} on the test set is ",
                score,
                ", which is " + ("below" if higher_is_better else "above") + " the threshold ",
                build.threshold,
                "; the model was not registered.",
            ],
        ),
    )
    return ConditionStep(
        name=f"QualityGate{capacity}",
        conditions=[
            (ConditionGreaterThanOrEqualTo if higher_is_better else ConditionLessThanOrEqualTo)(
                left=score, right=build.threshold
            )
        ],
        if_steps=[registration],
        else_steps=[rejection],
    )


def _train_and_evaluate(build: _Build, capacity: str, spot: bool) -> list:
    """Train → create model → batch-predict the test set → evaluate → register if good enough."""
    training = _train_step(build, capacity, spot)
    model = _model_step(build, capacity, training)
    prediction = _predict_step(build, capacity, model)
    evaluation, report = _evaluate_step(build, capacity, prediction)
    return [training, model, prediction, evaluation, _gate_step(build, capacity, training, evaluation, report)]


def generate_definition(spec: PipelineSpec) -> str:
    """The pipeline definition of ``spec`` as the SDK writes it, with deploy-time placeholders.

    Runs in the generator process (``definition_process.OFFLINE_ENVIRONMENT``, network refused).
    """
    import logging
    import warnings

    # The SDK narrates at INFO level and warns that nothing runs under a PipelineSession; both are expected.
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    _switch_off_telemetry()

    from sagemaker.core.training.configs import Networking
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.core.workflow.parameters import ParameterBoolean, ParameterFloat, ParameterInteger, ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.pipeline import Pipeline

    values = PLACEHOLDERS
    use_spot = ParameterBoolean(PipelineParameter.USE_SPOT_INSTANCES.value, default_value=spec.use_spot_instances)
    build = _Build(
        spec=spec,
        session=PipelineSession(),
        input_data=ParameterString(
            PipelineParameter.INPUT_DATA.value, default_value=f"s3://{values.bucket_name}/{DataPrefix.DATASETS}"
        ),
        instance_type=ParameterString(
            PipelineParameter.TRAINING_INSTANCE_TYPE.value,
            default_value=spec.instance_type,
            enum_values=list(spec.training_instance_types),
        ),
        instance_count=ParameterInteger(
            PipelineParameter.TRAINING_INSTANCE_COUNT.value, default_value=spec.instance_count
        ),
        threshold=ParameterFloat(PipelineParameter.QUALITY_THRESHOLD.value, default_value=spec.quality_threshold),
        network=Networking(
            subnets=list(values.subnet_ids),
            security_group_ids=list(values.security_group_ids),
            enable_network_isolation=True,
            enable_inter_container_traffic_encryption=True,
        ),
    )
    # Managed spot training cannot be switched by a parameter inside one training step: the API rejects a
    # MaxWaitTimeInSeconds without it and requires one with it. So the parameter chooses between two
    # branches built by the same function, one on spot and one on on-demand capacity.
    capacity = ConditionStep(
        name="ChooseCapacity",
        conditions=[ConditionEquals(left=use_spot, right=True)],
        if_steps=_train_and_evaluate(build, "Spot", spot=True),
        else_steps=_train_and_evaluate(build, "OnDemand", spot=False),
    )
    pipeline = Pipeline(
        name="training",
        parameters=[build.input_data, build.instance_type, build.instance_count, use_spot, build.threshold],
        steps=[capacity],
        sagemaker_session=build.session,
        # Experiments would make the definition depend on the SDK's Region; lineage is tracked without them.
        pipeline_experiment_config=None,
    )
    return json.dumps(json.loads(pipeline.definition()), sort_keys=True)


if __name__ == "__main__":
    sys.addaudithook(_refuse_network)
    generated = generate_definition(PipelineSpec.from_json(sys.argv[1]))
    if _network_attempts:
        sys.exit("Synth is offline, but the SageMaker SDK attempted: " + "; ".join(_network_attempts))
    sys.stdout.write(generated)
