"""How a ModelEndpoint rolls a new model out: the blue/green deployment policy and the alarms that roll it back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aws_cdk import Duration, Names
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.endpoint_metrics import EndpointMetrics
from ml_constructs.model_endpoint_props import ROLLBACK_DATAPOINTS, ROLLBACK_PERIOD_SECONDS, ModelEndpointProps
from ml_constructs.traffic_shifting import TrafficShifting

_ROLLBACK_PERIOD = Duration.seconds(ROLLBACK_PERIOD_SECONDS)


@dataclass(frozen=True)
class RollbackAlarmSpec:
    """One alarm that rolls a deployment back: its construct ID (and name suffix), metric, threshold, meaning."""

    id: str
    metric: Callable[[EndpointMetrics], cloudwatch.IMetric]
    threshold: Callable[[ModelEndpointProps], float]
    description: Callable[[ModelEndpointProps, str], str]


ROLLBACK_ALARMS: tuple[RollbackAlarmSpec, ...] = (
    RollbackAlarmSpec(
        "RollbackServerErrorRate",
        lambda e: e.metric_server_error_rate(period=_ROLLBACK_PERIOD),
        lambda p: p.rollback_server_error_rate_percent,
        lambda p, variant: (
            f"Rolls back a deployment of {variant} while more than {p.rollback_server_error_rate_percent}% "
            "of invocations fail with 5XX"
        ),
    ),
    RollbackAlarmSpec(
        "RollbackModelLatency",
        lambda e: e.metric_model_latency(period=_ROLLBACK_PERIOD),
        lambda p: p.rollback_model_latency_p99_ms * 1000,
        lambda p, variant: (
            f"Rolls back a deployment of {variant} while p99 model latency exceeds "
            f"{p.rollback_model_latency_p99_ms} ms ({p.rollback_model_latency_p99_ms * 1000:g} microseconds)"
        ),
    ),
)
"""The rollback alarms, in the order the README's alarm table lists them."""


def rollback_alarm_names(scope: Construct) -> dict[str, str]:
    """Fixed names derived from ``scope``'s path, so that the endpoint can name alarms that watch it."""
    prefix = Names.unique_resource_name(scope, separator="-", max_length=200)
    return {spec.id: f"{prefix}-{spec.id}" for spec in ROLLBACK_ALARMS}


def add_rollback_alarms(
    scope: Construct, endpoint: EndpointMetrics, props: ModelEndpointProps, names: Mapping[str, str]
) -> list[cloudwatch.Alarm]:
    return [
        cloudwatch.Alarm(
            scope,
            spec.id,
            alarm_name=names[spec.id],
            alarm_description=spec.description(props, endpoint.variant_name),
            metric=spec.metric(endpoint),
            threshold=spec.threshold(props),
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=ROLLBACK_DATAPOINTS,
            datapoints_to_alarm=ROLLBACK_DATAPOINTS,
            # No traffic on the new fleet is no reason to roll it back.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for spec in ROLLBACK_ALARMS
    ]


def deployment_config(
    props: ModelEndpointProps, alarm_names: Mapping[str, str]
) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
    """The blue/green update policy with its traffic routing, rolled back by the alarms ``alarm_names``."""
    shifting = props.effective_traffic_shifting
    return sagemaker.CfnEndpoint.DeploymentConfigProperty(
        blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
            traffic_routing_configuration=traffic_routing_configuration(shifting),
            termination_wait_in_seconds=shifting.termination_wait_seconds,
            maximum_execution_timeout_in_seconds=props.execution_timeout_seconds,
        ),
        auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=name) for name in alarm_names.values()]
        ),
    )


def traffic_routing_configuration(shifting: TrafficShifting) -> sagemaker.CfnEndpoint.TrafficRoutingConfigProperty:
    """SageMaker's TrafficRoutingConfiguration of ``shifting``."""
    size = sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=shifting.step_percent)
    return sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
        type=shifting.mode.upper(),
        wait_interval_in_seconds=shifting.wait_seconds,
        canary_size=size if shifting.mode == "canary" else None,
        linear_step_size=size if shifting.mode == "linear" else None,
    )


def inference_component_deployment_config(
    props: ModelEndpointProps, alarm_names: Mapping[str, str]
) -> sagemaker.CfnInferenceComponent.InferenceComponentDeploymentConfigProperty:
    """The rolling update of an inference component, rolled back by the alarms ``alarm_names``
    (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateInferenceComponent.html).

    A component that scales to zero may have a single copy, so, like a one-instance fleet, it is replaced one copy
    at a time and every batch bakes ``traffic_shifting.wait_seconds`` under the rollback alarms. With no
    RollbackMaximumBatchSize, a rollback moves every copy back at once. There is no termination wait: SageMaker
    removes an old copy once its replacement serves.
    """
    one_copy = sagemaker.CfnInferenceComponent.InferenceComponentCapacitySizeProperty(type="COPY_COUNT", value=1)
    return sagemaker.CfnInferenceComponent.InferenceComponentDeploymentConfigProperty(
        rolling_update_policy=sagemaker.CfnInferenceComponent.InferenceComponentRollingUpdatePolicyProperty(
            maximum_batch_size=one_copy,
            wait_interval_in_seconds=props.traffic_shifting.wait_seconds,
            maximum_execution_timeout_in_seconds=props.execution_timeout_seconds,
        ),
        auto_rollback_configuration=sagemaker.CfnInferenceComponent.AutoRollbackConfigurationProperty(
            alarms=[sagemaker.CfnInferenceComponent.AlarmProperty(alarm_name=name) for name in alarm_names.values()]
        ),
    )
