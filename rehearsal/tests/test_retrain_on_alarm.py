"""Retraining on a monitoring alarm, against the emulator: the function's own code starts the pipeline once and
refuses a second start within the interval; the function's resource types deploy as real objects."""

from __future__ import annotations

import datetime
import json

from ml_constructs.model_monitoring_retrain_handler import DISPLAY_NAME, start_unless_recent
from rehearsal.tests.support import Stacks

ROLE = "arn:aws:iam::123456789012:role/any"
INTERVAL = datetime.timedelta(hours=24)


def _pipeline(stacks: Stacks) -> str:
    name = stacks.unique_name("pipeline")
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": []}
    stacks.client("sagemaker").create_pipeline(
        PipelineName=name, PipelineDefinition=json.dumps(definition), RoleArn=ROLE
    )
    return name


def test_a_second_alarm_within_the_interval_starts_nothing_and_one_after_it_retrains(stacks: Stacks) -> None:
    sagemaker = stacks.client("sagemaker")
    pipeline = _pipeline(stacks)
    now = datetime.datetime.now(datetime.UTC)

    first = start_unless_recent(sagemaker, pipeline, INTERVAL, now, "Drift-x0 went into ALARM")
    assert first is not None
    assert (
        start_unless_recent(sagemaker, pipeline, INTERVAL, now + INTERVAL / 2, "ModelQuality went into ALARM") is None
    )
    executions = sagemaker.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in executions] == [first]
    assert executions[0]["PipelineExecutionDisplayName"] == DISPLAY_NAME

    later = start_unless_recent(sagemaker, pipeline, INTERVAL, now + INTERVAL * 1.1, "Drift-x0 went into ALARM")
    assert later not in (None, first)


def test_the_functions_resource_types_deploy_as_real_objects(stacks: Stacks) -> None:
    name = stacks.unique_name()
    trust = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    resources = {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]}},
        },
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.14",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
                "ReservedConcurrentExecutions": 1,
            },
        },
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventPattern": {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]},
                "Targets": [{"Id": "Target0", "Arn": {"Fn::GetAtt": ["Function", "Arn"]}}],
            },
        },
        "Permission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": ["Function", "Arn"]},
                "Principal": "events.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": ["Rule", "Arn"]},
            },
        },
    }
    status = stacks.deploy(name, resources)
    assert status["StackStatus"] == "CREATE_COMPLETE", status.get("StackStatusReason")
    function = stacks.physical_ids(name)["Function"]
    assert stacks.client("lambda").get_function(FunctionName=function)["Configuration"]["Runtime"] == "python3.14"
    assert all(stacks.backed(name).values()), stacks.backed(name)
