"""What ``mlp`` reads of the endpoint's monitoring: the baseline a model package was registered with (recorded by
``mlp promote``), and for ``mlp status`` the latest monitoring executions and the drift and quality alarms in ALARM.

The schedules and alarms are found through the Serving stack's outputs (``Output.MONITORING_SCHEDULE_NAMES``,
``Output.MONITORING_ALARM_NAMES``), never through guessed names.
"""

from __future__ import annotations

from typing import Any

import boto3

from operator_cli.resources import RegionResources
from platform_contract.names import Output

BASELINE_SOURCES = (("DriftCheckBaselines", "ModelDataQuality"), ("ModelMetrics", "ModelDataQuality"))
"""Where DescribeModelPackage holds a data-quality baseline, in the order looked at: the drift-check baseline the
pipeline registered, else the package's model metrics
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeModelPackage.html)."""
VIOLATION_STATUSES = frozenset({"CompletedWithViolations", "Failed"})
"""Execution statuses that need someone's attention: violations found, or the job failed."""


def package_baseline(aws: boto3.Session, package_arn: str) -> dict[str, str] | None:
    """The package's data-quality statistics and constraints, as ``serving.monitoring.baseline``; None without."""
    package = aws.client("sagemaker").describe_model_package(ModelPackageName=package_arn)
    for group, member in BASELINE_SOURCES:
        quality = package.get(group, {}).get(member, {})
        statistics = quality.get("Statistics", {}).get("S3Uri")
        constraints = quality.get("Constraints", {}).get("S3Uri")
        if statistics and constraints:
            return {"statistics_uri": statistics, "constraints_uri": constraints}
    return None


def _names(resources: RegionResources, output: Output) -> list[str]:
    serving = resources.serving
    value = serving.outputs.get(output, "") if serving else ""
    return [name for name in value.split(",") if name]


def _execution(summary: dict[str, Any]) -> str:
    """One execution as ``<schedule>: <status> at <time>`` with its report or failure reason."""
    when = summary["ScheduledTime"].strftime("%Y-%m-%d %H:%M")
    text = f"{summary['MonitoringScheduleName']}: {summary['MonitoringExecutionStatus']} at {when}"
    if summary.get("FailureReason"):
        text += f" ({summary['FailureReason']})"
    elif summary["MonitoringExecutionStatus"] == "CompletedWithViolations" and summary.get("ProcessingJobArn"):
        job = summary["ProcessingJobArn"].rsplit("/", 1)[-1]
        text += f" (violations: constraint_violations.json in the output of processing job {job})"
    return text


def monitoring_status(aws: boto3.Session, resources: RegionResources) -> dict[str, str]:
    """The monitoring columns of a Region's status row: each schedule's latest execution, the schedules whose
    latest execution has violations or failed, and the monitoring alarms in ALARM."""
    if resources.serving is None:
        return {"monitoring": "-"}
    schedules = _names(resources, Output.MONITORING_SCHEDULE_NAMES)
    if not schedules:
        return {"monitoring": "off (serving.monitoring)"}
    sagemaker = aws.client("sagemaker")
    latest = []
    for schedule in schedules:
        summaries = sagemaker.list_monitoring_executions(
            MonitoringScheduleName=schedule, SortBy="ScheduledTime", SortOrder="Descending", MaxResults=1
        )["MonitoringExecutionSummaries"]
        latest.append(summaries[0] if summaries else {"MonitoringScheduleName": schedule})
    ran = [summary for summary in latest if "MonitoringExecutionStatus" in summary]
    open_violations = [s["MonitoringScheduleName"] for s in ran if s["MonitoringExecutionStatus"] in VIOLATION_STATUSES]
    alarms = _names(resources, Output.MONITORING_ALARM_NAMES)
    described = aws.client("cloudwatch").describe_alarms(AlarmNames=alarms)["MetricAlarms"] if alarms else []
    firing = sorted(alarm["AlarmName"] for alarm in described if alarm["StateValue"] == "ALARM")
    return {
        "monitoring": "; ".join(
            [_execution(s) for s in ran]
            + [f"{s['MonitoringScheduleName']}: no run yet" for s in latest if s not in ran]
        ),
        "open violations": ", ".join(open_violations) or "none",
        "monitoring alarms in ALARM": ", ".join(firing) or "none",
    }
