"""Prepare: data_preparation's Spark job on AWS's Spark processing image, from raw/<dataset>/ to a split dataset
and its Model Monitor baseline, both per execution.

The image's entry point (``smspark-submit``) forms one YARN cluster of all the job's instances and runs
spark-submit on the primary one (docs/data-preparation.md, "The SageMaker Spark processing container"). The
code comes as the CDK's file assets, downloaded by SageMaker like any input: the job reads and writes only local
folders, so it runs network-isolated (Spark's own traffic between the instances stays inside the job's security
group). The raw input is FullyReplicated: the driver lists every file and each executor reads the ones it is given.
"""

from __future__ import annotations

from typing import Any

from data_preparation import contract
from ml_constructs.pipeline_spec import (
    PREPARATION_PACKAGE_LOCAL_PATH,
    PREPARATION_SCRIPT_LOCAL_PATH,
    SPARK_SUBMIT,
)
from ml_constructs.pipeline_steps.context import StepContext
from platform_contract.names import DataPrefix

DATASETS_OUTPUT = "datasets"
BASELINE_OUTPUT = "baseline"


def prepare_step(build: StepContext, raw_dataset: Any) -> Any:
    """The Prepare step reading ``raw/<raw_dataset>/``; its outputs are named ``DATASETS_OUTPUT`` and
    ``BASELINE_OUTPUT``."""

    from sagemaker.core.network import NetworkConfig
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow.steps import ProcessingStep

    values, preparation = build.values, build.spec.preparation
    assert preparation is not None, "a pipeline without preparation has no Prepare step"
    code = f"s3://{values.code_bucket_name}/"

    def s3_input(name: str, uri: Any, local_path: str) -> ProcessingInput:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=uri,
                local_path=local_path,
                s3_data_type="S3Prefix",
                s3_input_mode="File",
                s3_data_distribution_type="FullyReplicated",
            ),
        )

    def s3_output(name: str, prefix: str, local_path: str) -> ProcessingOutput:
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=build.per_execution(prefix), local_path=local_path, s3_upload_mode="EndOfJob"
            ),
        )

    processor = Processor(
        role=values.execution_role_arn,
        image_uri=values.spark_image_uri,
        entrypoint=[
            SPARK_SUBMIT,
            "--py-files",
            f"{PREPARATION_PACKAGE_LOCAL_PATH}/{values.preparation_package_key}",
            f"{PREPARATION_SCRIPT_LOCAL_PATH}/{values.preparation_script_key}",
        ],
        instance_count=preparation.instance_count,
        instance_type=preparation.instance_type,
        volume_size_in_gb=preparation.volume_size_gb,
        volume_kms_key=build.volume_key(preparation.volume_key),
        output_kms_key=values.key_arn,
        max_runtime_in_seconds=preparation.max_runtime_seconds,
        network_config=NetworkConfig(
            enable_network_isolation=True,
            security_group_ids=list(values.security_group_ids),
            subnets=list(values.subnet_ids),
            encrypt_inter_container_traffic=True,
        ),
        sagemaker_session=build.session,
    )
    return ProcessingStep(
        name="Prepare",
        step_args=processor.run(
            inputs=[
                s3_input("package", f"{code}{values.preparation_package_key}", PREPARATION_PACKAGE_LOCAL_PATH),
                s3_input("script", f"{code}{values.preparation_script_key}", PREPARATION_SCRIPT_LOCAL_PATH),
                # The job reads <raw input>/<configured dataset>/; RawDataset chooses which folder lands there.
                s3_input(
                    "raw",
                    Join(on="", values=[f"{build.bucket}{DataPrefix.RAW}", raw_dataset, "/"]),
                    f"{contract.RAW_INPUT_PATH}/{preparation.dataset}",
                ),
            ],
            outputs=[
                s3_output(DATASETS_OUTPUT, DataPrefix.DATASETS, contract.DATASETS_OUTPUT_PATH),
                s3_output(BASELINE_OUTPUT, DataPrefix.BASELINE, contract.BASELINE_OUTPUT_PATH),
            ],
            arguments=list(preparation.arguments),
        ),
    )


def output_uri(prepare: Any, name: str) -> Any:
    """The S3 URI of the Prepare step's output ``name`` (ending in /), as a property: steps that read it wait
    for Prepare."""
    return prepare.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri
