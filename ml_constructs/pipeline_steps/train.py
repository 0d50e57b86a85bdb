"""Train: the image's ``train`` command on the train and validation channels."""

from __future__ import annotations

from typing import Any

from ml_constructs.pipeline_spec import CHECKPOINT_LOCAL_PATH
from ml_constructs.pipeline_steps.context import StepContext
from platform_contract.names import DataPrefix


def train_step(build: StepContext, capacity: str, spot: bool) -> Any:
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
        name=build.name(f"Train{capacity}"),
        step_args=trainer.train(
            input_data_config=[
                InputData(channel_name="train", data_source=build.dataset("train")),
                InputData(channel_name="validation", data_source=build.dataset("validation")),
            ]
        ),
    )
