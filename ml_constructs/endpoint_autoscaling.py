"""Application Auto Scaling of a ModelEndpoint's variant: bounds, scheduled bounds and a target-tracking policy."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_applicationautoscaling as appscaling
from constructs import Construct

from ml_constructs.model_endpoint_props import ModelEndpointProps


@dataclass(frozen=True)
class EndpointAutoscaling:
    """The scalable target and its invocations-per-instance policy."""

    scalable_target: appscaling.CfnScalableTarget
    scaling_policy: appscaling.CfnScalingPolicy


def add_autoscaling(
    scope: Construct, *, endpoint_name: str, variant_name: str, props: ModelEndpointProps
) -> EndpointAutoscaling:
    """Registers the variant with Application Auto Scaling in ``scope`` (the endpoint, whose construct IDs these
    resources keep).

    No RoleARN: Application Auto Scaling uses (and creates if needed) its SageMaker service-linked role.
    """
    scalable_target = appscaling.CfnScalableTarget(
        scope,
        "ScalableTarget",
        service_namespace="sagemaker",
        scalable_dimension="sagemaker:variant:DesiredInstanceCount",
        # Built from the endpoint's name: a replaced endpoint gets a new registration (see ModelEndpoint).
        resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
        min_capacity=props.min_capacity,
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
    scaling_policy = appscaling.CfnScalingPolicy(
        scope,
        "InvocationsPerInstanceScaling",
        policy_name="invocations-per-instance",
        policy_type="TargetTrackingScaling",
        scaling_target_id=scalable_target.ref,
        target_tracking_scaling_policy_configuration=appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
            predefined_metric_specification=appscaling.CfnScalingPolicy.PredefinedMetricSpecificationProperty(
                predefined_metric_type="SageMakerVariantInvocationsPerInstance"
            ),
            target_value=props.target_invocations_per_minute,
            scale_out_cooldown=props.scale_out_cooldown_seconds,
            scale_in_cooldown=props.scale_in_cooldown_seconds,
        ),
    )
    return EndpointAutoscaling(scalable_target, scaling_policy)
