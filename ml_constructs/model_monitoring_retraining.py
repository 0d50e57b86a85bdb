"""Retraining when a monitoring alarm fires: an EventBridge rule on the alarms' change to ALARM invokes a small
function in the private network that starts the Region's training pipeline, at most once per interval; alarms page
the Region's topic when the function fails or EventBridge cannot invoke it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from ml_constructs.compliance import acknowledge, acknowledge_inline_policy
from ml_constructs.training_pipeline import TrainingPipeline
from ml_constructs.wildcard_acknowledgment import acknowledge_wildcard_resources

HANDLER_FILE = Path(__file__).with_name("model_monitoring_retrain_handler.py")
ALARM_SOURCE = "aws.cloudwatch"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
RUNTIME = lambda_.Runtime.PYTHON_3_14
FAILURE_PERIOD = Duration.minutes(5)


@dataclass(frozen=True)
class FailureAlarm:
    """An alarm on one way a retraining can be lost: any failure in a period pages."""

    id: str
    description: str
    metric: Callable[[AlarmRetraining], cloudwatch.IMetric]


FAILURE_ALARMS = (
    FailureAlarm(
        "FunctionErrors",
        "The retraining function failed: a monitoring alarm fired and the pipeline may not have started. "
        "See the function's log group.",
        lambda retraining: retraining.function.metric_errors(period=FAILURE_PERIOD, statistic="Sum"),
    ),
    FailureAlarm(
        "FailedInvocations",
        "EventBridge could not invoke the retraining function, retries included: a monitoring alarm's retraining "
        "was dropped. Start the pipeline by hand (mlp train).",
        # EventBridge publishes per rule (AWS/Events, dimension RuleName); CDK's Rule has no metric methods.
        lambda retraining: cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name="FailedInvocations",
            dimensions_map={"RuleName": retraining.rule.rule_name},
            statistic="Sum",
            period=FAILURE_PERIOD,
        ),
    ),
)


class AlarmRetraining(Construct):
    """Starts ``pipeline`` with its default parameters (as its scheduled retraining does) when one of ``alarms``
    goes into ALARM, unless an execution started less than ``min_interval_hours`` before.

    EventBridge has no rate limit of its own, so the rule (source ``aws.cloudwatch``, detail type "CloudWatch Alarm
    State Change", the alarms' ARNs, new state ALARM) invokes a function (``model_monitoring_retrain_handler.py``)
    that looks at the pipeline's latest execution first. Its reserved concurrency is 1, so simultaneous alarms are
    handled in turn. It runs in the private subnets and reaches SageMaker and CloudWatch Logs through the VPC
    endpoints; its role may list and start this pipeline's executions and write its own log group, encrypted with
    ``key``.

    Each of ``FAILURE_ALARMS`` (the function's errors, EventBridge's failed invocations of it) notifies ``topic``:
    a retraining that does not start would otherwise go unnoticed.

    :param alarms: the drift and model-quality alarms. Required.
    :param pipeline: the Region's training pipeline. Required.
    :param min_interval_hours: the least time between two starts. Required.
    :param topic: receives the failure alarms' notifications. Required.
    :param key: encrypts the function's log group and environment. Required.
    :param vpc: VPC of the function. Required.
    :param vpc_subnets: its subnets. Required.
    :param security_group: its security group (HTTPS egress to the VPC endpoints). Required.
    :param log_retention: how long its logs are kept. Required.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alarms: Sequence[cloudwatch.IAlarm],
        pipeline: TrainingPipeline,
        min_interval_hours: int,
        topic: sns.ITopic,
        key: kms.IKey,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, encryption_key=key, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Starts {pipeline.pipeline_name} when a monitoring alarm fires",
        )
        pipeline.grant_start_execution(self.role)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SeeTheLatestExecution",
                actions=["sagemaker:ListPipelineExecutions"],
                resources=[pipeline.pipeline_arn],
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="WriteItsLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"{self.log_group.log_group_name}:log-stream:*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        self.function: lambda_.Function = lambda_.Function(
            self,
            "Function",
            description=f"Starts {pipeline.pipeline_name} on a monitoring alarm, at most every {min_interval_hours} h",
            runtime=RUNTIME,
            handler="index.handler",
            code=lambda_.Code.from_inline(HANDLER_FILE.read_text()),
            role=self.role,
            timeout=Duration.seconds(30),
            reserved_concurrent_executions=1,
            environment={"PIPELINE_NAME": pipeline.pipeline_name, "MIN_INTERVAL_HOURS": str(min_interval_hours)},
            environment_encryption=key,
            log_group=self.log_group,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=[security_group],
        )
        acknowledge_inline_policy(self.role)
        acknowledge_wildcard_resources(
            self.role,
            {":log-stream:*": "Log streams of the function's own log group, which Lambda names per instance."},
        )
        for pack in ("NIST.800.53.R5", "HIPAA.Security"):
            acknowledge(
                self.function,
                f"{pack}::{pack}-LambdaDLQ",
                "EventBridge invokes it asynchronously and retries a failed invocation; a failure pages the alert "
                "topic (FAILURE_ALARMS) and is in its log. A queue of missed alarm events would only retrain late, "
                "which is what the minimum interval prevents; the alarm that fired pages the alert topic too.",
            )
        self.rule: events.Rule = events.Rule(
            self,
            "OnAlarm",
            description=f"Monitoring alarms going into ALARM retrain with {pipeline.pipeline_name}",
            event_pattern=events.EventPattern(
                source=[ALARM_SOURCE],
                detail_type=[ALARM_STATE_CHANGE],
                resources=[alarm.alarm_arn for alarm in alarms],
                detail={"state": {"value": ["ALARM"]}},
            ),
            targets=[targets.LambdaFunction(self.function, retry_attempts=2)],
        )
        notify = cloudwatch_actions.SnsAction(topic)
        self.failure_alarms: dict[str, cloudwatch.Alarm] = {}
        for spec in FAILURE_ALARMS:
            alarm = cloudwatch.Alarm(
                self,
                spec.id,
                metric=spec.metric(self),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                # No invocation, no failure.
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=spec.description,
            )
            alarm.add_alarm_action(notify)
            alarm.add_ok_action(notify)
            self.failure_alarms[spec.id] = alarm
