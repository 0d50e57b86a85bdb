"""Application Auto Scaling of a ModelEndpoint: bounds, scheduled bounds and a target-tracking policy on the variant's
instances, or, for an endpoint that scales to zero, on its inference component's copies with the step-scaling policy
that brings the first copy back.

Scale to zero follows "Scale an endpoint to zero instances"
(https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html): the inference
component is registered with a minimum of 0 copies; target tracking on concurrent requests per copy scales in to
zero (the metric reports 0 while idle, where invocations per copy would report nothing); and, since a component
without copies has no load to track, an alarm on NoCapacityInvocationFailures triggers a step policy that adds one
copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import jsii
from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from ml_constructs.endpoint_metrics import INVOCATION_NAMESPACE
from ml_constructs.model_endpoint_props import ModelEndpointProps

SCALE_OUT_FROM_ZERO_METRIC = "NoCapacityInvocationFailures"
"""Requests that found no copy of the inference component to serve them, per InferenceComponentName."""


@dataclass(frozen=True)
class ScalingDimension:
    """What Application Auto Scaling scales: the variant's instances or the inference component's copies."""

    resource_id: str
    scalable_dimension: str
    policy_name: str
    metric_type: str
    target_value: float


def variant_dimension(endpoint_name: str, variant_name: str, props: ModelEndpointProps) -> ScalingDimension:
    return ScalingDimension(
        # Built from the endpoint's name: a replaced endpoint gets a new registration (see ModelEndpoint).
        resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
        scalable_dimension="sagemaker:variant:DesiredInstanceCount",
        policy_name="invocations-per-instance",
        metric_type="SageMakerVariantInvocationsPerInstance",
        target_value=props.target_invocations_per_minute,
    )


def inference_component_dimension(component_name: str, props: ModelEndpointProps) -> ScalingDimension:
    return ScalingDimension(
        resource_id=f"inference-component/{component_name}",
        scalable_dimension="sagemaker:inference-component:DesiredCopyCount",
        policy_name="concurrent-requests-per-copy",
        metric_type="SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution",
        target_value=props.target_concurrent_requests_per_copy,
    )


@dataclass(frozen=True)
class EndpointAutoscaling:
    """The scalable target, its target-tracking policy and, for scale to zero, the policy and alarm that scale out
    from zero copies."""

    scalable_target: appscaling.CfnScalableTarget
    scaling_policy: appscaling.CfnScalingPolicy
    scale_out_from_zero_policy: appscaling.CfnScalingPolicy | None = None
    scale_out_from_zero_alarm: cloudwatch.Alarm | None = None


def add_autoscaling(
    scope: Construct, *, dimension: ScalingDimension, props: ModelEndpointProps, component_name: str | None = None
) -> EndpointAutoscaling:
    """Registers ``dimension`` with Application Auto Scaling in ``scope`` (the endpoint, whose construct IDs these
    resources keep); ``component_name``: the inference component whose copies scale to zero.

    No RoleARN: Application Auto Scaling uses (and creates if needed) its SageMaker service-linked role.
    """
    scalable_target = appscaling.CfnScalableTarget(
        scope,
        "ScalableTarget",
        service_namespace="sagemaker",
        scalable_dimension=dimension.scalable_dimension,
        resource_id=dimension.resource_id,
        min_capacity=props.scaling_min_capacity,
        max_capacity=props.max_capacity,
        scheduled_actions=[
            appscaling.CfnScalableTarget.ScheduledActionProperty(
                scheduled_action_name=window.name,
                schedule=window.schedule,
                scalable_target_action=appscaling.CfnScalableTarget.ScalableTargetActionProperty(
                    min_capacity=window.min_capacity, max_capacity=window.max_capacity
                ),
            )
            for window in props.scheduled_capacity
        ]
        or None,
    )
    # Construct IDs of the variant's policy stay as they were: renaming would replace it.
    policy_id = "InvocationsPerInstanceScaling" if component_name is None else "ConcurrentRequestsPerCopyScaling"
    scaling_policy = appscaling.CfnScalingPolicy(
        scope,
        policy_id,
        policy_name=dimension.policy_name,
        policy_type="TargetTrackingScaling",
        scaling_target_id=scalable_target.ref,
        target_tracking_scaling_policy_configuration=appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
            predefined_metric_specification=appscaling.CfnScalingPolicy.PredefinedMetricSpecificationProperty(
                predefined_metric_type=dimension.metric_type
            ),
            target_value=dimension.target_value,
            scale_out_cooldown=props.scale_out_cooldown_seconds,
            scale_in_cooldown=props.scale_in_cooldown_seconds,
        ),
    )
    if component_name is None:
        return EndpointAutoscaling(scalable_target, scaling_policy)
    from_zero = appscaling.CfnScalingPolicy(
        scope,
        "ScaleOutFromZero",
        policy_name="scale-out-from-zero",
        policy_type="StepScaling",
        scaling_target_id=scalable_target.ref,
        step_scaling_policy_configuration=appscaling.CfnScalingPolicy.StepScalingPolicyConfigurationProperty(
            adjustment_type="ChangeInCapacity",
            metric_aggregation_type="Maximum",
            cooldown=props.scale_out_cooldown_seconds,
            step_adjustments=[
                appscaling.CfnScalingPolicy.StepAdjustmentProperty(metric_interval_lower_bound=0, scaling_adjustment=1)
            ],
        ),
    )
    alarm = cloudwatch.Alarm(
        scope,
        "NoCapacityInvocations",
        alarm_description="A request found no copy of the model: adds one (the endpoint had scaled to zero)",
        metric=cloudwatch.Metric(
            namespace=INVOCATION_NAMESPACE,
            metric_name=SCALE_OUT_FROM_ZERO_METRIC,
            dimensions_map={"InferenceComponentName": component_name},
            statistic="Sum",
            period=Duration.minutes(1),
        ),
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        # No failed request, no copy needed.
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(_ScalingPolicyAction(from_zero.ref))
    return EndpointAutoscaling(scalable_target, scaling_policy, from_zero, alarm)


@jsii.implements(cloudwatch.IAlarmAction)
class _ScalingPolicyAction:
    """An alarm action that runs an L1 scaling policy (its Ref is the policy's ARN)."""

    def __init__(self, policy_arn: str) -> None:
        self._policy_arn = policy_arn

    def bind(self, scope: Construct, alarm: cloudwatch.IAlarm) -> cloudwatch.AlarmActionConfig:
        return cloudwatch.AlarmActionConfig(alarm_action_arn=self._policy_arn)
