"""CreateModel and PredictTestSet: the trained model and a batch transform of the test set."""

from __future__ import annotations

from typing import Any

from ml_constructs.pipeline_steps.context import StepContext
from platform_contract.names import DataPrefix, MediaType


def model_step(build: StepContext, capacity: str, training: Any) -> Any:
    from sagemaker.mlops.workflow.model_step import ModelStep

    return ModelStep(name=build.name(f"CreateModel{capacity}"), step_args=build.model_builder(training).build())


def predict_step(build: StepContext, capacity: str, model: Any) -> Any:
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
        name=build.name(f"PredictTestSet{capacity}"),
        step_args=transformer.transform(
            data=build.dataset("test"), content_type=MediaType.CSV.value, split_type="Line"
        ),
    )
