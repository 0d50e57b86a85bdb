"""Evaluate: the image's ``evaluate`` command on the predictions and the test labels."""

from __future__ import annotations

from typing import Any

from ml_constructs.pipeline_spec import (
    EVALUATE_ENTRYPOINT,
    EVALUATION_LOCAL_PATH,
    EVALUATION_REPORT,
    LABELS_LOCAL_PATH,
    PREDICTIONS_LOCAL_PATH,
)
from ml_constructs.pipeline_steps.context import StepContext
from platform_contract.names import DataPrefix


def evaluate_step(build: StepContext, capacity: str, prediction: Any) -> tuple[Any, Any]:
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
        name=build.name(f"Evaluate{capacity}"),
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
