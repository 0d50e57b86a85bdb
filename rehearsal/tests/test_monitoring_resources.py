"""The Model Monitor types the extension adds: created, checked as SageMaker checks their requests, and answered
by DescribeMonitoringSchedule and ListMonitoringExecutions."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError

from rehearsal.tests.support import Stacks

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/monitoring"
IMAGE = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/model:latest"
SHARED: dict[str, Any] = {
    "RoleArn": ROLE,
    "JobResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}},
    "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
    "NetworkConfig": {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True},
}
ENDPOINT_INPUT = {"EndpointName": "churn", "LocalPath": "/opt/ml/processing/endpointdata"}
OUTPUT = {"MonitoringOutputs": [{"S3Output": {"S3Uri": "s3://bucket/monitoring/churn", "LocalPath": "/opt/ml/out"}}]}


def resources(schedule: str = "cron(0 * ? * * *)", instance_type: str = "ml.m5.large") -> dict[str, Any]:
    shared = copy.deepcopy(SHARED)
    shared["JobResources"]["ClusterConfig"]["InstanceType"] = instance_type
    return {
        "DataQuality": {
            "Type": "AWS::SageMaker::DataQualityJobDefinition",
            "Properties": {
                **shared,
                "DataQualityAppSpecification": {"ImageUri": IMAGE, "ContainerEntrypoint": ["monitor-data-quality"]},
                "DataQualityJobInput": {"EndpointInput": ENDPOINT_INPUT},
                "DataQualityJobOutputConfig": OUTPUT,
            },
        },
        "ModelQuality": {
            "Type": "AWS::SageMaker::ModelQualityJobDefinition",
            "Properties": {
                **shared,
                "ModelQualityAppSpecification": {"ImageUri": IMAGE, "ContainerEntrypoint": ["monitor-model-quality"]},
                "ModelQualityJobInput": {
                    "EndpointInput": ENDPOINT_INPUT,
                    "GroundTruthS3Input": {"S3Uri": "s3://bucket/ground-truth/churn"},
                },
                "ModelQualityJobOutputConfig": OUTPUT,
            },
        },
        "Schedule": {
            "Type": "AWS::SageMaker::MonitoringSchedule",
            "Properties": {
                "MonitoringScheduleName": "churn-data-quality",
                "MonitoringScheduleConfig": {
                    "MonitoringJobDefinitionName": {
                        "Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": ["DataQuality", "JobDefinitionArn"]}]}]
                    },
                    "MonitoringType": "DataQuality",
                    "ScheduleConfig": {"ScheduleExpression": schedule},
                },
            },
        },
    }


def test_job_definitions_and_a_schedule_are_created_and_described(stacks: Stacks) -> None:
    name = stacks.unique_name()

    assert stacks.deploy(name, resources())["StackStatus"] == "CREATE_COMPLETE"

    ids = stacks.physical_ids(name)
    assert ids["DataQuality"].startswith(f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:data-quality-job-definition/")
    assert len(ids["DataQuality"].rsplit("/", 1)[1]) <= 63
    sagemaker = stacks.client("sagemaker")
    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName="churn-data-quality")
    assert described["MonitoringType"] == "DataQuality"
    assert described["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"] == ids["DataQuality"].rsplit("/")[-1]
    assert (
        sagemaker.list_monitoring_executions(MonitoringScheduleName="churn-data-quality")[
            "MonitoringExecutionSummaries"
        ]
        == []
    )
    assert stacks.backed(name) == {"DataQuality": True, "ModelQuality": True, "Schedule": True}
    for monitor, describe in (
        ("DataQuality", sagemaker.describe_data_quality_job_definition),
        ("ModelQuality", sagemaker.describe_model_quality_job_definition),
    ):
        definition = describe(JobDefinitionName=ids[monitor].rsplit("/", 1)[1])
        assert definition["JobDefinitionArn"] == ids[monitor]
        for key, value in resources()[monitor]["Properties"].items():
            assert definition[key] == value, key
    with pytest.raises(ClientError, match="ResourceNotFound"):
        sagemaker.describe_model_quality_job_definition(JobDefinitionName=ids["DataQuality"].rsplit("/", 1)[1])

    assert stacks.delete(name) == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="does not exist"):
        sagemaker.describe_monitoring_schedule(MonitoringScheduleName="churn-data-quality")


def test_what_sagemaker_refuses_fails_the_stack(stacks: Stacks) -> None:
    for bad in (resources(schedule="rate(1 hour)"), resources(instance_type="ml.inf1.xlarge")):
        name = stacks.unique_name()
        status = stacks.deploy(name, bad)["StackStatus"]
        assert status in ("CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED"), status


def test_a_replaced_job_definition_goes_once_its_schedule_uses_the_new_one(stacks: Stacks) -> None:
    """As a new baseline does: CloudFormation creates the new definition, updates the schedule, then deletes the old
    one in its clean-up phase; a definition still in use cannot be deleted, so another order fails the update."""
    name = stacks.unique_name()
    template = resources()
    template["Schedule"]["Properties"]["MonitoringScheduleName"] = f"{name}-data-quality"
    stacks.deploy(name, template)
    sagemaker = stacks.client("sagemaker")
    before = stacks.physical_ids(name)["DataQuality"].rsplit("/", 1)[1]

    template["DataQuality"]["Properties"]["StoppingCondition"] = {"MaxRuntimeInSeconds": 1200}
    assert stacks.deploy(name, template)["StackStatus"] == "UPDATE_COMPLETE"

    after = stacks.physical_ids(name)["DataQuality"].rsplit("/", 1)[1]
    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=f"{name}-data-quality")
    assert after != before
    assert described["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"] == after
    assert stacks.backed(name) == {"DataQuality": True, "ModelQuality": True, "Schedule": True}
    assert stacks.delete(name) == "DELETE_COMPLETE"
