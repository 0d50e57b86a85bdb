"""The Training stack: the Region's pipeline, its job log groups and the events that start it and report on it.

Written against the platform's design; the per-type checks compare every property with the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from platform_contract.names import Output, StackId
from rehearsal.checks.base import DeployedStack, Verifier
from rehearsal.checks.data import alert_topic_arn

JOB_LOG_GROUPS = ("/aws/sagemaker/TrainingJobs", "/aws/sagemaker/ProcessingJobs", "/aws/sagemaker/TransformJobs")
"""The log groups SageMaker writes job logs to; they exist in every account where a job has run."""


def verify(training: DeployedStack, stage: Mapping[str, DeployedStack], verify: Verifier) -> None:
    sagemaker = training.client("sagemaker")
    pipelines = training.of_type("AWS::SageMaker::Pipeline")
    verify.true(len(pipelines) >= 1, "a training pipeline")
    for logical_id, _ in pipelines:
        verify.equal(
            sagemaker.describe_pipeline(PipelineName=training.physical_id(logical_id))["PipelineStatus"],
            "Active",
            f"{logical_id} active",
        )
    verify.equal(
        sorted(properties["LogGroupName"] for _, properties in training.of_type("AWS::Logs::LogGroup")),
        sorted(JOB_LOG_GROUPS),
        "SageMaker's job log groups",
    )
    # The registry is state: it lives in the Data stack, so that the Training stack can be created again.
    data = stage[StackId.DATA]
    groups = [data.physical_id(logical_id) for logical_id, _ in data.of_type("AWS::SageMaker::ModelPackageGroup")]
    verify.equal(
        [arn.rsplit("/", 1)[-1] for arn in groups],
        [training.outputs[Output.MODEL_PACKAGE_GROUP_NAME]],
        "the pipeline registers in the Data stack's model package group",
    )
    topic = alert_topic_arn(data)
    events = training.client("events")
    targets = [
        target["Arn"]
        for logical_id, _ in training.of_type("AWS::Events::Rule")
        for target in events.list_targets_by_rule(Rule=training.physical_id(logical_id))["Targets"]
    ]
    verify.true(topic in targets, "pipeline events reach the Region's alert topic")


def imported_resources(training: DeployedStack) -> dict[str, str]:
    """Logical ID -> physical ID of each resource the stack's latest deployment imported rather than created."""
    cloudformation = training.client("cloudformation")
    imported: dict[str, str] = {}
    for page in cloudformation.get_paginator("describe_stack_events").paginate(StackName=training.name):
        for event in page["StackEvents"]:
            if event["ResourceStatus"] == "IMPORT_COMPLETE":
                imported.setdefault(event["LogicalResourceId"], event["PhysicalResourceId"])
    return imported


def model_versions(sagemaker: Any, group: str) -> list[str]:
    """The ARNs of the group's model versions, oldest first."""
    summaries = sagemaker.list_model_packages(ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Ascending")
    return [summary["ModelPackageArn"] for summary in summaries["ModelPackageSummaryList"]]
