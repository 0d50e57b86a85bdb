"""What mlp reads of the monitoring, against the emulator: a package's data-quality baseline (for ``mlp promote``), and
the latest executions, open violations and alarms in ALARM (for ``mlp status``)."""

from __future__ import annotations

from operator_cli.monitoring import monitoring_status, package_baseline
from operator_cli.resources import RegionResources, StackOutputs
from platform_contract.names import Output
from rehearsal.aws import Emulator
from rehearsal.tests.support import REGION, Stacks
from rehearsal.tests.test_monitoring_resources import resources as monitoring_resources

BASELINE = "s3://bucket/datasets/churn/baseline"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/model:latest"


def _package(stacks: Stacks, **baselines: dict) -> str:
    group = stacks.unique_name("models")
    sagemaker = stacks.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    return sagemaker.create_model_package(
        ModelPackageGroupName=group,
        InferenceSpecification={
            "Containers": [{"Image": IMAGE}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        **baselines,
    )["ModelPackageArn"]


def _quality(prefix: str) -> dict:
    return {
        "ModelDataQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": f"{prefix}/statistics.json"},
            "Constraints": {"ContentType": "application/json", "S3Uri": f"{prefix}/constraints.json"},
        }
    }


def test_the_drift_check_baseline_is_the_packages_baseline_else_its_model_metrics(aws, stacks) -> None:
    both = _package(stacks, DriftCheckBaselines=_quality(BASELINE), ModelMetrics=_quality("s3://bucket/evaluation/x"))
    assert package_baseline(aws, both) == {
        "statistics_uri": f"{BASELINE}/statistics.json",
        "constraints_uri": f"{BASELINE}/constraints.json",
    }
    metrics_only = _package(stacks, ModelMetrics=_quality("s3://bucket/evaluation/x"))
    assert package_baseline(aws, metrics_only) == {
        "statistics_uri": "s3://bucket/evaluation/x/statistics.json",
        "constraints_uri": "s3://bucket/evaluation/x/constraints.json",
    }
    assert package_baseline(aws, _package(stacks)) is None


def test_status_shows_each_schedules_latest_run_open_violations_and_the_firing_monitoring_alarms(
    aws, stacks, emulator: Emulator
) -> None:
    template = monitoring_resources()
    schedule = stacks.unique_name("churn-dq")
    template["Schedule"]["Properties"]["MonitoringScheduleName"] = schedule
    stacks.deploy(stacks.unique_name(), template)
    cloudwatch = stacks.client("cloudwatch")
    alarms = [stacks.unique_name("drift"), stacks.unique_name("quality")]
    for alarm in alarms:
        cloudwatch.put_metric_alarm(
            AlarmName=alarm,
            MetricName="m",
            Namespace="aws/sagemaker/Endpoints/data-metrics",
            Statistic="Maximum",
            Period=3600,
            EvaluationPeriods=1,
            Threshold=0.1,
            ComparisonOperator="GreaterThanThreshold",
        )
    cloudwatch.set_alarm_state(AlarmName=alarms[0], StateValue="ALARM", StateReason="drifted")
    serving = StackOutputs(
        "Serving",
        {Output.MONITORING_SCHEDULE_NAMES: f"{schedule},", Output.MONITORING_ALARM_NAMES: ",".join(alarms)},
    )
    resources = RegionResources(REGION, StackOutputs("Data", {}), StackOutputs("Training", {}), serving)

    assert monitoring_status(aws, resources) == {
        "monitoring": f"{schedule}: no run yet",
        "open violations": "none",
        "monitoring alarms in ALARM": alarms[0],
    }

    job = f"arn:aws:sagemaker:{REGION}:123456789012:processing-job/model-monitoring-202103150700-abc"
    emulator.record_monitoring_execution(REGION, schedule, "Completed", ScheduledTime="2031-03-15T06:00:00+00:00")
    emulator.record_monitoring_execution(
        REGION, schedule, "CompletedWithViolations", ScheduledTime="2031-03-15T07:00:00+00:00", ProcessingJobArn=job
    )
    status = monitoring_status(aws, resources)
    assert status["monitoring"] == (
        f"{schedule}: CompletedWithViolations at 2031-03-15 07:00 (violations: constraint_violations.json in the "
        "output of processing job model-monitoring-202103150700-abc)"
    )
    assert status["open violations"] == schedule


def test_status_says_when_monitoring_is_off_or_nothing_is_served(aws) -> None:
    data, training = StackOutputs("Data", {}), StackOutputs("Training", {})
    assert monitoring_status(aws, RegionResources(REGION, data, training, None)) == {"monitoring": "-"}
    unmonitored = RegionResources(REGION, data, training, StackOutputs("Serving", {}))
    assert monitoring_status(aws, unmonitored) == {"monitoring": "off (serving.monitoring)"}
