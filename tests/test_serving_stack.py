"""The Serving stack of a Region with a model: endpoint, update policy, autoscaling, alarms, dashboard, outputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import pytest
from aws_cdk.assertions import Template

from ml_constructs import ModelEndpoint
from tests.conftest import PROJECT_ROOT, serving_context

REGION = "eu-west-1"


def resources_of(template: Template, type_: str) -> Mapping[str, Mapping[str, Any]]:
    return template.find_resources(type_)


def one(template: Template, type_: str, prefix: str = "") -> tuple[str, Mapping[str, Any]]:
    """The one resource of ``type_`` whose logical ID starts with ``prefix`` (the monitoring jobs have a role of
    their own, for example)."""
    found = {key: value for key, value in resources_of(template, type_).items() if key.startswith(prefix)}
    assert len(found) == 1, f"expected one {type_}, found {list(found)}"
    return next(iter(found.items()))


def properties(template: Template, type_: str) -> dict:
    return one(template, type_)[1]["Properties"]


# The endpoint that keeps its instances; tests/test_serving_scale_to_zero.py has the one that scales to zero.
@pytest.fixture(scope="module")
def serving(always_on_platform) -> Template:
    return always_on_platform.template(REGION, "serving")


@pytest.fixture(scope="module")
def settings(always_on_platform):
    return next(region for region in always_on_platform.config.regions if region.region == REGION).settings


@pytest.fixture(scope="module")
def endpoint_id(serving) -> str:
    return one(serving, "AWS::SageMaker::Endpoint")[0]


def endpoint_name_of(endpoint_id: str) -> dict:
    return {"Fn::GetAtt": [endpoint_id, "EndpointName"]}


def stack_output(value: dict) -> str:
    """The output name behind a reference to another stack of the Region."""
    return value["Fn::GetStackOutput"]["OutputName"]


def text(value) -> str:
    """A CloudFormation value as one string: references become <name>, joins are joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(map(text, value))
    if "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        return delimiter.join(map(text, parts))
    if "Fn::GetStackOutput" in value:
        return f"<{stack_output(value)}>"
    if "Fn::Sub" in value:
        return value["Fn::Sub"]
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    return "<{}>".format(value["Ref"])


def test_only_regions_whose_config_names_a_model_get_a_serving_stack(platform):
    assert platform.stages[REGION].serving is not None
    assert platform.stages["us-east-1"].serving is None


@pytest.mark.slow  # app.py synthesizes every Region in a process of its own
def test_the_app_names_each_region_without_a_model_once(tmp_path):
    environment = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(serving_context()), "CDK_OUTDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["Region us-east-1 has no serving stack: no model configured"]


def test_model_serves_the_configured_package_network_isolated_in_private_subnets_of_two_zones(
    platform, serving, settings
):
    model = properties(serving, "AWS::SageMaker::Model")
    assert model["PrimaryContainer"] == {"ModelPackageName": settings.serving.model_package_arn}
    assert model["EnableNetworkIsolation"] is True
    assert "ModelName" not in model, "CloudFormation generates the name, so that a new model can replace the old"
    network = platform.template(REGION, "network")
    zone_of_subnet = {
        logical_id: subnet["Properties"]["AvailabilityZone"]
        for logical_id, subnet in resources_of(network, "AWS::EC2::Subnet").items()
    }
    zones = {
        zone
        for subnet in model["VpcConfig"]["Subnets"]
        for logical_id, zone in zone_of_subnet.items()
        if logical_id in stack_output(subnet)
    }
    assert len(model["VpcConfig"]["Subnets"]) == len(zone_of_subnet)
    assert len(zones) >= 2


def test_endpoint_security_group_admits_nothing_and_leaves_only_for_https(serving):
    model = properties(serving, "AWS::SageMaker::Model")
    (group_ref,) = model["VpcConfig"]["SecurityGroupIds"]
    group = serving.to_json()["Resources"][group_ref["Fn::GetAtt"][0]]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert [(rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) for rule in group["SecurityGroupEgress"]] == [
        ("tcp", 443, 443)
    ]


def test_model_waits_for_its_roles_permissions(serving):
    _model_id, model = one(serving, "AWS::SageMaker::Model")
    policy_id, _ = one(serving, "AWS::IAM::Policy", "Endpoint")
    role_id, _ = one(serving, "AWS::IAM::Role", "Endpoint")
    assert model["Properties"]["ExecutionRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert policy_id in model["DependsOn"]


def _statements(serving: Template) -> list[dict]:
    return one(serving, "AWS::IAM::Policy", "Endpoint")[1]["Properties"]["PolicyDocument"]["Statement"]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_execution_role_is_sagemakers_alone_with_no_managed_policies_or_wildcard_actions(serving):
    role = one(serving, "AWS::IAM::Role", "Endpoint")[1]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role
    for statement in _statements(serving):
        assert statement["Effect"] == "Allow"
        assert not any("*" in action for action in _as_list(statement["Action"])), statement


def test_execution_role_pulls_only_the_platforms_image_repository(serving):
    by_action = {action: statement for statement in _statements(serving) for action in _as_list(statement["Action"])}
    pull = by_action["ecr:BatchGetImage"]
    assert sorted(_as_list(pull["Action"])) == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    assert text(pull["Resource"]) == (
        f"arn:aws:ecr:{REGION}:<AWS::AccountId>:repository/cdk-hnb659fds-container-assets-${{AWS::AccountId}}-{REGION}"
    )
    assert by_action["ecr:GetAuthorizationToken"]["Resource"] == "*"


def test_execution_role_reads_models_and_writes_capture_only_through_s3(serving):
    by_action = {action: statement for statement in _statements(serving) for action in _as_list(statement["Action"])}
    assert by_action["s3:GetObject"]["Resource"]["Fn::Join"][1][1] == "/models/*"
    assert by_action["s3:PutObject"]["Resource"]["Fn::Join"][1][1] == "/capture/*"
    assert by_action["s3:ListBucket"]["Condition"] == {"StringLike": {"s3:prefix": ["models/*"]}}
    assert by_action["kms:GenerateDataKey"]["Condition"] == {
        "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    }
    assert "DataStoreKey" in stack_output(by_action["kms:GenerateDataKey"]["Resource"])
    assert not any(
        action.startswith("s3:")
        and action not in ("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListBucket")
        for action in by_action
    )


def test_execution_role_logs_and_metrics_stay_in_sagemakers_endpoint_namespaces(serving):
    statements = {statement.get("Sid"): statement for statement in _statements(serving)}
    group_id, group = one(serving, "AWS::Logs::LogGroup")
    assert text(statements["EndpointLogs"]["Resource"]) == f"<{group_id}.Arn>"
    assert group["Properties"]["LogGroupName"].startswith("/aws/sagemaker/Endpoints/")
    assert statements["EndpointMetrics"]["Condition"] == {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}


def test_execution_role_reads_exactly_the_rollback_alarms(serving):
    statements = {statement.get("Sid"): statement for statement in _statements(serving)}
    names = sorted(
        alarm["Properties"]["AlarmName"]
        for alarm in resources_of(serving, "AWS::CloudWatch::Alarm").values()
        if "AlarmName" in alarm["Properties"]
    )
    assert (
        sorted(text(resource).rsplit(":alarm:", 1)[1] for resource in statements["RollbackAlarms"]["Resource"]) == names
    )


def test_execution_role_manages_network_interfaces_in_the_endpoints_network_only(serving):
    statements = {statement.get("Sid"): statement for statement in _statements(serving)}
    create = sorted(map(text, statements["CreateNetworkInterfacesInTheGivenSubnets"]["Resource"]))
    assert [re.findall(r":([a-z-]+)/", resource)[0] for resource in create] == [
        "network-interface",
        "security-group",
        "subnet",
        "subnet",
        "subnet",
    ]
    assert all("<PublishOutputRefNetworkVpcPrivateSubnet" in resource for resource in create if ":subnet/" in resource)
    manage = statements["ManageNetworkInterfacesOfTheVpc"]
    assert text(manage["Resource"]) == f"arn:aws:ec2:{REGION}:<AWS::AccountId>:network-interface/*"
    assert text(manage["Condition"]["ArnEquals"]["ec2:Vpc"]).startswith(
        f"arn:aws:ec2:{REGION}:<AWS::AccountId>:vpc/<PublishOutputRefNetworkVpc"
    )
    assert statements["DescribeTheNetwork"]["Resource"] == "*"
    assert all(action.startswith("ec2:Describe") for action in statements["DescribeTheNetwork"]["Action"])


def test_endpoint_config_encrypts_volumes_and_captures_both_directions_to_the_capture_prefix(serving, settings):
    config = properties(serving, "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert variant["VariantName"] == ModelEndpoint.VARIANT_NAME
    assert variant["InstanceType"] == settings.serving.instance_type
    assert variant["InitialInstanceCount"] == settings.serving.min_capacity
    assert "DataStoreKey" in stack_output(config["KmsKeyId"])
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == settings.serving.data_capture_sampling_percent
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    # CSV and JSON bodies are captured as text (encoding CSV or JSON), not base64, so the monitor reads them.
    assert capture["CaptureContentTypeHeader"] == {
        "CsvContentTypes": ["text/csv"],
        "JsonContentTypes": ["application/json"],
    }
    assert capture["KmsKeyId"] == config["KmsKeyId"]
    prefix, bucket, path = capture["DestinationS3Uri"]["Fn::Join"][1]
    assert (prefix, path) == ("s3://", "/capture/") and "DataStoreBucket" in stack_output(bucket)
    assert "EndpointConfigName" not in config


def test_prod_starts_with_at_least_two_instances_that_autoscaling_keeps(prod_platform):
    serving = prod_platform.template(REGION, "serving")
    (variant,) = properties(serving, "AWS::SageMaker::EndpointConfig")["ProductionVariants"]
    target = properties(serving, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert variant["InitialInstanceCount"] >= 2
    assert target["MinCapacity"] >= 2
    assert prod_platform.stages[REGION].serving.termination_protection is True


def test_the_endpoint_log_group_keeps_the_configured_retention_and_the_regions_key(serving, settings, endpoint_id):
    group_id, group = one(serving, "AWS::Logs::LogGroup")
    endpoint_name = properties(serving, "AWS::SageMaker::Endpoint")["EndpointName"]
    assert group["Properties"]["LogGroupName"] == f"/aws/sagemaker/Endpoints/{endpoint_name}"
    assert group["Properties"]["RetentionInDays"] == settings.log_retention_days
    assert "DataStoreKey" in stack_output(group["Properties"]["KmsKeyId"])
    assert group_id in serving.to_json()["Resources"][endpoint_id]["DependsOn"]


def test_a_one_instance_fleet_rolls_out_all_at_once_with_the_configured_baking(serving, settings):
    """The shipped dev config starts with one instance, which SageMaker cannot split into a canary."""
    assert settings.serving.min_capacity == 1
    policy = properties(serving, "AWS::SageMaker::Endpoint")["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    shifting = settings.serving.traffic_shifting
    assert policy["TrafficRoutingConfiguration"] == {
        "Type": "ALL_AT_ONCE",
        "WaitIntervalInSeconds": shifting.wait_seconds,
    }


def test_endpoint_rolls_out_blue_green_with_the_configured_traffic_shifting(prod_platform):
    serving = prod_platform.template(REGION, "serving")
    settings = next(region for region in prod_platform.config.regions if region.region == REGION).settings
    endpoint = properties(serving, "AWS::SageMaker::Endpoint")
    shifting = settings.serving.traffic_shifting
    policy = endpoint["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == {
        "Type": shifting.mode.upper(),
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": shifting.step_percent},
        "WaitIntervalInSeconds": shifting.wait_seconds,
    }
    assert policy["TerminationWaitInSeconds"] == shifting.termination_wait_seconds
    # Baking plus termination wait plus an hour to provision the new fleet.
    assert (
        policy["MaximumExecutionTimeoutInSeconds"] == shifting.wait_seconds + shifting.termination_wait_seconds + 3600
    )


def test_updates_keep_the_autoscaled_instance_count(serving):
    endpoint = properties(serving, "AWS::SageMaker::Endpoint")
    assert endpoint["RetainAllVariantProperties"] is True
    assert endpoint["ExcludeRetainedVariantProperties"] == [{"VariantPropertyType": "DesiredWeight"}]


def test_rollback_alarms_are_wired_into_the_deployment_by_their_fixed_names(serving, endpoint_id):
    endpoint = properties(serving, "AWS::SageMaker::Endpoint")
    wired = [alarm["AlarmName"] for alarm in endpoint["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]]
    named = {
        alarm["Properties"]["AlarmName"]: alarm["Properties"]
        for alarm in resources_of(serving, "AWS::CloudWatch::Alarm").values()
        if "AlarmName" in alarm["Properties"]
    }
    assert sorted(wired) == sorted(named)
    assert all(name.endswith(("-RollbackServerErrorRate", "-RollbackModelLatency")) for name in wired)
    # Names, not references: the alarms watch the endpoint, so a reference to them would be a cycle.
    depends_on = serving.to_json()["Resources"][endpoint_id].get("DependsOn", [])
    assert not set(depends_on) & set(resources_of(serving, "AWS::CloudWatch::Alarm"))


def test_rollback_alarms_trip_within_a_baking_period(serving, settings):
    alarms = {
        alarm["Properties"]["AlarmName"].rsplit("-", 1)[1]: alarm["Properties"]
        for alarm in resources_of(serving, "AWS::CloudWatch::Alarm").values()
        if "AlarmName" in alarm["Properties"]
    }
    errors, latency = alarms["RollbackServerErrorRate"], alarms["RollbackModelLatency"]
    assert errors["Metrics"][0]["Expression"] == "100 * serverErrors / invocations"
    assert errors["Threshold"] == settings.alarms.server_error_rate_percent
    assert latency["Metrics"][0]["MetricStat"]["Metric"]["MetricName"] == "ModelLatency"
    assert latency["Metrics"][0]["MetricStat"]["Stat"] == "p99"
    assert latency["Threshold"] == settings.alarms.model_latency_p99_ms * 1000
    for alarm in (errors, latency):
        # Two bad one-minute datapoints in a row: within the baking time of a step.
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (2, 2)
        assert all(query["MetricStat"]["Period"] == 60 for query in alarm["Metrics"] if "MetricStat" in query)
        assert 2 * 60 <= settings.serving.traffic_shifting.wait_seconds
        assert alarm["TreatMissingData"] == "notBreaching"
        # They page through the composite alarm, which names them.
        assert "AlarmActions" not in alarm and "OKActions" not in alarm


def test_scalable_target_is_registered_per_endpoint_and_variant_through_the_service_linked_role(
    serving, settings, endpoint_id
):
    target = properties(serving, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["ServiceNamespace"] == "sagemaker"
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert target["ResourceId"] == {
        "Fn::Join": ["", ["endpoint/", endpoint_name_of(endpoint_id), "/variant/AllTraffic"]]
    }
    assert (target["MinCapacity"], target["MaxCapacity"]) == (
        settings.serving.min_capacity,
        settings.serving.max_capacity,
    )
    assert "RoleARN" not in target
    assert "ScheduledActions" not in target, "the shipped config has no scheduled capacity"


def test_scaling_tracks_invocations_per_instance_at_the_derived_target(serving, settings):
    target_id, _ = one(serving, "AWS::ApplicationAutoScaling::ScalableTarget")
    policy = properties(serving, "AWS::ApplicationAutoScaling::ScalingPolicy")
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    serving_settings = settings.serving
    derived = int(serving_settings.max_requests_per_second_per_instance * 60 * serving_settings.scaling_safety_factor)
    assert policy["ScalingTargetId"] == {"Ref": target_id}
    assert tracking["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
    }
    assert (
        tracking["TargetValue"] == derived == serving_settings.endpoint_props().target_invocations_per_minute == 96000
    )
    assert (tracking["ScaleOutCooldown"], tracking["ScaleInCooldown"]) == (60, 600)
    assert tracking["ScaleInCooldown"] > tracking["ScaleOutCooldown"]


def _alarm(serving: Template, construct_id: str) -> dict:
    found = [
        alarm["Properties"]
        for logical_id, alarm in resources_of(serving, "AWS::CloudWatch::Alarm").items()
        if logical_id.startswith(f"Alarms{construct_id}")
    ]
    assert len(found) == 1, construct_id
    return found[0]


def _single_metric(alarm: dict) -> dict:
    (query,) = alarm["Metrics"]
    return query["MetricStat"]


# construct ID: (namespace, metric, statistic, unit, threshold from the settings, comparison, missing data)
ALARMS = {
    "ModelLatency": (
        "AWS/SageMaker",
        "ModelLatency",
        "p99",
        "Microseconds",
        lambda s: s.alarms.model_latency_p99_ms * 1000,
        "GreaterThanThreshold",
        "notBreaching",
    ),
    "OverheadLatency": (
        "AWS/SageMaker",
        "OverheadLatency",
        "p99",
        "Microseconds",
        lambda s: s.alarms.overhead_latency_p99_ms * 1000,
        "GreaterThanThreshold",
        "notBreaching",
    ),
    "CpuUtilization": (
        "/aws/sagemaker/Endpoints",
        "CPUUtilization",
        "Average",
        None,
        # summed over the 2 vCPUs of ml.m5.large
        lambda s: s.alarms.cpu_utilization_percent * 2,
        "GreaterThanThreshold",
        "ignore",
    ),
    "MemoryUtilization": (
        "/aws/sagemaker/Endpoints",
        "MemoryUtilization",
        "Maximum",
        None,
        lambda s: s.alarms.memory_utilization_percent,
        "GreaterThanThreshold",
        "ignore",
    ),
    "DiskUtilization": (
        "/aws/sagemaker/Endpoints",
        "DiskUtilization",
        "Maximum",
        None,
        lambda s: s.alarms.disk_utilization_percent,
        "GreaterThanThreshold",
        "ignore",
    ),
    "InvocationsPerInstance": (
        "AWS/SageMaker",
        "InvocationsPerInstance",
        "Sum",
        None,
        lambda s: (
            s.serving.max_requests_per_second_per_instance * 60 * s.alarms.invocations_per_instance_percent_of_max / 100
        ),
        "GreaterThanThreshold",
        "notBreaching",
    ),
}


@pytest.mark.parametrize("construct_id", ALARMS)
def test_single_metric_alarms(serving, settings, endpoint_id, construct_id):
    namespace, metric_name, statistic, unit, threshold, comparison, missing = ALARMS[construct_id]
    alarm = _alarm(serving, construct_id)
    stat = _single_metric(alarm)
    assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Stat"]) == (
        namespace,
        metric_name,
        statistic,
    )
    assert stat.get("Unit") == unit
    assert stat["Metric"]["Dimensions"] == [
        {"Name": "EndpointName", "Value": endpoint_name_of(endpoint_id)},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]
    assert stat["Period"] == settings.alarms.period_seconds
    assert alarm["Threshold"] == pytest.approx(threshold(settings))
    assert (alarm["ComparisonOperator"], alarm["TreatMissingData"]) == (comparison, missing)


# construct ID: (expression, {id: metric name}, threshold from the settings, comparison)
MATH_ALARMS = {
    "ServerErrorRate": (
        "100 * serverErrors / invocations",
        {"serverErrors": "Invocation5XXErrors", "invocations": "Invocations"},
        lambda s: s.alarms.server_error_rate_percent,
        "GreaterThanThreshold",
    ),
    "ClientErrorRate": (
        "100 * clientErrors / invocations",
        {"clientErrors": "Invocation4XXErrors", "invocations": "Invocations"},
        lambda s: s.alarms.client_error_rate_percent,
        "GreaterThanThreshold",
    ),
    "InstanceCountAtMax": (
        "invocations / perInstance",
        {"invocations": "Invocations", "perInstance": "InvocationsPerInstance"},
        lambda s: s.serving.max_capacity - 0.5,
        "GreaterThanOrEqualToThreshold",
    ),
}


@pytest.mark.parametrize("construct_id", MATH_ALARMS)
def test_metric_math_alarms(serving, settings, endpoint_id, construct_id):
    expression, inputs, threshold, comparison = MATH_ALARMS[construct_id]
    alarm = _alarm(serving, construct_id)
    result, *queries = alarm["Metrics"]
    assert (result["Expression"], result["ReturnData"]) == (expression, True)
    assert {query["Id"]: query["MetricStat"]["Metric"]["MetricName"] for query in queries} == inputs
    for query in queries:
        assert query["ReturnData"] is False
        assert (query["MetricStat"]["Stat"], query["MetricStat"]["Period"]) == ("Sum", settings.alarms.period_seconds)
        assert query["MetricStat"]["Metric"]["Namespace"] == "AWS/SageMaker"
        assert query["MetricStat"]["Metric"]["Dimensions"][0] == {
            "Name": "EndpointName",
            "Value": endpoint_name_of(endpoint_id),
        }
    assert alarm["Threshold"] == threshold(settings)
    assert alarm["ComparisonOperator"] == comparison
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("construct_id", [*ALARMS, *MATH_ALARMS])
def test_every_alarm_evaluates_as_configured_and_shows_on_the_dashboard_without_paging(serving, settings, construct_id):
    alarm = _alarm(serving, construct_id)
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
        settings.alarms.evaluation_periods,
        settings.alarms.datapoints_to_alarm,
    )
    assert not alarm.get("AlarmActions") and not alarm.get("OKActions")
    assert alarm["AlarmDescription"]


def test_one_incident_is_one_page_from_the_composite_alarm(serving):
    """Of the endpoint's alarms only the composite notifies the topic, when it fires and when it recovers (the
    monitoring alarms, about the data and the model rather than the endpoint, page on their own)."""
    paging = {
        logical_id
        for type_ in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
        for logical_id, alarm in resources_of(serving, type_).items()
        if (alarm["Properties"].get("AlarmActions") or alarm["Properties"].get("OKActions"))
        and not logical_id.startswith("Monitoring")
    }
    (composite_id,) = resources_of(serving, "AWS::CloudWatch::CompositeAlarm")
    assert paging == {composite_id}


def test_composite_alarm_says_the_endpoint_is_unhealthy(serving):
    composite = properties(serving, "AWS::CloudWatch::CompositeAlarm")
    parts = composite["AlarmRule"]["Fn::Join"][1]
    rule = "".join(
        part if isinstance(part, str) else part["Fn::GetAtt"][0].removeprefix("Alarms")[:-8] for part in parts
    )
    assert rule == (
        '(ALARM("ServerErrorRate") OR ALARM("ModelLatency") OR ALARM("OverheadLatency") OR ALARM("MemoryUtilization") '
        'OR ALARM("DiskUtilization") OR (ALARM("InvocationsPerInstance") AND ALARM("InstanceCountAtMax")) '
        'OR ALARM("EndpointRollbackServerErrorRate") OR ALARM("EndpointRollbackModelLatency"))'
    )
    assert composite["AlarmActions"] == composite["OKActions"] and "AlertsTopic" in stack_output(
        composite["AlarmActions"][0]
    )


def test_dashboard_shows_the_endpoints_traffic_errors_latency_load_capacity_and_alarms(serving, endpoint_id):
    body = properties(serving, "AWS::CloudWatch::Dashboard")["DashboardBody"]["Fn::Join"][1]
    text = "".join(part if isinstance(part, str) else json.dumps(part) for part in body)
    assert json.dumps(endpoint_name_of(endpoint_id)) in text
    for title in ("Traffic", "Error rates (%)", "Latency p99 (microseconds)", "Utilization (%)", "Instances", "Alarms"):
        assert f'"title":"{title}"' in text
    for metric in (
        "Invocations",
        "InvocationsPerInstance",
        "ModelLatency",
        "OverheadLatency",
        "CPUUtilization",
        "MemoryUtilization",
        "DiskUtilization",
        "Invocation5XXErrors",
        "Invocation4XXErrors",
    ):
        assert f'"{metric}"' in text
    alarm_ids = [
        *resources_of(serving, "AWS::CloudWatch::Alarm"),
        *resources_of(serving, "AWS::CloudWatch::CompositeAlarm"),
    ]
    assert all(alarm_id in text for alarm_id in alarm_ids)


def test_dashboard_shows_the_regions_training_pipeline_executions(platform, serving):
    pipeline_name = platform.stages[REGION].training.pipeline.pipeline_name
    body = properties(serving, "AWS::CloudWatch::Dashboard")["DashboardBody"]["Fn::Join"][1]
    text = "".join(part for part in body if isinstance(part, str))
    assert '"title":"Training pipeline executions per day"' in text
    for metric in ("ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed", "ExecutionStopped"):
        assert f'["AWS/Sagemaker/ModelBuildingPipeline","{metric}","PipelineName","{pipeline_name}",' in text


def test_outputs_name_the_endpoint_variant_and_dashboard(serving, endpoint_id):
    outputs = serving.to_json()["Outputs"]
    dashboard_id, _ = one(serving, "AWS::CloudWatch::Dashboard")
    assert outputs["EndpointName"]["Value"] == endpoint_name_of(endpoint_id)
    assert outputs["VariantName"]["Value"] == "AllTraffic"
    assert outputs["DashboardName"]["Value"] == {"Ref": dashboard_id}


def test_serving_role_acknowledgments_name_each_wildcard_with_its_reason(platform):
    acknowledged = {
        entry["acknowledgedId"]: entry["reason"]
        for plugin in platform.validation_report["pluginReports"]
        for entry in plugin.get("suppressedViolations", [])
        if entry["acknowledgedAt"] == f"MlPlatform-{REGION}/Serving/Endpoint/ExecutionRole/DefaultPolicy"
        and entry["ruleName"].startswith("AwsSolutions-IAM5")
    }
    resources = sorted(finding.split("[Resource::", 1)[1].removesuffix("]") for finding in acknowledged)
    assert len(resources) == 4, resources
    for suffix in ("/models/*", "/capture/*", ":network-interface/*"):
        assert sum(resource.endswith(suffix) for resource in resources) == 1, suffix
    assert "*" in resources
    assert all(len(reason) >= 40 for reason in acknowledged.values())
