"""The pipeline stand-in checks a job step's request as SageMaker's Create*Job does."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from rehearsal.tests.support import Stacks

ROLE = "arn:aws:iam::123456789012:role/any"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/k"


def _pipeline(stacks: Stacks, enum_values: list[str]) -> str:
    name = stacks.unique_name()
    definition = {
        "Version": "2020-12-01",
        "Parameters": [
            {
                "Name": "TrainingInstanceType",
                "Type": "String",
                "DefaultValue": "ml.m5.xlarge",
                "EnumValues": enum_values,
            }
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
                "Arguments": {
                    "ProcessingResources": {
                        "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeKmsKeyId": KEY}
                    }
                },
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
