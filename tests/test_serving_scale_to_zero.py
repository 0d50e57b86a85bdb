"""Dev's endpoint, which scales to zero: the model as an inference component on a variant SageMaker scales down to no
instance, copies that autoscale between 0 and max_capacity, and the alarm and step policy that bring one back."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from tests.test_serving_stack import REGION, one, properties


@pytest.fixture(scope="module")
def serving(platform) -> Template:
    return platform.template(REGION, "serving")


@pytest.fixture(scope="module")
def settings(platform):
    return next(region for region in platform.config.regions if region.region == REGION).settings.serving


@pytest.fixture(scope="module")
def component(serving) -> tuple[str, dict]:
    logical_id, resource = one(serving, "AWS::SageMaker::InferenceComponent")
    return logical_id, resource["Properties"]


def test_dev_scales_to_zero_by_default_and_prod_does_not(platform, prod_platform):
    assert platform.config.regions[0].settings.serving.scale_to_zero is True
    assert prod_platform.config.regions[0].settings.serving.scale_to_zero is False
    prod = prod_platform.template(REGION, "serving")
    assert prod.find_resources("AWS::SageMaker::InferenceComponent") == {}


def test_the_variant_holds_no_model_and_may_run_no_instance(serving, settings):
    config = properties(serving, "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert "ModelName" not in variant, "the inference component names the model"
    assert variant["ManagedInstanceScaling"] == {
        "Status": "ENABLED",
        "MinInstanceCount": 0,
        "MaxInstanceCount": settings.max_capacity,
    }
    assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    assert variant["InitialInstanceCount"] == settings.min_capacity
    role_id, _ = one(serving, "AWS::IAM::Role", "Endpoint")
    assert config["ExecutionRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert config["EnableNetworkIsolation"] is True
    model = properties(serving, "AWS::SageMaker::Model")
    assert config["VpcConfig"] == model["VpcConfig"]


def test_the_model_is_one_inference_component_copy_per_instance(serving, settings, component):
    _, ic = component
    endpoint_id, _ = one(serving, "AWS::SageMaker::Endpoint")
    model_id, _ = one(serving, "AWS::SageMaker::Model")
    assert ic["EndpointName"] == {"Fn::GetAtt": [endpoint_id, "EndpointName"]}
    assert ic["VariantName"] == "AllTraffic"
    assert ic["Specification"] == {
        "ModelName": {"Fn::GetAtt": [model_id, "ModelName"]},
        "ComputeResourceRequirements": {
            "NumberOfCpuCoresRequired": 2,
            "MinMemoryRequiredInMb": settings.copy_memory_mb,
        },
    }
    assert ic["RuntimeConfig"] == {"CopyCount": settings.min_capacity}
    assert len(ic["InferenceComponentName"]) <= 63


def test_the_component_rolls_out_one_copy_at_a_time_under_the_rollback_alarms(serving, settings, component):
    _, ic = component
    alarms = {
        resource["Properties"]["AlarmName"]
        for logical_id, resource in serving.find_resources("AWS::CloudWatch::Alarm").items()
        if "Rollback" in logical_id
    }
    policy = ic["DeploymentConfig"]["RollingUpdatePolicy"]
    assert policy["MaximumBatchSize"] == {"Type": "COPY_COUNT", "Value": 1}
    assert policy["WaitIntervalInSeconds"] == settings.traffic_shifting.wait_seconds
    assert 600 <= policy["MaximumExecutionTimeoutInSeconds"] <= 28800
    assert {alarm["AlarmName"] for alarm in ic["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]} == alarms
    assert len(alarms) == 2
    endpoint = properties(serving, "AWS::SageMaker::Endpoint")
    assert "DeploymentConfig" not in endpoint, "the endpoint's config changes with capacity only"
    assert endpoint["ExcludeRetainedVariantProperties"] == [{"VariantPropertyType": "DesiredWeight"}]


def test_copies_scale_between_zero_and_max_on_concurrent_requests_per_copy(serving, settings, component):
    component_id, ic = component
    target_id, target = one(serving, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["Properties"]["ResourceId"] == f"inference-component/{ic['InferenceComponentName']}"
    assert target["Properties"]["ScalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (0, settings.max_capacity)
    assert component_id in target["DependsOn"]
    serving.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": {"Ref": target_id},
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
                },
                "TargetValue": settings.max_concurrent_requests_per_instance * settings.scaling_safety_factor,
                "ScaleInCooldown": settings.scale_in_cooldown_seconds,
                "ScaleOutCooldown": settings.scale_out_cooldown_seconds,
            },
        },
    )


def test_a_request_that_finds_no_copy_adds_one_through_the_step_policy(serving, component):
    _, ic = component
    target_id, _ = one(serving, "AWS::ApplicationAutoScaling::ScalableTarget")
    policies = serving.find_resources(
        "AWS::ApplicationAutoScaling::ScalingPolicy", {"Properties": {"PolicyType": "StepScaling"}}
    )
    ((policy_id, policy),) = policies.items()
    assert policy["Properties"]["ScalingTargetId"] == {"Ref": target_id}
    assert policy["Properties"]["StepScalingPolicyConfiguration"] == {
        "AdjustmentType": "ChangeInCapacity",
        "MetricAggregationType": "Maximum",
        "Cooldown": 60,
        "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
    }
    serving.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SageMaker",
            "MetricName": "NoCapacityInvocationFailures",
            "Dimensions": [{"Name": "InferenceComponentName", "Value": ic["InferenceComponentName"]}],
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "AlarmActions": [{"Ref": policy_id}],
        },
    )


def test_invocation_alarms_watch_the_component_and_instance_alarms_the_variant(serving, component):
    _, ic = component
    dimensions: dict[str, list] = {}
    for resource in serving.find_resources("AWS::CloudWatch::Alarm").values():
        for query in resource["Properties"].get("Metrics", []):
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                dimensions[metric["MetricName"]] = metric["Dimensions"]
    by_component = [{"Name": "InferenceComponentName", "Value": ic["InferenceComponentName"]}]
    for name in ("Invocations", "Invocation5XXErrors", "ModelLatency", "OverheadLatency", "InvocationsPerCopy"):
        assert dimensions[name] == by_component, name
    assert "InvocationsPerInstance" not in dimensions
    for name in ("CPUUtilization", "MemoryUtilization", "DiskUtilization"):
        assert [dimension["Name"] for dimension in dimensions[name]] == ["EndpointName", "VariantName"], name
