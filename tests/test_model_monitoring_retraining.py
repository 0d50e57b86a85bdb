"""Retraining on a monitoring alarm: the rule, the function and its role as synthesized, off unless configured."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from ml_constructs.model_monitoring_props import ModelMonitoringProps
from ml_constructs.model_monitoring_retraining import ALARM_SOURCE, ALARM_STATE_CHANGE, FAILURE_ALARMS, RUNTIME
from tests.conftest import SERVING_REGION, SynthesizedPlatform
from tests.test_model_monitoring import monitoring_context, of_type


@pytest.fixture(scope="module")
def retraining(tmp_path_factory) -> SynthesizedPlatform:
    context = monitoring_context(retrain_on_alarm=True, retrain_min_interval_hours=12)
    return SynthesizedPlatform(context, tmp_path_factory.mktemp("cdk.out.retraining"))


@pytest.fixture(scope="module")
def template(retraining) -> dict[str, Any]:
    return dict(retraining.template_json(SERVING_REGION, "serving"))


def test_the_monitoring_alarms_going_into_alarm_invoke_the_function(template) -> None:
    (rule,) = of_type(template, "AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    monitoring_alarms = [key for key in of_type(template, "AWS::CloudWatch::Alarm") if key.startswith("Monitoring")]
    assert pattern["source"] == [ALARM_SOURCE]
    assert pattern["detail-type"] == [ALARM_STATE_CHANGE]
    assert pattern["detail"] == {"state": {"value": ["ALARM"]}}
    assert sorted(arn["Fn::GetAtt"][0] for arn in pattern["resources"]) == sorted(monitoring_alarms)
    (function_id,) = of_type(template, "AWS::Lambda::Function")
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}


def test_the_function_runs_one_at_a_time_in_the_private_network_with_the_interval(retraining, template) -> None:
    (function,) = of_type(template, "AWS::Lambda::Function").values()
    properties = function["Properties"]
    assert properties["ReservedConcurrentExecutions"] == 1, "simultaneous alarms are handled in turn"
    assert properties["Runtime"] == RUNTIME.name
    assert properties["VpcConfig"]["SubnetIds"], "it runs in the private subnets"
    assert properties["Environment"]["Variables"]["MIN_INTERVAL_HOURS"] == "12"
    assert (
        properties["Environment"]["Variables"]["PIPELINE_NAME"]
        == retraining.stages[SERVING_REGION].training.pipeline.pipeline_name
    )
    assert "KmsKeyArn" in properties
    assert "def handler" in properties["Code"]["ZipFile"]


def test_its_role_may_only_see_and_start_the_pipeline_and_write_its_logs(retraining, template) -> None:
    stage = retraining.stages[SERVING_REGION]
    pipeline_arn = stage.serving.resolve(stage.training.pipeline.pipeline_arn)
    serving = retraining.template(SERVING_REGION, "serving")
    serving.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like({"Action": "sagemaker:StartPipelineExecution"}),
                        Match.object_like(
                            {"Sid": "SeeTheLatestExecution", "Action": "sagemaker:ListPipelineExecutions"}
                        ),
                    ]
                )
            },
            "Roles": [{"Ref": Match.string_like_regexp("RetrainOnAlarmRole")}],
        },
    )
    statements = [
        statement
        for policy in of_type(template, "AWS::IAM::Policy").values()
        if "RetrainOnAlarmRole" in str(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if str(statement["Action"]).startswith("sagemaker:")
    ]
    assert len(statements) == 2
    assert all(statement["Resource"] == pipeline_arn for statement in statements), statements


def test_a_failed_retraining_pages_the_regions_topic(retraining, template) -> None:
    """The function's errors and EventBridge's failed invocations of it, each any failure in five minutes."""
    topic = retraining.stages[SERVING_REGION].serving.resolve(
        retraining.stages[SERVING_REGION].data.alerts.topic.topic_arn
    )
    (function_id,) = of_type(template, "AWS::Lambda::Function")
    (rule_id,) = of_type(template, "AWS::Events::Rule")
    alarms = {
        key: alarm["Properties"]
        for key, alarm in of_type(template, "AWS::CloudWatch::Alarm").items()
        if key.startswith("RetrainOnAlarm")
    }
    assert len(alarms) == len(FAILURE_ALARMS) == 2
    by_metric = {alarm["MetricName"]: alarm for alarm in alarms.values()}
    assert by_metric["Errors"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    assert by_metric["FailedInvocations"]["Namespace"] == "AWS/Events"
    assert by_metric["FailedInvocations"]["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": rule_id}}]
    for alarm in alarms.values():
        assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 1)
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == alarm["OKActions"] == [topic]


def test_retraining_is_off_unless_configured(platform) -> None:
    assert ModelMonitoringProps().retrain_on_alarm is False
    assert of_type(platform.template_json(SERVING_REGION, "serving"), "AWS::Lambda::Function") == {}


def test_an_interval_out_of_range_or_retraining_without_an_alarm_is_refused() -> None:
    problems = ModelMonitoringProps(retrain_on_alarm=True, retrain_min_interval_hours=0, model_quality=False).problems()
    assert {problem.key for problem in problems} == {"retrain_min_interval_hours", "retrain_on_alarm"}
