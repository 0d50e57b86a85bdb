"""Tells people what the training pipeline did, and optionally starts it on a schedule."""

from __future__ import annotations

import jsii
from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

from ml_constructs.compliance import acknowledge_inline_policy
from ml_constructs.training_pipeline import TrainingPipeline

SAGEMAKER_EVENT_SOURCE = "aws.sagemaker"
PIPELINE_EXECUTION_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
TRAINING_JOB_STATE_CHANGE = "SageMaker Training Job State Change"
PROCESSING_JOB_STATE_CHANGE = "SageMaker Processing Job State Change"
MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"


class PipelineNotifications(Construct):
    """EventBridge rules that publish to ``topic`` when an execution of ``pipeline`` fails, when one of its
    training or processing jobs fails (with the job's FailureReason: for the Prepare step, every data-quality
    violation) and when it registers a model that waits for approval; and, given a schedule, a rule that starts
    the pipeline with its default parameters but the configured raw dataset (``scheduled_parameters``).

    EventBridge publishes with a role of its own (sns:Publish on the topic, the topic's key through SNS), so
    the topic's resource policy stays as its stack defines it. The schedule's role may only start this
    pipeline.

    :param pipeline: the pipeline to watch. Required.
    :param topic: where the notifications go; if it has a key, the publishing role may use it. Required.
    :param retrain_schedule: when to start the pipeline. Default: never (no schedule rule).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline: TrainingPipeline,
        topic: sns.ITopic,
        retrain_schedule: events.Schedule | None = None,
    ) -> None:
        super().__init__(scope, id)
        region = Stack.of(self).region
        self.publisher_role = iam.Role(
            self,
            "PublisherRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description=f"Publishes events of {pipeline.pipeline_name} to the alert topic",
        )
        self.publisher_role.add_to_principal_policy(
            iam.PolicyStatement(sid="PublishToTheAlertTopic", actions=["sns:Publish"], resources=[topic.topic_arn])
        )
        if topic.master_key:
            self.publisher_role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="EncryptMessagesWithTheTopicsKey",
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[topic.master_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"sns.{region}.amazonaws.com"}},
                )
            )
        acknowledge_inline_policy(self.publisher_role)

        def notify(rule_id: str, description: str, detail_type: str, detail: dict, message: str) -> events.Rule:
            return events.Rule(
                self,
                rule_id,
                description=description,
                event_pattern=events.EventPattern(
                    source=[SAGEMAKER_EVENT_SOURCE], detail_type=[detail_type], detail=detail
                ),
                targets=[_PublishWithRole(topic, self.publisher_role, events.RuleTargetInput.from_text(message))],
            )

        field = events.EventField.from_path
        self.execution_failed = notify(
            "ExecutionFailed",
            f"An execution of {pipeline.pipeline_name} failed",
            PIPELINE_EXECUTION_STATUS_CHANGE,
            {"pipelineArn": [pipeline.pipeline_arn], "currentPipelineExecutionStatus": ["Failed"]},
            f"Training pipeline {pipeline.pipeline_name} in {region}: "
            f"execution {field('$.detail.pipelineExecutionArn')} "
            "failed; its steps give the reason.",
        )
        # Jobs run with the pipeline's execution role, so the role tells them from other training jobs.
        self.training_job_failed = notify(
            "TrainingJobFailed",
            f"A training job of {pipeline.pipeline_name} failed",
            TRAINING_JOB_STATE_CHANGE,
            {"RoleArn": [pipeline.execution_role.role_arn], "TrainingJobStatus": ["Failed"]},
            f"Training job {field('$.detail.TrainingJobName')} of {pipeline.pipeline_name} in {region} failed: "
            f"{field('$.detail.FailureReason')}",
        )
        self.processing_job_failed = notify(
            "ProcessingJobFailed",
            f"A processing job (Prepare, Evaluate) of {pipeline.pipeline_name} failed",
            PROCESSING_JOB_STATE_CHANGE,
            {"RoleArn": [pipeline.execution_role.role_arn], "ProcessingJobStatus": ["Failed"]},
            f"Processing job {field('$.detail.ProcessingJobName')} of {pipeline.pipeline_name} in {region} failed: "
            f"{field('$.detail.FailureReason')}",
        )
        self.model_registered = notify(
            "ModelRegistered",
            f"{pipeline.pipeline_name} registered a model that waits for approval",
            MODEL_PACKAGE_STATE_CHANGE,
            {
                "ModelPackageGroupName": [pipeline.model_package_group_name],
                "ModelApprovalStatus": ["PendingManualApproval"],
            },
            f"A new model passed the quality gate of {pipeline.pipeline_name} in {region} and waits for approval: "
            f"{field('$.detail.ModelPackageArn')}",
        )

        self.schedule: events.Rule | None = None
        if retrain_schedule is not None:
            starter_role = iam.Role(
                self,
                "StarterRole",
                assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
                description=f"Starts scheduled executions of {pipeline.pipeline_name}",
            )
            pipeline.grant_start_execution(starter_role)
            acknowledge_inline_policy(starter_role)
            self.schedule = events.Rule(
                self,
                "RetrainSchedule",
                description=f"Starts {pipeline.pipeline_name} on its configured data",
                schedule=retrain_schedule,
                targets=[_StartPipeline(pipeline, starter_role)],
            )
            parameters = pipeline.scheduled_parameters
            if parameters:
                # RuleTargetConfig has no SageMaker pipeline parameters; the rule's target does.
                rule = self.schedule.node.default_child
                assert isinstance(rule, events.CfnRule)
                rule.add_property_override(
                    "Targets.0.SageMakerPipelineParameters",
                    {"PipelineParameterList": [{"Name": name, "Value": value} for name, value in parameters.items()]},
                )


@jsii.implements(events.IRuleTarget)
class _PublishWithRole:
    """An SNS target that EventBridge reaches with ``role``. The stock target would grant the role
    kms:GenerateDataKey*, a wildcard action; this one leaves the grants to the construct."""

    def __init__(self, topic: sns.ITopic, role: iam.IRole, message: events.RuleTargetInput) -> None:
        self._topic, self._role, self._message = topic, role, message

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._topic.topic_arn, role=self._role, input=self._message)


@jsii.implements(events.IRuleTarget)
class _StartPipeline:
    """Starts the pipeline; aws-cdk-lib has no target for SageMaker pipelines."""

    def __init__(self, pipeline: TrainingPipeline, role: iam.IRole) -> None:
        self._pipeline, self._role = pipeline, role

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._pipeline.pipeline_arn, role=self._role)
