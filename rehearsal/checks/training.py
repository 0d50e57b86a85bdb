"""The Training stack: the Region's pipeline, its model registry and the events that start it and report on it.

Written against the platform's design; the per-type checks compare every property with the template.
"""

from __future__ import annotations

from collections.abc import Mapping

from rehearsal.checks.base import DeployedStack, Verifier
from rehearsal.checks.data import alert_topic_arn


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
    verify.equal(len(training.of_type("AWS::SageMaker::ModelPackageGroup")), 1, "one model package group")
    topic = alert_topic_arn(stage["Data"])
    events = training.client("events")
    targets = [
        target["Arn"]
        for logical_id, _ in training.of_type("AWS::Events::Rule")
        for target in events.list_targets_by_rule(Rule=training.physical_id(logical_id))["Targets"]
    ]
    verify.true(topic in targets, "pipeline events reach the Region's alert topic")
