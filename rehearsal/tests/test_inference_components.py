"""The emulator's inference components: the CloudFormation type checked as SageMaker checks it, the API calls, the
endpoint that hosts them, invocations, and the simulation of their scaling to and from zero copies."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError

from rehearsal.aws import Emulator, EmulatorRefused
from rehearsal.tests.support import REGION, Stacks

ROLE = "arn:aws:iam::123456789012:role/any"


def _stage(endpoint: str, component: str, **changes: Any) -> dict[str, Any]:
    """A scale-to-zero endpoint as the platform's Serving stack builds it, with ``changes`` to the component's
    properties (a value of None removes the property)."""
    properties: dict[str, Any] = {
        "EndpointName": {"Fn::GetAtt": ["Endpoint", "EndpointName"]},
        "InferenceComponentName": component,
        "VariantName": "AllTraffic",
        "RuntimeConfig": {"CopyCount": 1},
        "Specification": {
            "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
            "ComputeResourceRequirements": {"MinMemoryRequiredInMb": 1024, "NumberOfCpuCoresRequired": 2},
        },
        "DeploymentConfig": {
            "RollingUpdatePolicy": {
                "MaximumBatchSize": {"Type": "COPY_COUNT", "Value": 1},
                "MaximumExecutionTimeoutInSeconds": 4020,
                "WaitIntervalInSeconds": 300,
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": f"{component}-Rollback"}]},
        },
    }
    for key, value in changes.items():
        if value is None:
            properties.pop(key)
        else:
            properties[key] = value
    target = {"Ref": "ScalableTarget"}
    return {
        "Model": {
            "Type": "AWS::SageMaker::Model",
            "Properties": {"ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": "registry.example/model:1"}},
        },
        "Config": {
            "Type": "AWS::SageMaker::EndpointConfig",
            "Properties": {
                "ExecutionRoleArn": ROLE,
                "EnableNetworkIsolation": True,
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "InstanceType": "ml.m5.large",
                        "InitialInstanceCount": 1,
                        "InitialVariantWeight": 1,
                        "ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 4},
                        "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
                    }
                ],
            },
        },
        "Endpoint": {
            "Type": "AWS::SageMaker::Endpoint",
            "Properties": {
                "EndpointName": endpoint,
                "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]},
            },
        },
        "Component": {"Type": "AWS::SageMaker::InferenceComponent", "Properties": properties},
        "ScalableTarget": {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "DependsOn": ["Component"],
            "Properties": {
                "MinCapacity": 0,
                "MaxCapacity": 4,
                "ResourceId": f"inference-component/{component}",
                "ScalableDimension": "sagemaker:inference-component:DesiredCopyCount",
                "ServiceNamespace": "sagemaker",
            },
        },
        "Tracking": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": "concurrent-requests-per-copy",
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": target,
                "TargetTrackingScalingPolicyConfiguration": {
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
                    },
                    "TargetValue": 2,
                    "ScaleInCooldown": 600,
                    "ScaleOutCooldown": 60,
                },
            },
        },
        "FromZero": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": "scale-out-from-zero",
                "PolicyType": "StepScaling",
                "ScalingTargetId": target,
                "StepScalingPolicyConfiguration": {
                    "AdjustmentType": "ChangeInCapacity",
                    "Cooldown": 60,
                    "MetricAggregationType": "Maximum",
                    "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
                },
            },
        },
        "NoCapacity": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmActions": [{"Ref": "FromZero"}],
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "DatapointsToAlarm": 1,
                "EvaluationPeriods": 1,
                "Dimensions": [{"Name": "InferenceComponentName", "Value": component}],
                "MetricName": "NoCapacityInvocationFailures",
                "Namespace": "AWS/SageMaker",
                "Period": 60,
                "Statistic": "Sum",
                "Threshold": 1,
                "TreatMissingData": "notBreaching",
            },
        },
    }


def _deployed(stacks: Stacks, **changes: Any) -> tuple[str, str, str]:
    """(stack, endpoint, component) of a deployed scale-to-zero stage."""
    stack, endpoint, component = stacks.unique_name(), stacks.unique_name("endpoint"), stacks.unique_name("component")
    description = stacks.deploy(stack, _stage(endpoint, component, **changes))
    assert description["StackStatus"] == "CREATE_COMPLETE", description.get("StackStatusReason")
    return stack, endpoint, component


def _failure(stacks: Stacks, template: dict[str, Any]) -> str:
    description = stacks.deploy(stacks.unique_name(), template)
    assert description["StackStatus"] == "CREATE_FAILED"
    return description["StackStatusReason"]


def _copies(stacks: Stacks, component: str) -> dict[str, int]:
    return stacks.client("sagemaker").describe_inference_component(InferenceComponentName=component)["RuntimeConfig"]


def _instances(stacks: Stacks, endpoint: str) -> int:
    variant = stacks.client("sagemaker").describe_endpoint(EndpointName=endpoint)["ProductionVariants"][0]
    return variant["CurrentInstanceCount"]


def test_a_component_is_created_on_its_endpoint_with_its_config_kept(stacks: Stacks) -> None:
    stack, endpoint, component = _deployed(stacks)
    sagemaker = stacks.client("sagemaker")
    described = sagemaker.describe_inference_component(InferenceComponentName=component)
    assert (described["EndpointName"], described["VariantName"], described["InferenceComponentStatus"]) == (
        endpoint,
        "AllTraffic",
        "InService",
    )
    assert described["RuntimeConfig"] == {"DesiredCopyCount": 1, "CurrentCopyCount": 1}
    assert stacks.physical_ids(stack)["Component"] == described["InferenceComponentArn"]
    assert stacks.backed(stack)["Component"]
    listed = sagemaker.list_inference_components(EndpointNameEquals=endpoint)["InferenceComponents"]
    assert [summary["InferenceComponentName"] for summary in listed] == [component]
    config = sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    )
    assert (config["ExecutionRoleArn"], config["EnableNetworkIsolation"]) == (ROLE, True)
    assert "ModelName" not in config["ProductionVariants"][0]
    assert "AWS::SageMaker::InferenceComponent" in stacks.emulator.inventory()["registeredTypes"]


def test_deleting_the_stack_deletes_the_component(stacks: Stacks) -> None:
    stack, endpoint, component = _deployed(stacks)
    without = {k: v for k, v in _stage(endpoint, component).items() if k in ("Model", "Config", "Endpoint")}
    assert stacks.deploy(stack, without)["StackStatus"] == "UPDATE_COMPLETE"
    assert "Component" not in stacks.backed(stack) or not stacks.backed(stack)["Component"]
    assert stacks.delete(stack) == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="Could not find inference component"):
        stacks.client("sagemaker").describe_inference_component(InferenceComponentName=component)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {
                "Specification": {
                    "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
                    "ComputeResourceRequirements": {"MinMemoryRequiredInMb": 127, "NumberOfCpuCoresRequired": 2},
                }
            },
            "MinMemoryRequiredInMb",
        ),
        ({"InferenceComponentName": "under_score"}, "must match"),
        ({"VariantName": "Other"}, "has no production variant Other"),
        ({"Specification": {"ModelName": {"Fn::GetAtt": ["Model", "ModelName"]}}}, "ComputeResourceRequirements"),
        ({"RuntimeConfig": {"CopyCount": -1}}, "CopyCount"),
        (
            {"DeploymentConfig": {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "COPY_COUNT", "Value": 1}}}},
            "WaitIntervalInSeconds",
        ),
    ],
)
def test_what_sagemaker_refuses_fails_the_component(stacks: Stacks, changes: dict[str, Any], message: str) -> None:
    template = _stage(stacks.unique_name("endpoint"), stacks.unique_name("component"), **changes)
    assert message in _failure(stacks, template)


def test_a_variant_that_serves_a_model_cannot_host_a_component(stacks: Stacks) -> None:
    template = _stage(stacks.unique_name("endpoint"), stacks.unique_name("component"))
    variant = template["Config"]["Properties"]["ProductionVariants"][0]
    variant["ModelName"] = {"Fn::GetAtt": ["Model", "ModelName"]}
    assert "hosted only by variants that name no model" in _failure(stacks, template)


def test_a_config_whose_variants_name_no_model_needs_the_execution_role(stacks: Stacks) -> None:
    template = _stage(stacks.unique_name("endpoint"), stacks.unique_name("component"))
    del template["Config"]["Properties"]["ExecutionRoleArn"]
    reason = _failure(stacks, template)
    assert "Config" in reason and "must carry ExecutionRoleArn" in reason


def test_copies_cannot_be_scaled_for_a_component_that_does_not_exist(stacks: Stacks) -> None:
    with pytest.raises(ClientError, match="does not exist"):
        stacks.client("application-autoscaling").register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId="inference-component/missing",
            ScalableDimension="sagemaker:inference-component:DesiredCopyCount",
            MinCapacity=0,
            MaxCapacity=1,
        )


def test_the_scalable_target_and_both_policies_are_registered(stacks: Stacks) -> None:
    _, _, component = _deployed(stacks)
    autoscaling = stacks.client("application-autoscaling")
    resource_id = f"inference-component/{component}"
    (target,) = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource_id])[
        "ScalableTargets"
    ]
    assert (target["ScalableDimension"], target["MinCapacity"], target["MaxCapacity"]) == (
        "sagemaker:inference-component:DesiredCopyCount",
        0,
        4,
    )
    policies = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource_id)[
        "ScalingPolicies"
    ]
    assert sorted((p["PolicyName"], p["PolicyType"]) for p in policies) == [
        ("concurrent-requests-per-copy", "TargetTrackingScaling"),
        ("scale-out-from-zero", "StepScaling"),
    ]


def test_the_runtime_config_sets_the_copies_and_the_instances_they_need(stacks: Stacks) -> None:
    _, endpoint, component = _deployed(stacks)
    stacks.client("sagemaker").update_inference_component_runtime_config(
        InferenceComponentName=component, DesiredRuntimeConfig={"CopyCount": 3}
    )
    # One copy reserves both vCPUs of an ml.m5.large.
    assert (_copies(stacks, component)["CurrentCopyCount"], _instances(stacks, endpoint)) == (3, 3)


def test_a_deploy_sets_the_copies_only_when_the_template_changes_them(stacks: Stacks) -> None:
    stack, endpoint, component = _deployed(stacks)
    sagemaker = stacks.client("sagemaker")
    sagemaker.update_inference_component_runtime_config(
        InferenceComponentName=component, DesiredRuntimeConfig={"CopyCount": 0}
    )
    changed_memory = _stage(endpoint, component)
    changed_memory["Component"]["Properties"]["Specification"]["ComputeResourceRequirements"][
        "MinMemoryRequiredInMb"
    ] = 2048
    stacks.deploy(stack, changed_memory)
    assert _copies(stacks, component)["DesiredCopyCount"] == 0
    stacks.deploy(stack, _stage(endpoint, component, RuntimeConfig={"CopyCount": 2}))
    assert _copies(stacks, component)["DesiredCopyCount"] == 2


def test_a_tripped_rollback_alarm_keeps_the_previous_specification(stacks: Stacks) -> None:
    stack, endpoint, component = _deployed(stacks)
    template = _stage(endpoint, component)
    template["Rollback"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": f"{component}-Rollback",
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 1,
            "MetricName": "Invocation5XXErrors",
            "Namespace": "AWS/SageMaker",
            "Period": 60,
            "Statistic": "Sum",
            "Threshold": 0,
        },
    }
    stacks.deploy(stack, template)
    stacks.client("cloudwatch").set_alarm_state(AlarmName=f"{component}-Rollback", StateValue="ALARM", StateReason="t")
    updated = copy.deepcopy(template)
    updated["Component"]["Properties"]["Specification"]["ComputeResourceRequirements"]["MinMemoryRequiredInMb"] = 4096
    assert stacks.deploy(stack, updated)["StackStatus"] == "UPDATE_COMPLETE"
    described = stacks.client("sagemaker").describe_inference_component(InferenceComponentName=component)
    assert described["Specification"]["ComputeResourceRequirements"]["MinMemoryRequiredInMb"] == 1024
    assert described["LastDeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": f"{component}-Rollback"}
    ]


def test_an_invocation_names_the_component(stacks: Stacks) -> None:
    _, endpoint, _ = _deployed(stacks)
    runtime = stacks.client("sagemaker-runtime")
    with pytest.raises(ClientError, match="Inference Component Name header is required"):
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"1,2")
    with pytest.raises(ClientError, match="is not hosted by endpoint"):
        runtime.invoke_endpoint(
            EndpointName=endpoint, InferenceComponentName="other", ContentType="text/csv", Body=b"1,2"
        )


def _invoke_at_zero(stacks: Stacks, endpoint: str, component: str) -> None:
    with pytest.raises(ClientError, match="Inference Component has no capacity"):
        stacks.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint, InferenceComponentName=component, ContentType="text/csv", Body=b"1,2"
        )


def test_idle_copies_scale_in_to_zero_and_a_request_brings_one_back(stacks: Stacks, emulator: Emulator) -> None:
    _, endpoint, component = _deployed(stacks)
    busy = emulator.simulate_scaling(REGION, component, concurrent_requests_per_copy=5)
    assert (busy["copiesBefore"], busy["copiesAfter"]) == (1, 3)  # ceil(1 x 5 / 2), the template's TargetValue
    idle = emulator.simulate_scaling(REGION, component, concurrent_requests_per_copy=0)
    assert idle["copiesAfter"] == 0
    assert (_copies(stacks, component)["CurrentCopyCount"], _instances(stacks, endpoint)) == (0, 0)
    # At zero no datapoint of concurrent requests exists and no request has failed yet: nothing moves.
    quiet = emulator.simulate_scaling(REGION, component)
    assert quiet["copiesAfter"] == 0
    assert {"policy": "scale-out-from-zero", "alarm": quiet["decisions"][1]["alarm"], "state": "OK"} in quiet[
        "decisions"
    ]
    _invoke_at_zero(stacks, endpoint, component)
    woken = emulator.simulate_scaling(REGION, component)
    step = next(d for d in woken["decisions"] if d["policy"] == "scale-out-from-zero")
    assert (step["state"], step["metric"], woken["copiesAfter"]) == ("ALARM", 1.0, 1)
    assert (_copies(stacks, component)["CurrentCopyCount"], _instances(stacks, endpoint)) == (1, 1)
    alarm = stacks.client("cloudwatch").describe_alarms(AlarmNames=[step["alarm"]])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"


def test_scaling_stays_within_the_target_bounds(stacks: Stacks, emulator: Emulator) -> None:
    _, _, component = _deployed(stacks)
    assert emulator.simulate_scaling(REGION, component, concurrent_requests_per_copy=100)["copiesAfter"] == 4


def test_the_simulation_refuses_what_it_cannot_evaluate(stacks: Stacks, emulator: Emulator) -> None:
    _, _, component = _deployed(stacks)
    with pytest.raises(EmulatorRefused, match="no inference component missing"):
        emulator.simulate_scaling(REGION, "missing")
    with pytest.raises(EmulatorRefused, match="allowed: a number >= 0"):
        emulator.simulate_scaling(REGION, component, concurrent_requests_per_copy=-1)
