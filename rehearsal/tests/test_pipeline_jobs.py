"""The pipeline stand-in checks a job step's request as SageMaker's Create*Job does."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from rehearsal.tests.support import Stacks

ROLE = "arn:aws:iam::123456789012:role/any"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/k"
SPARK = "571004829621.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-spark-processing:3.5-cpu"


def _processing(arguments: list[str], instance_count: int = 1) -> dict:
    """A Prepare-like CreateProcessingJob request, as the pipeline's definition states it."""
    return {
        "RoleArn": ROLE,
        "AppSpecification": {
            "ImageUri": SPARK,
            "ContainerEntrypoint": ["smspark-submit"],
            "ContainerArguments": arguments,
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": instance_count,
                "InstanceType": "ml.m5.large",
                "VolumeSizeInGB": 30,
                "VolumeKmsKeyId": KEY,
            }
        },
        "ProcessingInputs": [
            {
                "InputName": "raw",
                "S3Input": {
                    "S3Uri": {"Std:Join": {"On": "", "Values": ["s3://b/raw/", {"Get": "Parameters.RawDataset"}, "/"]}},
                    "LocalPath": "/opt/ml/processing/input/raw/churn",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
        ],
    }


def _pipeline(stacks: Stacks, enum_values: list[str], processing: dict | None = None) -> str:
    name = stacks.unique_name()
    definition = {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "RawDataset", "Type": "String", "DefaultValue": "churn"},
            {
                "Name": "TrainingInstanceType",
                "Type": "String",
                "DefaultValue": "ml.m5.xlarge",
                "EnumValues": enum_values,
            },
        ],
        "Steps": [
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "ResourceConfig": {
                        "InstanceCount": 1,
                        "InstanceType": {"Get": "Parameters.TrainingInstanceType"},
                        "VolumeSizeInGB": 30,
                        "VolumeKmsKeyId": KEY,
                    }
                },
            },
            {
                "Name": "Evaluate",
                "Type": "Processing",
                "Arguments": processing or _processing(["--settings-base64", "e30="]),
            },
        ],
    }
    stacks.client("sagemaker").create_pipeline(
        PipelineName=name, PipelineDefinition=json.dumps(definition), RoleArn=ROLE
    )
    return name


def _run(stacks: Stacks, pipeline: str, instance_type: str) -> dict:
    sagemaker = stacks.client("sagemaker")
    arn = sagemaker.start_pipeline_execution(
        PipelineName=pipeline, PipelineParameters=[{"Name": "TrainingInstanceType", "Value": instance_type}]
    )["PipelineExecutionArn"]
    return sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn) | {
        "Steps": sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    }


def test_a_volume_key_on_an_instance_type_with_local_storage_fails_the_step_as_sagemaker_does(stacks: Stacks) -> None:
    pipeline = _pipeline(stacks, ["ml.m5.xlarge", "ml.g5.xlarge"])
    refused = _run(stacks, pipeline, "ml.g5.xlarge")
    assert refused["PipelineExecutionStatus"] == "Failed"
    (train,) = refused["Steps"]
    assert (train["StepName"], train["StepStatus"]) == ("Train", "Failed")
    assert "Failed to invoke sagemaker:CreateTrainingJob" in train["FailureReason"]
    assert "(ValidationException)" in train["FailureReason"] and "ml.g5.xlarge" in train["FailureReason"]
    assert _run(stacks, pipeline, "ml.m5.xlarge")["PipelineExecutionStatus"] == "Succeeded"


def test_a_parameter_value_outside_its_enum_values_is_refused(stacks: Stacks) -> None:
    pipeline = _pipeline(stacks, ["ml.m5.xlarge"])
    with pytest.raises(ClientError) as raised:
        _run(stacks, pipeline, "ml.g5.xlarge")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "EnumValues" in raised.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("processing", "saying"),
    [
        (
            _processing(["--settings-base64", "a" * 257]),
            "AppSpecification.ContainerArguments[1]: length 257 is above 256",
        ),
        (_processing(["--settings-base64", "e30="], instance_count=101), "InstanceCount: 101 is above 100"),
    ],
    ids=["an argument longer than SageMaker takes", "a cluster larger than SageMaker allows"],
)
def test_a_processing_request_that_breaks_the_create_processing_job_shape_fails_its_step(
    stacks: Stacks, processing: dict, saying: str
) -> None:
    refused = _run(stacks, _pipeline(stacks, ["ml.m5.xlarge"], processing), "ml.m5.xlarge")
    assert refused["PipelineExecutionStatus"] == "Failed"
    evaluate = refused["Steps"][0]
    assert (evaluate["StepName"], evaluate["StepStatus"]) == ("Evaluate", "Failed")
    assert "Failed to invoke sagemaker:CreateProcessingJob" in evaluate["FailureReason"]
    assert saying in evaluate["FailureReason"]
