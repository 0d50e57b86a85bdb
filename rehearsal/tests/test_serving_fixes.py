"""The emulator's endpoint deployments, as SageMaker runs them: named endpoints that start their log group,
UpdateEndpoint with retained variant properties, the traffic-routing rules, and alarm-driven rollback."""

from __future__ import annotations

import pytest

from rehearsal.tests.support import Stacks

ROLE = "arn:aws:iam::123456789012:role/any"


def _endpoint(
    name: str, image: str, *, count: int, excluded: tuple[str, ...] = ("DesiredWeight",), routing: dict | None = None
) -> dict:
    deployment = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing or {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 120}
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": f"{name}-Rollback"}]},
    }
    return {
        "Model": {
            "Type": "AWS::SageMaker::Model",
            "Properties": {"ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": image}},
        },
        "Config": {
            "Type": "AWS::SageMaker::EndpointConfig",
            "Properties": {
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
                        "InstanceType": "ml.m5.large",
                        "InitialInstanceCount": count,
                        "InitialVariantWeight": 1,
                    }
                ]
            },
        },
        "Endpoint": {
            "Type": "AWS::SageMaker::Endpoint",
            "Properties": {
                "EndpointName": name,
                "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]},
                "RetainAllVariantProperties": True,
                "ExcludeRetainedVariantProperties": [{"VariantPropertyType": kind} for kind in excluded],
                "DeploymentConfig": deployment,
            },
        },
    }


def _variant(stacks: Stacks, name: str) -> dict:
    return stacks.client("sagemaker").describe_endpoint(EndpointName=name)["ProductionVariants"][0]


def _scale(stacks: Stacks, name: str, count: int) -> None:
    """What the autoscaler does to a registered variant."""
    stacks.client("sagemaker").update_endpoint_weights_and_capacities(
        EndpointName=name, DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": count}]
    )


def test_an_endpoint_has_its_template_name_and_starts_its_log_group(stacks: Stacks) -> None:
    stack, name = stacks.unique_name(), stacks.unique_name("endpoint")
    stacks.deploy(stack, _endpoint(name, "registry.example/model:1", count=1))
    assert stacks.physical_ids(stack)["Endpoint"].endswith(f"endpoint/{name}")
    groups = stacks.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/sagemaker/Endpoints/{name}")
    assert [group["logGroupName"] for group in groups["logGroups"]] == [f"/aws/sagemaker/Endpoints/{name}"]


def test_an_update_keeps_the_autoscaled_count_unless_the_template_owns_it(stacks: Stacks) -> None:
    stack, name = stacks.unique_name(), stacks.unique_name("endpoint")
    stacks.deploy(stack, _endpoint(name, "registry.example/model:1", count=1))
    _scale(stacks, name, 3)
    stacks.deploy(stack, _endpoint(name, "registry.example/model:2", count=2))
    assert _variant(stacks, name)["DesiredInstanceCount"] == 3
    stacks.deploy(
        stack, _endpoint(name, "registry.example/model:3", count=2, excluded=("DesiredWeight", "DesiredInstanceCount"))
    )
    assert _variant(stacks, name)["DesiredInstanceCount"] == 2
    config = stacks.physical_ids(stack)["Config"].rsplit("/", 1)[1]
    assert stacks.client("sagemaker").describe_endpoint(EndpointName=name)["EndpointConfigName"] == config


@pytest.mark.parametrize(
    ("routing", "field"),
    [
        ({"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}}, "CanarySize"),
        ({"Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25}}, "LinearStepSize"),
    ],
)
def test_a_one_instance_fleet_cannot_be_split_into_steps(stacks: Stacks, routing: dict, field: str) -> None:
    stack, name = stacks.unique_name(), stacks.unique_name("endpoint")
    routing = {**routing, "WaitIntervalInSeconds": 120}
    stacks.deploy(stack, _endpoint(name, "registry.example/model:1", count=1, routing=routing))
    described = stacks.deploy(stack, _endpoint(name, "registry.example/model:2", count=1, routing=routing))
    assert described["StackStatus"] == "UPDATE_FAILED"
    events = stacks.cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    reason = next(
        event["ResourceStatusReason"]
        for event in events
        if event["LogicalResourceId"] == "Endpoint" and event["ResourceStatus"] == "UPDATE_FAILED"
    )
    assert "ValidationException" in reason or "ValidationError" in reason
    assert f"{field} of 1 instance(s) for variant AllTraffic is invalid" in reason
    assert "of the variant's total instance count (1)" in reason


def test_a_tripped_rollback_alarm_leaves_the_endpoint_on_its_previous_config(stacks: Stacks) -> None:
    stack, name = stacks.unique_name(), stacks.unique_name("endpoint")
    stacks.deploy(stack, _endpoint(name, "registry.example/model:1", count=1))
    previous = stacks.client("sagemaker").describe_endpoint(EndpointName=name)["EndpointConfigName"]
    cloudwatch = stacks.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=f"{name}-Rollback",
        MetricName="Invocation5XXErrors",
        Namespace="AWS/SageMaker",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=f"{name}-Rollback", StateValue="ALARM", StateReason="5XX rate 12%")
    described = stacks.deploy(stack, _endpoint(name, "registry.example/model:2", count=1))
    assert described["StackStatus"] == "UPDATE_COMPLETE"  # as CloudFormation reports a rolled-back update
    endpoint = stacks.client("sagemaker").describe_endpoint(EndpointName=name)
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == previous != stacks.physical_ids(stack)["Config"].rsplit("/", 1)[1]
    alarms = endpoint["LastDeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert alarms == [{"AlarmName": f"{name}-Rollback"}]


def test_alarms_in_alarm_include_composite_ones(stacks: Stacks) -> None:
    stack, name = stacks.unique_name(), stacks.unique_name("alarm")
    metric = {"MetricName": "m", "Namespace": "n", "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1}
    alarm = {**metric, "AlarmName": f"{name}-child", "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"}
    composite = {"AlarmName": name, "AlarmRule": f'ALARM("{name}-child")'}
    stacks.deploy(
        stack,
        {
            "Child": {"Type": "AWS::CloudWatch::Alarm", "Properties": alarm},
            "Composite": {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": composite},
        },
    )
    cloudwatch = stacks.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="rehearsal")
    firing = cloudwatch.describe_alarms(StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    assert [alarm["AlarmName"] for alarm in firing["CompositeAlarms"]] == [name]
