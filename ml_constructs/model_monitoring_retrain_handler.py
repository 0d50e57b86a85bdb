"""The Lambda function that retrains on a monitoring alarm: it starts the Region's training pipeline unless an
execution started within the minimum interval. Standard library and boto3 only (what the Lambda runtime has); the
construct ships this file as the function's code.

Any execution counts, whoever started it (the schedule, ``mlp train``, an earlier alarm): the point is that a model
is not retrained more often than the interval allows. The function runs with a reserved concurrency of 1, so two
alarms firing at once are handled one after the other and the second sees the execution the first started.
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any

import boto3

DISPLAY_NAME = "retrain-on-alarm"
"""How the executions it starts are named in the pipeline's history."""


def start_unless_recent(
    sagemaker: Any, pipeline_name: str, min_interval: datetime.timedelta, now: datetime.datetime, reason: str
) -> str | None:
    """Starts ``pipeline_name`` with its default parameters unless its latest execution started less than
    ``min_interval`` before ``now``; returns the new execution's ARN, or None when it refused."""
    latest = sagemaker.list_pipeline_executions(
        PipelineName=pipeline_name, SortBy="CreationTime", SortOrder="Descending", MaxResults=1
    )["PipelineExecutionSummaries"]
    if latest and now - latest[0]["StartTime"] < min_interval:
        print(json.dumps({"started": None, "reason": reason, "latest": latest[0]["PipelineExecutionArn"]}))
        return None
    arn = sagemaker.start_pipeline_execution(
        PipelineName=pipeline_name, PipelineExecutionDisplayName=DISPLAY_NAME, PipelineExecutionDescription=reason
    )["PipelineExecutionArn"]
    print(json.dumps({"started": arn, "reason": reason}))
    return arn


def handler(event: dict[str, Any], context: Any) -> str | None:
    """Entry point for EventBridge's "CloudWatch Alarm State Change" events."""
    return start_unless_recent(
        boto3.client("sagemaker"),
        os.environ["PIPELINE_NAME"],
        datetime.timedelta(hours=float(os.environ["MIN_INTERVAL_HOURS"])),
        datetime.datetime.now(datetime.UTC),
        f"{event['detail']['alarmName']} went into ALARM",
    )
