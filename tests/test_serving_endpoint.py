"""The serving constructs on their own: ModelEndpoint, EndpointAlarms and PlatformDashboard, their validation
and the update-safe shape of the endpoint."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from ml_constructs import (
    CapacitySchedule,
    DataStore,
    EndpointAlarms,
    ModelEndpoint,
    ModelImage,
    PlatformDashboard,
    TrafficRouting,
)
from ml_constructs.endpoint_alarms import ALARMS
from tests.conftest import PROJECT_ROOT, shipped_context

PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3"


def endpoint_stack(**props) -> tuple[cdk.Stack, ModelEndpoint]:
    """A stack with the endpoint's surroundings (data store, a two-zone VPC, the image) and one ModelEndpoint."""
    app = cdk.App(context=shipped_context())
    stack = cdk.Stack(app, "Serving", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        availability_zones=props.pop("availability_zones", ["eu-west-1a", "eu-west-1b"]),
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    defaults = dict(
        image=ModelImage(stack, "Image"),
        model_package_arn=PACKAGE_ARN,
        data_store=DataStore(stack, "Data"),
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        security_groups=[ec2.SecurityGroup(stack, "Group", vpc=vpc, allow_all_outbound=False)],
        target_invocations_per_instance=12000,
    )
    return stack, ModelEndpoint(stack, "Endpoint", **{**defaults, **props})


def resources_of(template: Template, type_: str) -> Mapping[str, Mapping[str, Any]]:
    return template.find_resources(type_)


def one(template: Template, type_: str) -> tuple[str, Mapping[str, Any]]:
    found = resources_of(template, type_)
    assert len(found) == 1, f"expected one {type_}, found {list(found)}"
    return next(iter(found.items()))


def problems_of(**props) -> str:
    with pytest.raises(ValueError) as raised:
        endpoint_stack(**props)
    return str(raised.value)


BAD_PROPS: dict[str, tuple[dict[str, Any], str]] = {
    "min above max": (
        dict(min_capacity=5, max_capacity=3),
        "min_capacity (5) exceeds max_capacity (3); allowed: min <= max",
    ),
    "no instances": (dict(min_capacity=0), "min_capacity is 0; allowed: 1 or more"),
    "one instance where high availability is required": (
        dict(min_capacity=1, high_availability=True),
        "min_capacity is 1 with high_availability; allowed: 2 or more, so that SageMaker spreads instances over "
        "Availability Zones",
    ),
    "burstable instances with autoscaling": (
        dict(instance_type="ml.t2.medium", min_capacity=1, max_capacity=3),
        "instance_type ml.t2.medium is burstable and SageMaker cannot autoscale it; allowed: max_capacity equal to "
        "min_capacity and no capacity_schedules, or a non-burstable type such as ml.m5.large",
    ),
    "not an instance type": (
        dict(instance_type="m5.large"),
        "instance_type 'm5.large' is not allowed; allowed: ml.<family>.<size>",
    ),
    "canary above half the fleet": (
        dict(traffic_routing=TrafficRouting.canary(60, cdk.Duration.minutes(5))),
        "canary traffic routing moves 60% of the capacity per step; allowed: 1-50%",
    ),
    "linear steps below ten percent": (
        dict(traffic_routing=TrafficRouting.linear(5, cdk.Duration.minutes(5))),
        "linear traffic routing moves 5% of the capacity per step; allowed: 10-50%",
    ),
    "baking shorter than the rollback alarms need": (
        dict(traffic_routing=TrafficRouting.canary(10, cdk.Duration.seconds(60))),
        "traffic routing wait is 60 s; allowed: at least 120 s, the time the rollback alarms need to trip",
    ),
    "baking longer than SageMaker allows a deployment": (
        dict(min_capacity=2, traffic_routing=TrafficRouting.linear(10, cdk.Duration.hours(1))),
        "maximum_execution_timeout is 39720 s for 36120 s of baking and termination wait; allowed: 600-28800 s",
    ),
    "timeout shorter than the baking": (
        dict(
            traffic_routing=TrafficRouting.canary(10, cdk.Duration.minutes(10)),
            maximum_execution_timeout=cdk.Duration.minutes(10),
        ),
        "maximum_execution_timeout is 600 s for 720 s of baking and termination wait; allowed: 600-28800 s and longer",
    ),
    "termination wait above an hour": (
        dict(termination_wait=cdk.Duration.hours(2)),
        "termination_wait is 7200 s; allowed: 0-3600 s",
    ),
    "scale-in as fast as scale-out": (
        dict(scale_in_cooldown=cdk.Duration.minutes(1)),
        "scale_in_cooldown (60 s) must be longer than scale_out_cooldown (60 s)",
    ),
    "no target": (
        dict(target_invocations_per_instance=0),
        "target_invocations_per_instance is 0; allowed: more than 0",
    ),
    "both model sources": (
        dict(model_data_url="s3://bucket/models/model.tar.gz"),
        "give exactly one of model_package_arn and model_data_url",
    ),
    "no model source": (dict(model_package_arn=None), "give exactly one of model_package_arn and model_data_url"),
    "one Availability Zone": (
        dict(availability_zones=["eu-west-1a"]),
        "vpc_subnets are in ['eu-west-1a']; allowed: subnets in at least 2 Availability Zones",
    ),
    "no security group": (dict(security_groups=[]), "security_groups is empty; allowed: at least one security group"),
    "sampling above everything": (
        dict(data_capture_sampling_percent=101),
        "data_capture_sampling_percent is 101; allowed: 1-100",
    ),
    "scheduled window upside down": (
        dict(capacity_schedules=[CapacitySchedule("night", appscaling.Schedule.cron(hour="20", minute="0"), 4, 2)]),
        "capacity schedule 'night': min_capacity (4) exceeds max_capacity (2); allowed: min <= max",
    ),
    "scheduled window below high availability": (
        dict(
            min_capacity=2,
            high_availability=True,
            capacity_schedules=[CapacitySchedule("night", appscaling.Schedule.cron(hour="20", minute="0"), 1, 2)],
        ),
        "capacity schedule 'night': min_capacity is 1 with high_availability; allowed: 2 or more",
    ),
    "vCPUs that cannot be derived": (
        dict(instance_type="ml.m5.metal"),
        "cannot derive the vCPUs of ml.m5.metal; allowed: give vcpus_per_instance",
    ),
    "rollback on no error at all": (
        dict(rollback_server_error_rate_percent=0),
        "rollback_server_error_rate_percent is 0; allowed: more than 0",
    ),
}


@pytest.mark.parametrize("case", BAD_PROPS, ids=list(BAD_PROPS))
def test_bad_props_are_rejected_with_what_is_allowed(case):
    props, expected = BAD_PROPS[case]
    message = problems_of(**props)
    assert message.startswith("Invalid ModelEndpoint Serving/Endpoint (")
    assert expected in message


def test_every_problem_is_reported_at_once():
    message = problems_of(
        min_capacity=5, max_capacity=3, data_capture_sampling_percent=0, target_invocations_per_instance=-1
    )
    assert "(3 problem(s))" in message


def test_unresolved_instance_type_is_not_validated_and_keeps_a_plain_endpoint_id():
    app = cdk.App(context=shipped_context())
    probe = cdk.Stack(app, "Probe")
    token = cdk.CfnParameter(probe, "InstanceType").value_as_string
    with pytest.raises(ValueError) as raised:  # only the deliberate problem, nothing about the token
        endpoint_stack(instance_type=token, vcpus_per_instance=4, min_capacity=0)
    assert "(1 problem(s))" in str(raised.value) and "instance_type" not in str(raised.value)
    with pytest.raises(ValueError, match="known only at deploy time; allowed: give vcpus_per_instance"):
        endpoint_stack(instance_type=token)
    _, endpoint = endpoint_stack(instance_type=token, vcpus_per_instance=4)
    assert endpoint.cfn_endpoint.node.id == "Endpoint"


def test_a_new_instance_type_creates_a_new_endpoint_and_registration_but_keeps_the_variant():
    def ids(instance_type: str) -> dict[str, str]:
        stack, _ = endpoint_stack(instance_type=instance_type)
        template = Template.from_stack(stack)
        endpoint_id, _ = one(template, "AWS::SageMaker::Endpoint")
        _, target = one(template, "AWS::ApplicationAutoScaling::ScalableTarget")
        _, config = one(template, "AWS::SageMaker::EndpointConfig")
        return {
            "endpoint": endpoint_id,
            "target_endpoint": target["Properties"]["ResourceId"]["Fn::Join"][1][1]["Fn::GetAtt"][0],
            "variant": config["Properties"]["ProductionVariants"][0]["VariantName"],
        }

    large, xlarge = ids("ml.m5.large"), ids("ml.c5.xlarge")
    assert large["endpoint"].startswith("EndpointMlM5Large") and xlarge["endpoint"].startswith("EndpointMlC5Xlarge")
    assert large["target_endpoint"] == large["endpoint"] and xlarge["target_endpoint"] == xlarge["endpoint"]
    assert large["variant"] == xlarge["variant"] == "AllTraffic"


def test_burstable_instances_serve_without_autoscaling():
    stack, endpoint = endpoint_stack(instance_type="ml.t2.medium", min_capacity=1, max_capacity=1)
    template = Template.from_stack(stack)
    assert not endpoint.autoscaling
    assert resources_of(template, "AWS::ApplicationAutoScaling::ScalableTarget") == {}
    assert resources_of(template, "AWS::ApplicationAutoScaling::ScalingPolicy") == {}


def _update_policy(stack: cdk.Stack) -> dict:
    _, endpoint = one(Template.from_stack(stack), "AWS::SageMaker::Endpoint")
    return endpoint["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"]


@pytest.mark.parametrize(
    "fleet",
    [
        dict(min_capacity=1, max_capacity=4),
        dict(
            min_capacity=2,
            capacity_schedules=[CapacitySchedule("night", appscaling.Schedule.expression("cron(0 20 * * ? *)"), 1, 2)],
        ),
    ],
    ids=["one instance at least", "one instance at night"],
)
@pytest.mark.parametrize(
    "routing", [TrafficRouting.canary(10, cdk.Duration.minutes(4)), TrafficRouting.linear(25, cdk.Duration.minutes(4))]
)
def test_a_fleet_that_may_run_one_instance_is_updated_all_at_once_with_the_same_baking(fleet, routing):
    """SageMaker refuses a canary or linear step larger than half the variant's instances; one cannot be halved."""
    stack, endpoint = endpoint_stack(traffic_routing=routing, **fleet)
    policy = _update_policy(stack)
    assert policy["TrafficRoutingConfiguration"] == {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 240}
    assert policy["MaximumExecutionTimeoutInSeconds"] == 240 + 120 + 3600
    assert endpoint.traffic_routing == TrafficRouting.all_at_once(routing.wait)
    rollback = _endpoint_properties(stack)["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert len(rollback) == 2


def test_a_fleet_of_two_instances_keeps_its_canary():
    stack, _ = endpoint_stack(min_capacity=2, traffic_routing=TrafficRouting.canary(10, cdk.Duration.minutes(4)))
    assert _update_policy(stack)["TrafficRoutingConfiguration"]["Type"] == "CANARY"


def _endpoint_properties(stack: cdk.Stack) -> dict:
    return one(Template.from_stack(stack), "AWS::SageMaker::Endpoint")[1]["Properties"]


def test_an_autoscaled_fleet_keeps_the_instance_count_the_autoscaler_reached():
    stack, _ = endpoint_stack(min_capacity=1, max_capacity=4)
    assert _endpoint_properties(stack)["ExcludeRetainedVariantProperties"] == [{"VariantPropertyType": "DesiredWeight"}]


def test_a_fleet_without_autoscaling_takes_its_instance_count_from_the_template():
    """Nothing else sets its count, so a new min_capacity must reach it on update."""
    stack, endpoint = endpoint_stack(instance_type="ml.t2.medium", min_capacity=2, max_capacity=2)
    properties = _endpoint_properties(stack)
    assert not endpoint.autoscaling
    assert properties["RetainAllVariantProperties"] is True
    assert properties["ExcludeRetainedVariantProperties"] == [
        {"VariantPropertyType": "DesiredWeight"},
        {"VariantPropertyType": "DesiredInstanceCount"},
    ]


def test_the_endpoint_log_group_exists_before_the_endpoint_with_retention_and_key():
    stack, _ = endpoint_stack(log_retention=logs.RetentionDays.ONE_MONTH)
    template = Template.from_stack(stack)
    group_id, group = one(template, "AWS::Logs::LogGroup")
    _, definition = one(template, "AWS::SageMaker::Endpoint")
    name = definition["Properties"]["EndpointName"]
    assert name.endswith("-MlM5Large") and len(name) <= 63
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
    assert group["Properties"]["LogGroupName"] == f"/aws/sagemaker/Endpoints/{name}"
    assert group["Properties"]["RetentionInDays"] == 30
    assert "DataKey" in json.dumps(group["Properties"]["KmsKeyId"])
    assert group["DeletionPolicy"] == "Delete"
    assert group_id in definition["DependsOn"]


def test_model_artifact_is_served_with_the_bundled_image():
    stack, _ = endpoint_stack(model_package_arn=None, model_data_url="s3://bucket/models/churn/model.tar.gz")
    _, model = one(Template.from_stack(stack), "AWS::SageMaker::Model")
    container = model["Properties"]["PrimaryContainer"]
    assert container["ModelDataUrl"] == "s3://bucket/models/churn/model.tar.gz"
    assert container["Mode"] == "SingleModel"
    assert "container-assets" in json.dumps(container["Image"])
    assert "ModelPackageName" not in container


def test_linear_routing_and_schedules_are_rendered():
    stack, _ = endpoint_stack(
        min_capacity=2,
        max_capacity=6,
        traffic_routing=TrafficRouting.linear(25, cdk.Duration.minutes(3)),
        capacity_schedules=[
            CapacitySchedule("night", appscaling.Schedule.expression("cron(0 20 * * ? *)"), 2, 2),
            CapacitySchedule("day", appscaling.Schedule.expression("cron(0 6 * * ? *)"), 2, 6),
        ],
    )
    template = Template.from_stack(stack)
    _, endpoint = one(template, "AWS::SageMaker::Endpoint")
    policy = endpoint["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == {
        "Type": "LINEAR",
        "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
        "WaitIntervalInSeconds": 180,
    }
    assert policy["MaximumExecutionTimeoutInSeconds"] == 4 * 180 + 120 + 3600
    _, target = one(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["Properties"]["ScheduledActions"] == [
        {
            "ScheduledActionName": "night",
            "Schedule": "cron(0 20 * * ? *)",
            "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 2},
        },
        {
            "ScheduledActionName": "day",
            "Schedule": "cron(0 6 * * ? *)",
            "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 6},
        },
    ]


def test_instance_storage_types_leave_the_volume_to_hardware_encryption_and_say_why():
    stack, endpoint = endpoint_stack(instance_type="ml.g4dn.xlarge")
    _, config = one(Template.from_stack(stack), "AWS::SageMaker::EndpointConfig")
    assert "KmsKeyId" not in config["Properties"]
    assert "KmsKeyId" in config["Properties"]["DataCaptureConfig"], "captured data is still encrypted with the key"
    acknowledged = {
        rule
        for entry in endpoint.endpoint_config.node.metadata
        if entry.type == "aws:cdk:acknowledged-rules"
        for rule in entry.data
    }
    assert acknowledged == {
        "NIST.800.53.R5::NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
        "HIPAA.Security::HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured",
    }


@pytest.mark.parametrize(
    ("instance_type", "vcpus"),
    [("ml.m5.large", 2), ("ml.c5.xlarge", 4), ("ml.g5.12xlarge", 48), ("ml.t2.medium", 2), ("ml.c6g.medium", 1)],
)
def test_vcpus_are_derived_from_the_instance_size(instance_type, vcpus):
    _, endpoint = endpoint_stack(instance_type=instance_type, max_capacity=1)
    assert endpoint.vcpus_per_instance == vcpus


def test_grant_invoke_allows_invoking_this_endpoint_only():
    stack, endpoint = endpoint_stack()
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_invoke(role)
    policies = resources_of(Template.from_stack(stack), "AWS::IAM::Policy")
    caller = next(
        policy
        for policy in policies.values()
        if policy["Properties"]["Roles"] == [{"Ref": stack.get_logical_id(cast(iam.CfnRole, role.node.default_child))}]
    )
    endpoint_id = stack.get_logical_id(endpoint.cfn_endpoint)
    assert caller["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "sagemaker:InvokeEndpoint",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [endpoint_id, "EndpointArn"]},
        }
    ]


def test_metric_helpers_use_sagemakers_namespaces_statistics_and_units():
    stack, endpoint = endpoint_stack()
    resolve = stack.resolve
    expected = {
        "metric_invocations": ("AWS/SageMaker", "Invocations", "Sum", None),
        "metric_invocation_5xx_errors": ("AWS/SageMaker", "Invocation5XXErrors", "Sum", None),
        "metric_invocation_4xx_errors": ("AWS/SageMaker", "Invocation4XXErrors", "Sum", None),
        "metric_invocations_per_instance": ("AWS/SageMaker", "InvocationsPerInstance", "Sum", None),
        "metric_model_latency": ("AWS/SageMaker", "ModelLatency", "p99", cloudwatch.Unit.MICROSECONDS),
        "metric_overhead_latency": ("AWS/SageMaker", "OverheadLatency", "p99", cloudwatch.Unit.MICROSECONDS),
        "metric_cpu_utilization": ("/aws/sagemaker/Endpoints", "CPUUtilization", "Average", None),
        "metric_memory_utilization": ("/aws/sagemaker/Endpoints", "MemoryUtilization", "Maximum", None),
        "metric_disk_utilization": ("/aws/sagemaker/Endpoints", "DiskUtilization", "Maximum", None),
    }
    for helper, (namespace, name, statistic, unit) in expected.items():
        metric = getattr(endpoint, helper)(period=cdk.Duration.minutes(5))
        assert (metric.namespace, metric.metric_name, metric.statistic) == (namespace, name, statistic), helper
        assert metric.unit == unit, helper
        assert metric.period.to_seconds() == 300, helper
        assert resolve(metric.dimensions) == {
            "EndpointName": {"Fn::GetAtt": [stack.get_logical_id(endpoint.cfn_endpoint), "EndpointName"]},
            "VariantName": "AllTraffic",
        }, helper
    assert endpoint.metric_server_error_rate().expression == "100 * serverErrors / invocations"
    assert endpoint.metric_client_error_rate().expression == "100 * clientErrors / invocations"
    assert endpoint.metric_instance_count().expression == "invocations / perInstance"


def test_alarm_thresholds_follow_the_instance_type_and_period():
    stack, endpoint = endpoint_stack(instance_type="ml.c5.2xlarge", max_capacity=6)
    alarms = EndpointAlarms(
        stack,
        "Alarms",
        endpoint=endpoint,
        topic=sns.Topic(stack, "Topic"),
        max_requests_per_second_per_instance=50,
        cpu_utilization_percent=70,
        invocations_per_instance_percent_of_max=80,
        period=cdk.Duration.minutes(5),
    )
    threshold = {
        name: stack.resolve(cast(cloudwatch.CfnAlarm, alarms.by_id[name].node.default_child).threshold)
        for name in ("CpuUtilization", "InvocationsPerInstance", "InstanceCountAtMax")
    }
    assert threshold == {
        "CpuUtilization": 70 * 8,  # summed over the 8 vCPUs of ml.c5.2xlarge
        "InvocationsPerInstance": 50 * 300 * 0.8,  # per 5-minute Sum
        "InstanceCountAtMax": 5.5,
    }


def test_bad_alarm_settings_are_rejected_at_once():
    stack, endpoint = endpoint_stack()
    with pytest.raises(ValueError) as raised:
        EndpointAlarms(
            stack,
            "Alarms",
            endpoint=endpoint,
            topic=sns.Topic(stack, "Topic"),
            max_requests_per_second_per_instance=0,
            server_error_rate_percent=150,
            period=cdk.Duration.seconds(30),
            evaluation_periods=2,
            datapoints_to_alarm=3,
        )
    message = str(raised.value)
    assert message.startswith("Invalid EndpointAlarms Serving/Alarms (4 problem(s)):")
    for expected in (
        "server_error_rate_percent is 150; allowed: more than 0, at most 100",
        "max_requests_per_second_per_instance is 0; allowed: more than 0",
        "period is 30 s; allowed: a multiple of 60 s",
        "datapoints_to_alarm is 3; allowed: 1 to evaluation_periods (2)",
    ):
        assert expected in message


def test_dashboard_shows_the_pipeline_when_it_is_named():
    stack, endpoint = endpoint_stack()
    PlatformDashboard(stack, "Dashboard", endpoint=endpoint, pipeline_name="churn-training")
    _, dashboard = one(Template.from_stack(stack), "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "Training pipeline executions per day" in body
    for metric in ("ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed", "ExecutionStopped"):
        assert (
            f'\\"AWS/Sagemaker/ModelBuildingPipeline\\",\\"{metric}\\",\\"PipelineName\\",\\"churn-training\\"' in body
        )


def test_the_readme_alarm_table_lists_the_alarm_specs_in_order():
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("### Alarms", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    listed = [name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1])]
    assert listed == [spec.id for spec in ALARMS] + ["Unhealthy", "RollbackServerErrorRate", "RollbackModelLatency"]
