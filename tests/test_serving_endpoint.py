"""The serving constructs on their own: ModelEndpoint, EndpointAlarms and PlatformDashboard, their validation
and the update-safe shape of the endpoint."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from ml_constructs import (
    ContainerImage,
    DataStore,
    EndpointAlarms,
    EndpointAlarmsProps,
    IDataStore,
    ModelEndpoint,
    ModelEndpointProps,
    ModelRegistry,
    PlatformDashboard,
    ScheduledCapacity,
    TrafficShifting,
    TrainingPipeline,
)
from ml_constructs.container_image import TRAINING_CODE_DIR
from ml_constructs.endpoint_alarms import ALARMS
from ml_constructs.endpoint_rollout import ROLLBACK_ALARMS
from platform_contract.problems import InvalidInput
from tests.conftest import PROJECT_ROOT, shipped_context

PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3"
# What the construct takes besides its props.
_CONSTRUCT_ARGUMENTS = ("image", "data_store", "security_groups", "log_retention")


def endpoint_props(**props) -> ModelEndpointProps:
    return ModelEndpointProps(**{"model_package_arn": PACKAGE_ARN, "target_invocations_per_instance": 12000, **props})


def endpoint_stack(
    availability_zones: tuple[str, ...] = ("eu-west-1a", "eu-west-1b"), stack_id: str = "Serving", **props
) -> tuple[cdk.Stack, ModelEndpoint]:
    """A stack with the endpoint's surroundings (data store, a two-zone VPC, the image) and one ModelEndpoint;
    ``props`` are ``ModelEndpointProps`` fields or the construct's other arguments."""
    app = cdk.App(context=shipped_context())
    stack = cdk.Stack(app, stack_id, env=cdk.Environment(account="123456789012", region="eu-west-1"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        availability_zones=list(availability_zones),
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    arguments = {name: props.pop(name) for name in _CONSTRUCT_ARGUMENTS if name in props}
    defaults: dict[str, Any] = dict(
        image=ContainerImage.from_asset(TRAINING_CODE_DIR),
        data_store=DataStore(stack, "Data"),
        security_groups=[ec2.SecurityGroup(stack, "Group", vpc=vpc, allow_all_outbound=False)],
    )
    endpoint = ModelEndpoint(
        stack,
        "Endpoint",
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        props=endpoint_props(**props),
        **{**defaults, **arguments},
    )
    return stack, endpoint


def endpoint_and_pipeline(
    image_of: Callable[[cdk.Stack], ContainerImage], data_store_of: Callable[[cdk.Stack], IDataStore]
) -> tuple[cdk.Stack, ModelEndpoint, TrainingPipeline]:
    """One stack with an endpoint serving an S3 artifact and a training pipeline, both on the image and the data
    store that ``image_of`` and ``data_store_of`` make in that stack."""
    app = cdk.App(context=shipped_context())
    stack = cdk.Stack(app, "Platform", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    image, data_store = image_of(stack), data_store_of(stack)
    endpoint = ModelEndpoint(
        stack,
        "Endpoint",
        image=image,
        data_store=data_store,
        vpc=vpc,
        vpc_subnets=subnets,
        security_groups=[ec2.SecurityGroup(stack, "EndpointGroup", vpc=vpc, allow_all_outbound=False)],
        props=ModelEndpointProps(model_data_url="s3://bucket/models/churn/model.tar.gz"),
    )
    pipeline = TrainingPipeline(
        stack,
        "Pipeline",
        image=image,
        data_store=data_store,
        registry=ModelRegistry(stack, "Registry"),
        vpc=vpc,
        vpc_subnets=subnets,
        security_group=ec2.SecurityGroup(stack, "JobGroup", vpc=vpc, allow_all_outbound=False),
    )
    return stack, endpoint, pipeline


def policy_statements(stack: cdk.Stack, role: iam.IRole) -> list[dict[str, Any]]:
    """The statements of ``role``'s policies in ``stack``'s template."""
    role_ref = {"Ref": stack.get_logical_id(cast(iam.CfnRole, role.node.default_child))}
    return [
        statement
        for policy in Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
        if role_ref in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_an_image_from_an_ecr_repository_is_served_and_trained_with_pull_rights_on_that_repository():
    def image_of(stack: cdk.Stack) -> ContainerImage:
        return ContainerImage.from_ecr_repository(
            ecr.Repository.from_repository_name(stack, "Repo", "churn-model"), "v3"
        )

    stack, endpoint, pipeline = endpoint_and_pipeline(image_of, lambda stack: DataStore(stack, "Data"))
    repository = ecr.Repository.from_repository_name(stack, "Expected", "churn-model")
    uri = stack.resolve(repository.repository_uri_for_tag("v3"))
    arn = stack.resolve(repository.repository_arn)
    template = Template.from_stack(stack)
    _, model = one(template, "AWS::SageMaker::Model")
    assert model["Properties"]["PrimaryContainer"]["Image"] == uri
    assert stack.resolve(pipeline.image_uri) == uri
    assert "churn-model:v3" in json.dumps(template.find_resources("AWS::SageMaker::Pipeline"))
    assert "container-assets" not in json.dumps(template.to_json())

    def pulls(role: iam.IRole) -> list[tuple[Any, Any]]:
        return [
            (statement.get("Sid"), sorted(cast(list[str], statement["Action"])))
            for statement in policy_statements(stack, role)
            if statement["Resource"] == arn
        ]

    assert pulls(endpoint.role) == [
        (None, ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
    ]
    assert pulls(pipeline.execution_role) == [("PullTheImage", ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])]
    assert pulls(pipeline.pipeline_role) == []


def resources_of(template: Template, type_: str) -> Mapping[str, Mapping[str, Any]]:
    return template.find_resources(type_)


def one(template: Template, type_: str) -> tuple[str, Mapping[str, Any]]:
    found = resources_of(template, type_)
    assert len(found) == 1, f"expected one {type_}, found {list(found)}"
    return next(iter(found.items()))


NIGHT = "cron(0 20 * * ? *)"
MORNING = "cron(0 6 * * ? *)"

BAD_PROPS: dict[str, tuple[dict[str, Any], str, str]] = {
    "min above max": (
        dict(min_capacity=5, max_capacity=3),
        "min_capacity",
        "5 is not allowed; allowed: at most max_capacity (3)",
    ),
    "no instances": (dict(min_capacity=0), "min_capacity", "0 is not allowed; allowed: 1 or more"),
    "no instances at most": (dict(max_capacity=0), "max_capacity", "0 is not allowed; allowed: 1 or more"),
    "one instance where high availability is required": (
        dict(min_capacity=1, high_availability=True),
        "min_capacity",
        "1 is not allowed; allowed: 2 or more with high_availability (prod), so that an Availability Zone can fail",
    ),
    "burstable instances with autoscaling": (
        dict(instance_type="ml.t2.medium", min_capacity=1, max_capacity=3),
        "instance_type",
        "'ml.t2.medium' is not allowed (burstable, and SageMaker cannot autoscale it); allowed: a non-burstable type "
        "such as ml.m5.large, or max_capacity equal to min_capacity, no scheduled_capacity and scale_to_zero false",
    ),
    "burstable instances that scale to zero": (
        dict(instance_type="ml.t2.medium", min_capacity=1, max_capacity=1, scale_to_zero=True),
        "instance_type",
        "'ml.t2.medium' is not allowed (burstable, and SageMaker cannot autoscale it)",
    ),
    "scale to zero with high availability": (
        dict(min_capacity=2, high_availability=True, scale_to_zero=True),
        "scale_to_zero",
        "true is not allowed (an idle endpoint would hold no instance, while high availability keeps at least "
        "two); allowed: false with high_availability (prod)",
    ),
    "scale to zero with a capacity schedule": (
        dict(
            scale_to_zero=True,
            scheduled_capacity=(ScheduledCapacity("day", "cron(0 6 ? * * *)", min_capacity=1, max_capacity=4),),
        ),
        "scheduled_capacity",
        "<1 schedule(s)> is not allowed (an idle endpoint already holds no instance, and a schedule's minimum would "
        "keep one); allowed: none with scale_to_zero",
    ),
    "copies smaller than SageMaker allows": (
        dict(scale_to_zero=True, copy_memory_mb=64),
        "copy_memory_mb",
        "64 is not allowed; allowed: 128 or more",
    ),
    "no concurrency per instance": (
        dict(max_concurrent_requests_per_instance=0),
        "max_concurrent_requests_per_instance",
        "0 is not allowed; allowed: 1 or more",
    ),
    "not an instance type": (
        dict(instance_type="m5.large"),
        "instance_type",
        "'m5.large' is not allowed; allowed: ml.<family>.<size>",
    ),
    "unknown shifting mode": (
        dict(traffic_shifting=TrafficShifting(mode=cast(Any, "blue"))),
        "traffic_shifting.mode",
        "'blue' is not allowed; allowed: canary, linear, all_at_once",
    ),
    "canary above half the fleet": (
        dict(traffic_shifting=TrafficShifting("canary", 60)),
        "traffic_shifting.step_percent",
        "60 is not allowed; allowed: 1-50 for canary steps (SageMaker's limit)",
    ),
    "linear steps below ten percent": (
        dict(traffic_shifting=TrafficShifting("linear", 5)),
        "traffic_shifting.step_percent",
        "5 is not allowed; allowed: 10-50 for linear steps",
    ),
    "baking shorter than the rollback alarms need": (
        dict(traffic_shifting=TrafficShifting(wait_seconds=60)),
        "traffic_shifting.wait_seconds",
        "60 is not allowed (the time the rollback alarms need to trip); allowed: at least 120",
    ),
    "baking longer than SageMaker allows a step": (
        dict(traffic_shifting=TrafficShifting(wait_seconds=4000)),
        "traffic_shifting.wait_seconds",
        "4000 is not allowed; allowed: 0-3600",
    ),
    "baking longer than SageMaker allows a deployment": (
        dict(min_capacity=2, traffic_shifting=TrafficShifting("linear", 10, 3600)),
        "traffic_shifting.wait_seconds",
        "3600 is not allowed (10 step(s) and the termination wait bake for 36120 s; with an hour to provision, the "
        "deployment would exceed SageMaker's 28800 s); allowed: a baking time of at most 25200 s in all",
    ),
    "timeout shorter than the baking": (
        dict(traffic_shifting=TrafficShifting(wait_seconds=600), maximum_execution_timeout_seconds=600),
        "maximum_execution_timeout_seconds",
        "600 is not allowed; allowed: 600-28800 and longer than the 720 s of baking and termination wait",
    ),
    "timeout longer than SageMaker allows": (
        dict(maximum_execution_timeout_seconds=30000),
        "maximum_execution_timeout_seconds",
        "30000 is not allowed; allowed: 600-28800",
    ),
    "termination wait above an hour": (
        dict(traffic_shifting=TrafficShifting(termination_wait_seconds=7200)),
        "traffic_shifting.termination_wait_seconds",
        "7200 is not allowed; allowed: 0-3600",
    ),
    "scale-in as fast as scale-out": (
        dict(scale_in_cooldown_seconds=60),
        "scale_in_cooldown_seconds",
        "60 is not allowed; allowed: more than scale_out_cooldown_seconds (60), so that scale-in is slower",
    ),
    "no scale-out cooldown": (dict(scale_out_cooldown_seconds=0), "scale_out_cooldown_seconds", "0 is not allowed"),
    "no target": (
        dict(target_invocations_per_instance=0),
        "target_invocations_per_instance",
        "0 is not allowed; allowed: 1 or more, or null",
    ),
    "no measured capacity": (
        dict(max_requests_per_second_per_instance=0),
        "max_requests_per_second_per_instance",
        "0 is not allowed; allowed: more than 0",
    ),
    "safety factor above one": (
        dict(scaling_safety_factor=1.5),
        "scaling_safety_factor",
        "1.5 is not allowed; allowed: more than 0, at most 1",
    ),
    "both model sources": (
        dict(model_data_url="s3://bucket/models/model.tar.gz"),
        "model_data_url",
        "'s3://bucket/models/model.tar.gz' is not allowed; allowed: null when model_package_arn is set",
    ),
    "no model source": (
        dict(model_package_arn=None),
        "model_package_arn",
        "null is not allowed (the endpoint serves nothing); allowed: a model package ARN, or model_data_url",
    ),
    "sampling above everything": (
        dict(data_capture_sampling_percent=101),
        "data_capture_sampling_percent",
        "101 is not allowed; allowed: 1-100",
    ),
    "scheduled window upside down": (
        dict(scheduled_capacity=(ScheduledCapacity("night", NIGHT, 4, 2),)),
        "scheduled_capacity[0].min_capacity",
        "4 is not allowed; allowed: at most max_capacity (2)",
    ),
    "scheduled window without instances": (
        dict(scheduled_capacity=(ScheduledCapacity("night", NIGHT, 0, 2),)),
        "scheduled_capacity[0].min_capacity",
        "0 is not allowed; allowed: 1 or more",
    ),
    "scheduled window below high availability": (
        dict(min_capacity=2, high_availability=True, scheduled_capacity=(ScheduledCapacity("night", NIGHT, 1, 2),)),
        "scheduled_capacity[0].min_capacity",
        "1 is not allowed; allowed: 2 or more with high_availability",
    ),
    "scheduled windows of one name": (
        dict(scheduled_capacity=(ScheduledCapacity("night", NIGHT, 1, 2), ScheduledCapacity("night", MORNING, 1, 4))),
        "scheduled_capacity[1].name",
        "'night' is not allowed (listed twice); allowed: a name no other schedule has",
    ),
    "scheduled window name with spaces": (
        dict(scheduled_capacity=(ScheduledCapacity("at night", NIGHT, 1, 2),)),
        "scheduled_capacity[0].name",
        "'at night' is not allowed; allowed: 1-64 letters, digits and hyphens",
    ),
    "vCPUs that cannot be derived": (
        dict(instance_type="ml.m5.metal"),
        "vcpus_per_instance",
        "null is not allowed (they cannot be derived from its size); allowed: the vCPUs of ml.m5.metal",
    ),
    "no vCPUs": (dict(vcpus_per_instance=0), "vcpus_per_instance", "0 is not allowed; allowed: 1 or more"),
    "rollback on no error at all": (
        dict(rollback_server_error_rate_percent=0),
        "rollback_server_error_rate_percent",
        "0 is not allowed; allowed: more than 0, at most 100",
    ),
    "rollback on any latency": (
        dict(rollback_model_latency_p99_ms=0),
        "rollback_model_latency_p99_ms",
        "0 is not allowed; allowed: more than 0",
    ),
}


@pytest.mark.parametrize("case", BAD_PROPS, ids=list(BAD_PROPS))
def test_bad_props_are_keyed_by_their_field_with_what_is_allowed(case):
    props, key, expected = BAD_PROPS[case]
    problems = [str(problem) for problem in endpoint_props(**props).problems() if problem.key == key]
    assert problems, f"no problem keyed {key}: {endpoint_props(**props).problems()}"
    assert any(f"{key}: {expected}" in problem for problem in problems), problems


def test_the_default_props_with_a_model_have_no_problems():
    assert endpoint_props().problems() == []
    assert ModelEndpointProps(model_data_url="s3://bucket/models/model.tar.gz").problems() == []


def test_the_construct_reports_the_props_and_its_objects_problems_at_once():
    with pytest.raises(InvalidInput) as raised:
        endpoint_stack(
            availability_zones=("eu-west-1a",),
            security_groups=[],
            min_capacity=5,
            max_capacity=3,
            data_capture_sampling_percent=0,
        )
    assert str(raised.value).startswith("ModelEndpoint Serving/Endpoint (4 problem(s)):")
    assert [problem.key for problem in raised.value.problems] == [
        "min_capacity",
        "data_capture_sampling_percent",
        "vpc_subnets",
        "security_groups",
    ]
    assert "vpc_subnets: ['eu-west-1a'] is not allowed; allowed: subnets in at least 2 Availability Zones" in str(
        raised.value
    )
    assert "security_groups: <none> is not allowed; allowed: at least one security group" in str(raised.value)


def test_unresolved_instance_type_is_not_validated_and_keeps_a_plain_endpoint_id():
    app = cdk.App(context=shipped_context())
    probe = cdk.Stack(app, "Probe")
    token = cdk.CfnParameter(probe, "InstanceType").value_as_string
    with pytest.raises(InvalidInput) as raised:  # only the deliberate problem, nothing about the token
        endpoint_stack(instance_type=token, vcpus_per_instance=4, min_capacity=0)
    assert [problem.key for problem in raised.value.problems] == ["min_capacity"]
    with pytest.raises(InvalidInput, match="known only at deploy time\\); allowed: the vCPUs of the instance type"):
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
        dict(min_capacity=2, scheduled_capacity=(ScheduledCapacity("night", NIGHT, 1, 2),)),
    ],
    ids=["one instance at least", "one instance at night"],
)
@pytest.mark.parametrize("shifting", [TrafficShifting("canary", 10, 240), TrafficShifting("linear", 25, 240)])
def test_a_fleet_that_may_run_one_instance_is_updated_all_at_once_with_the_same_baking(fleet, shifting):
    """SageMaker refuses a canary or linear step larger than half the variant's instances; one cannot be halved."""
    stack, endpoint = endpoint_stack(traffic_shifting=shifting, **fleet)
    policy = _update_policy(stack)
    assert policy["TrafficRoutingConfiguration"] == {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 240}
    assert policy["MaximumExecutionTimeoutInSeconds"] == 240 + 120 + 3600
    assert (endpoint.traffic_shifting.mode, endpoint.traffic_shifting.wait_seconds) == ("all_at_once", 240)
    rollback = _endpoint_properties(stack)["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert len(rollback) == 2


def test_a_fleet_of_two_instances_keeps_its_canary():
    stack, _ = endpoint_stack(min_capacity=2, traffic_shifting=TrafficShifting("canary", 10, 240))
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
        traffic_shifting=TrafficShifting("linear", 25, 180),
        scheduled_capacity=(ScheduledCapacity("night", NIGHT, 2, 2), ScheduledCapacity("day", MORNING, 2, 6)),
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
    stack, endpoint = endpoint_stack(
        instance_type="ml.c5.2xlarge", max_capacity=6, max_requests_per_second_per_instance=50
    )
    alarms = EndpointAlarms(
        stack,
        "Alarms",
        endpoint=endpoint,
        topic=sns.Topic(stack, "Topic"),
        props=EndpointAlarmsProps(
            cpu_utilization_percent=70, invocations_per_instance_percent_of_max=80, period_seconds=300
        ),
    )
    threshold = {
        name: stack.resolve(cast(cloudwatch.CfnAlarm, alarms.by_id[name].node.default_child).threshold)
        for name in ("CpuUtilization", "InvocationsPerInstance", "InstanceCountAtMax")
    }
    assert threshold == {
        "CpuUtilization": 70 * 8,  # summed over the 8 vCPUs of ml.c5.2xlarge
        "InvocationsPerInstance": 50 * 300 * 0.8,  # per 5-minute Sum, of the endpoint's measured maximum
        "InstanceCountAtMax": 5.5,
    }


BAD_ALARM_PROPS: dict[str, tuple[dict[str, Any], str, str]] = {
    "error rate above everything": (
        dict(server_error_rate_percent=150),
        "server_error_rate_percent",
        "150 is not allowed; allowed: more than 0, at most 100",
    ),
    "no memory threshold": (dict(memory_utilization_percent=0), "memory_utilization_percent", "0 is not allowed"),
    "no overhead latency": (
        dict(overhead_latency_p99_ms=0),
        "overhead_latency_p99_ms",
        "0 is not allowed; allowed: more than 0",
    ),
    "sub-minute period": (
        dict(period_seconds=30),
        "period_seconds",
        "30 is not allowed (SageMaker publishes endpoint metrics per minute); allowed: a multiple of 60",
    ),
    "period of odd seconds": (dict(period_seconds=90), "period_seconds", "90 is not allowed"),
    "no evaluation periods": (dict(evaluation_periods=0), "evaluation_periods", "0 is not allowed; allowed: 1 or more"),
    "more than a day of minutes": (
        dict(evaluation_periods=1441),
        "evaluation_periods",
        "1441 is not allowed (CloudWatch evaluates at most 86400 s); allowed: at most 1440 with period_seconds 60",
    ),
    "more than a week of hours": (
        dict(period_seconds=3600, evaluation_periods=169, datapoints_to_alarm=1),
        "evaluation_periods",
        "169 is not allowed (CloudWatch evaluates at most 604800 s); allowed: at most 168",
    ),
    "more datapoints than periods": (
        dict(evaluation_periods=2, datapoints_to_alarm=3),
        "datapoints_to_alarm",
        "3 is not allowed; allowed: 1 to evaluation_periods (2)",
    ),
    "no datapoints": (dict(datapoints_to_alarm=0), "datapoints_to_alarm", "0 is not allowed"),
}


@pytest.mark.parametrize("case", BAD_ALARM_PROPS, ids=list(BAD_ALARM_PROPS))
def test_bad_alarm_props_are_keyed_by_their_field_with_what_is_allowed(case):
    props, key, expected = BAD_ALARM_PROPS[case]
    problems = [str(problem) for problem in EndpointAlarmsProps(**props).problems() if problem.key == key]
    assert any(f"{key}: {expected}" in problem for problem in problems), problems


def test_bad_alarm_props_are_rejected_at_once():
    assert EndpointAlarmsProps().problems() == []
    stack, endpoint = endpoint_stack()
    with pytest.raises(InvalidInput) as raised:
        EndpointAlarms(
            stack,
            "Alarms",
            endpoint=endpoint,
            topic=sns.Topic(stack, "Topic"),
            props=EndpointAlarmsProps(
                server_error_rate_percent=150, period_seconds=30, evaluation_periods=2, datapoints_to_alarm=3
            ),
        )
    assert str(raised.value).startswith("EndpointAlarms Serving/Alarms (3 problem(s)):")
    assert [problem.key for problem in raised.value.problems] == [
        "server_error_rate_percent",
        "period_seconds",
        "datapoints_to_alarm",
    ]


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
    assert listed == [spec.id for spec in ALARMS] + ["Unhealthy"] + [spec.id for spec in ROLLBACK_ALARMS]
