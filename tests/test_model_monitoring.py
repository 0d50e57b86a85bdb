"""Data- and model-quality monitoring of the served endpoint: the synthesized schedules and job definitions as the
API requests CloudFormation makes from them, their network, keys and role, and the alarms as data."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ml_constructs.model_monitoring import MONITOR_ALARMS
from ml_constructs.model_monitoring_props import ModelMonitoringProps, MonitoringBaseline
from platform_contract.api_shapes import request_shape, shape_problems
from platform_contract.names import MonitoringMetric, Output, ProblemType
from tests.conftest import SERVING_REGION, SynthesizedPlatform, serving_context

BUCKET = "mlplatform-eu-west-1-data-datastorebucket-ab12cd34ef56"
BASELINE = {
    "statistics_uri": f"s3://{BUCKET}/datasets/churn/baseline/statistics.json",
    "constraints_uri": f"s3://{BUCKET}/datasets/churn/baseline/constraints.json",
}
DRIFT_FEATURES = ["x0", "x1"]
REQUESTS = {
    "AWS::SageMaker::DataQualityJobDefinition": "CreateDataQualityJobDefinition",
    "AWS::SageMaker::ModelQualityJobDefinition": "CreateModelQualityJobDefinition",
    "AWS::SageMaker::MonitoringSchedule": "CreateMonitoringSchedule",
}
PLAUSIBLE = {
    "JobDefinitionName": "MonitoringDataQualityJobDefinition-Ab12Cd34Ef56",
    "MonitoringJobDefinitionName": "MonitoringDataQualityJobDefinition-Ab12Cd34Ef56",
    "RoleArn": "arn:aws:iam::123456789012:role/Serving-MonitoringRole-Ab12Cd34Ef56",
    "KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "VolumeKmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "Subnets": "subnet-0123456789abcdef0",
    "SecurityGroupIds": "sg-0123456789abcdef0",
    "EndpointName": "EndpointMlM5Large-Ab12Cd34Ef56",
    "S3Uri": f"s3://{BUCKET}/monitoring/EndpointMlM5Large-Ab12Cd34Ef56/data-quality",
    "ImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cdk-hnb659fds-container-assets:" + "a" * 64,
}


def monitoring_context(**monitoring: Any) -> dict:
    context = serving_context()
    entry = next(e for e in context["platform"]["regions"] if e["region"] == SERVING_REGION)
    entry["serving"]["monitoring"] = {"baseline": BASELINE, "drift_features": DRIFT_FEATURES, **monitoring}
    return context


@pytest.fixture(scope="module")
def monitored(tmp_path_factory) -> SynthesizedPlatform:
    return SynthesizedPlatform(monitoring_context(), tmp_path_factory.mktemp("cdk.out.monitoring"))


@pytest.fixture(scope="module")
def template(monitored) -> Mapping[str, Any]:
    return monitored.template_json(SERVING_REGION, "serving")


def of_type(template: Mapping[str, Any], kind: str) -> dict[str, dict]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == kind}


def plausible(value: Any, member: str = "") -> Any:
    if isinstance(value, list):
        return [plausible(item, member) for item in value]
    if isinstance(value, dict):
        if any(key == "Ref" or key.startswith("Fn::") for key in value):
            assert member in PLAUSIBLE, f"no plausible value for {member}: {value}"
            return PLAUSIBLE[member]
        return {key: plausible(item, key) for key, item in value.items()}
    return value


def test_every_monitoring_resource_is_a_valid_sagemaker_request(template):
    checked = 0
    for kind, operation in REQUESTS.items():
        for properties in (resource["Properties"] for resource in of_type(template, kind).values()):
            request = plausible(properties)
            # CloudFormation generates the definition's name.
            if operation != "CreateMonitoringSchedule":
                request.setdefault("JobDefinitionName", PLAUSIBLE["JobDefinitionName"])
            assert shape_problems(request, request_shape(operation), operation) == []
            checked += 1
    assert checked == 4, "two job definitions and two schedules"


def test_jobs_run_the_model_image_isolated_in_the_private_network_with_the_regions_key(template):
    for kind, prefix in (("DataQuality", "DataQuality"), ("ModelQuality", "ModelQuality")):
        (definition,) = of_type(template, f"AWS::SageMaker::{kind}JobDefinition").values()
        properties = definition["Properties"]
        app = properties[f"{prefix}AppSpecification"]
        assert app["ContainerEntrypoint"] == [f"monitor-{kind.replace('Quality', '-quality').lower()}"]
        assert "container-assets" in str(app["ImageUri"])
        network = properties["NetworkConfig"]
        assert network["EnableNetworkIsolation"] is True
        assert network["EnableInterContainerTrafficEncryption"] is True
        assert "MonitoringSecurityGroup" in str(network["VpcConfig"]["SecurityGroupIds"])
        assert len(network["VpcConfig"]["Subnets"]) >= 2
        cluster = properties["JobResources"]["ClusterConfig"]
        assert "DataStoreKey" in str(cluster["VolumeKmsKeyId"])
        output = properties[f"{prefix}JobOutputConfig"]
        assert "DataStoreKey" in str(output["KmsKeyId"])
        assert "/monitoring/" in str(output["MonitoringOutputs"][0]["S3Output"]["S3Uri"])
        assert "JobDefinitionName" not in properties, "CloudFormation names it, so that a change replaces it"


def test_data_quality_compares_with_the_served_packages_baseline(template):
    (definition,) = of_type(template, "AWS::SageMaker::DataQualityJobDefinition").values()
    baseline = definition["Properties"]["DataQualityBaselineConfig"]
    assert baseline["StatisticsResource"]["S3Uri"] == BASELINE["statistics_uri"]
    assert baseline["ConstraintsResource"]["S3Uri"] == BASELINE["constraints_uri"]


def test_model_quality_holds_the_model_to_the_quality_gate_over_the_endpoints_ground_truth(template, monitored):
    gate = next(r for r in monitored.config.regions if r.region == SERVING_REGION).settings.training.quality_gate
    (definition,) = of_type(template, "AWS::SageMaker::ModelQualityJobDefinition").values()
    properties = definition["Properties"]
    environment = properties["ModelQualityAppSpecification"]["Environment"]
    assert environment["quality_metric"] == gate.metric
    assert float(environment["quality_threshold"]) == gate.threshold
    assert "/ground-truth/" in str(properties["ModelQualityJobInput"]["GroundTruthS3Input"]["S3Uri"])


def test_outputs_name_the_schedules_the_alarms_and_where_labels_go_for_mlp(template):
    outputs = template["Outputs"]
    schedules = of_type(template, "AWS::SageMaker::MonitoringSchedule").values()
    assert outputs[Output.MONITORING_SCHEDULE_NAMES]["Value"] == ",".join(
        schedule["Properties"]["MonitoringScheduleName"] for schedule in schedules
    )
    alarms = [{"Ref": key} for key in of_type(template, "AWS::CloudWatch::Alarm") if key.startswith("Monitoring")]
    assert sorted(outputs[Output.MONITORING_ALARM_NAMES]["Value"]["Fn::Join"][1], key=str) == sorted(alarms, key=str)
    (definition,) = of_type(template, "AWS::SageMaker::ModelQualityJobDefinition").values()
    job_input = definition["Properties"]["ModelQualityJobInput"]["GroundTruthS3Input"]["S3Uri"]
    assert outputs[Output.GROUND_TRUTH_URI]["Value"] == job_input
    problem_type = definition["Properties"]["ModelQualityAppSpecification"]["ProblemType"]
    assert outputs[Output.MODEL_QUALITY_PROBLEM_TYPE]["Value"] == problem_type == ProblemType.BINARY_CLASSIFICATION


def test_schedules_run_hourly_with_names_within_63_characters(template):
    schedules = of_type(template, "AWS::SageMaker::MonitoringSchedule").values()
    for schedule in schedules:
        properties = schedule["Properties"]
        assert properties["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == "cron(0 * ? * * *)"
        assert len(properties["MonitoringScheduleName"]) <= 63
    assert {s["Properties"]["MonitoringScheduleConfig"]["MonitoringType"] for s in schedules} == {
        "DataQuality",
        "ModelQuality",
    }


def test_the_role_reads_capture_ground_truth_and_the_baseline_and_writes_monitoring_only(template):
    (policy,) = [p for key, p in of_type(template, "AWS::IAM::Policy").items() if key.startswith("MonitoringRole")]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_action: dict[str, list[str]] = {}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            by_action.setdefault(action, []).append(str(statement["Resource"]))
    reads = " ".join(by_action["s3:GetObject*"] if "s3:GetObject*" in by_action else by_action["s3:GetObject"])
    for prefix in ("/capture/*", "/ground-truth/*", "/datasets/*"):
        assert prefix in reads
    writes = " ".join(by_action["s3:PutObject"])
    assert "/monitoring/*" in writes and "/capture/" not in writes
    assert not any(action in by_action for action in ("s3:DeleteObject", "s3:*", "*"))


def test_alarms_are_the_table_one_per_drift_feature_and_one_on_quality_and_page_the_topic(template, monitored):
    alarms = {
        key: alarm["Properties"]
        for key, alarm in of_type(template, "AWS::CloudWatch::Alarm").items()
        if key.startswith("Monitoring")
    }
    drift = [a for a in alarms.values() if a["MetricName"].startswith(MonitoringMetric.DRIFT_PREFIX)]
    assert sorted(a["MetricName"] for a in drift) == [f"feature_baseline_drift_{f}" for f in DRIFT_FEATURES]
    assert all(
        a["Namespace"] == MonitoringMetric.DATA_QUALITY_NAMESPACE
        and a["Threshold"] == ModelMonitoringProps.drift_threshold
        and a["ComparisonOperator"] == "GreaterThanThreshold"
        and a["Period"] == 3600
        for a in drift
    )
    (quality,) = [a for a in alarms.values() if a["Namespace"] == MonitoringMetric.MODEL_QUALITY_NAMESPACE]
    assert (quality["MetricName"], quality["Statistic"], quality["ComparisonOperator"]) == (
        "auc",
        "Minimum",
        "LessThanThreshold",
    )
    assert (
        len(alarms)
        == len(DRIFT_FEATURES) + 1
        == sum(
            len(
                spec.id(
                    ModelMonitoringProps(drift_features=tuple(DRIFT_FEATURES), baseline=MonitoringBaseline(**BASELINE)),
                    monitored_gate(monitored),
                )
            )
            for spec in MONITOR_ALARMS
        )
    )
    for alarm in alarms.values():
        assert alarm["TreatMissingData"] == "notBreaching"
        assert "AlertsTopic" in str(alarm["AlarmActions"]) and "AlertsTopic" in str(alarm["OKActions"])
        assert {d["Name"] for d in alarm["Dimensions"]} == {"Endpoint", "MonitoringSchedule"}


def monitored_gate(monitored):
    from ml_constructs.training_pipeline_props import QualityGate

    settings = next(r for r in monitored.config.regions if r.region == SERVING_REGION).settings
    return QualityGate(**settings.training.quality_gate.model_dump())


def test_without_a_baseline_only_model_quality_is_monitored(platform):
    template = platform.template_json(SERVING_REGION, "serving")
    assert of_type(template, "AWS::SageMaker::DataQualityJobDefinition") == {}
    assert len(of_type(template, "AWS::SageMaker::ModelQualityJobDefinition")) == 1
    assert len(of_type(template, "AWS::SageMaker::MonitoringSchedule")) == 1
    assert Output.MONITORING_SCHEDULE_NAMES in template["Outputs"]
    assert Output.MONITORING_ALARM_NAMES in template["Outputs"]


def test_bad_props_are_refused_all_at_once():
    problems = ModelMonitoringProps(
        schedule="rate(1 hour)",
        instance_type="ml.m5.huge",
        max_runtime_seconds=7200,
        drift_threshold=1.5,
        drift_features=("x0", "x0"),
    ).problems()
    assert [problem.key for problem in problems] == [
        "schedule",
        "instance_type",
        "max_runtime_seconds",
        "drift_threshold",
        "drift_features[1]",
        "drift_features",
    ]
    assert "hourly cron(0 * ? * * *) or daily cron(0 H ? * * *)" in str(problems[0])


def test_a_daily_schedule_alarms_over_a_day_and_allows_a_longer_run():
    props = ModelMonitoringProps(schedule="cron(0 3 ? * * *)", max_runtime_seconds=7200)
    assert props.problems() == [] and props.period_seconds == 86400


def test_the_analyzer_and_the_pipeline_agree_on_the_quality_metrics():
    from tabular_xgboost.monitoring.model_quality import QUALITY_METRICS

    from ml_constructs.pipeline_spec import HIGHER_IS_BETTER
    from ml_constructs.pipeline_spec import QUALITY_METRICS as PIPELINE_METRICS

    assert QUALITY_METRICS == {metric: metric in HIGHER_IS_BETTER for metric in PIPELINE_METRICS}


def test_the_analyzer_writes_the_drift_metric_names_the_alarms_read():
    from tabular_xgboost.monitoring.data_quality import DRIFT_METRIC

    assert DRIFT_METRIC.format("x0") == f"{MonitoringMetric.DRIFT_PREFIX}x0"


# --- the chain, run for real ----------------------------------------------------------------------

COMPARISONS = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
}
STATISTICS = {"Maximum": max, "Minimum": min}
ENDPOINT_NAME = "EndpointMlM5Large-Ab12Cd34Ef56"


def alarm_state(alarm: Mapping[str, Any], metrics: list[dict], endpoint_ref: Any) -> str:
    """What CloudWatch makes of ``metrics`` (the analyzer's metric lines of one period, as SageMaker publishes them)
    under the alarm's definition: its metric, dimensions, statistic, threshold, comparison and missing-data rule."""
    wanted = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert wanted["Endpoint"] == endpoint_ref
    values = [
        line["Value"]
        for line in metrics
        if line["MetricName"] == alarm["MetricName"]
        and {d["Name"]: d["Value"] for d in line["Dimensions"]}
        == {"Endpoint": ENDPOINT_NAME, "MonitoringSchedule": wanted["MonitoringSchedule"]}
    ]
    if not values:
        return "OK" if alarm["TreatMissingData"] == "notBreaching" else "INSUFFICIENT_DATA"
    value = STATISTICS[alarm["Statistic"]](values)
    return "ALARM" if COMPARISONS[alarm["ComparisonOperator"]](value, alarm["Threshold"]) else "OK"


@pytest.fixture(scope="module")
def served_model(tmp_path_factory):
    from container_harness import SageMakerDir, classification_table, running_server, train_in_process

    job = SageMakerDir(tmp_path_factory.mktemp("classifier") / "opt-ml")
    classification_table(1500, seed=1, missing=0.0).write_csv(job.channel("train") / "train.csv")
    job.hyperparameters({"target_column": "label", "task": "classification", "num_round": "20"})
    status, log = train_in_process(job)
    assert status == 0, log
    with running_server(job.root, tmp_path_factory.mktemp("serving") / "server.log") as server:
        yield job, server


def run_monitor(definition: Mapping[str, Any], kind: str, schedule_name: str, folder, **environ: str) -> list[dict]:
    """Runs the job definition's container command over ``folder`` as a monitoring execution of one hour."""
    import json
    import subprocess

    from container_harness import subprocess_environment

    app = definition["Properties"][f"{kind}AppSpecification"]
    variables = {
        **app.get("Environment", {}),
        "dataset_source": str(folder / "endpointdata"),
        "output_path": str(folder / "resultdata"),
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": ENDPOINT_NAME,
        "sagemaker_monitoring_schedule_name": schedule_name,
        "start_time": "2024-05-01T10:00:00Z",
        "end_time": "2024-05-01T11:00:00Z",
        "OPT_ML_ROOT": str(folder / "opt-ml"),
        **environ,
    }
    # The image's console scripts are the entry points' names; here the same commands run from the source tree.
    (command,) = app["ContainerEntrypoint"]
    from container_harness import container_command

    result = subprocess.run(
        container_command(command), check=False, env=subprocess_environment(**variables), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    metrics_file = Path(variables["OPT_ML_ROOT"]) / "output" / "metrics" / "cloudwatch" / "metrics.jsonl"
    return [json.loads(line) for line in metrics_file.read_text().splitlines()]


def capture_and_label(server, template, folder, rows, labels):
    """Requests served by the real server, captured as the endpoint config tells SageMaker to, and their labels in
    the ground-truth format under the hour after."""
    import json

    from container_harness import capture_record, write_capture_file

    (config,) = of_type(template, "AWS::SageMaker::EndpointConfig").values()
    content_types = config["Properties"]["DataCaptureConfig"]["CaptureContentTypeHeader"]
    records, truth = [], []
    for number, start in enumerate(range(0, len(rows), 50)):
        body = "\n".join(",".join(repr(float(v)) for v in row) for row in rows[start : start + 50]).encode()
        response = server.request("POST", "/invocations", body, Content_Type="text/csv")
        assert response.status == 200
        event = f"event-{number}"
        records.append(
            capture_record(
                body,
                "text/csv",
                response,
                capture_content_types=content_types,
                event_id=event,
                inference_time=f"2024-05-01T10:{number:02d}:00Z",
            )
        )
        data = "\n".join(str(int(label)) for label in labels[start : start + 50])
        truth.append({"groundTruthData": {"data": data, "encoding": "CSV"}, "eventMetadata": {"eventId": event}})
    assert records[0]["captureData"]["endpointInput"]["encoding"] == "CSV", "captured as text, not base64"
    write_capture_file(folder / "endpointdata", ENDPOINT_NAME, "AllTraffic", "2024/05/01/10", records)
    ground_truth = folder / "groundtruth" / "2024" / "05" / "01" / "11"
    ground_truth.mkdir(parents=True)
    (ground_truth / "labels.jsonl").write_text("".join(json.dumps(line) + "\n" for line in truth))


def write_training_baseline(folder, rows) -> dict[str, str]:
    import json

    from tabular_xgboost.monitoring.data_quality import numerical_statistics

    names = [f"x{i}" for i in range(rows.shape[1])]
    folder.mkdir(parents=True)
    statistics = {
        "version": 0,
        "dataset": {"item_count": len(rows)},
        "features": [
            {
                "name": n,
                "inferred_type": "Fractional",
                "numerical_statistics": numerical_statistics(rows[:, i], len(rows)),
            }
            for i, n in enumerate(names)
        ],
    }
    constraints = {
        "version": 0,
        "features": [{"name": n, "inferred_type": "Fractional", "completeness": 1.0} for n in names],
        "monitoring_config": {
            "distribution_constraints": {"perform_comparison": "Enabled", "comparison_threshold": 0.1}
        },
    }
    (folder / "statistics.json").write_text(json.dumps(statistics))
    (folder / "constraints.json").write_text(json.dumps(constraints))
    return {
        "baseline_statistics": str(folder / "statistics.json"),
        "baseline_constraints": str(folder / "constraints.json"),
    }


@pytest.mark.parametrize("shifted", [False, True], ids=["as-trained", "drifted-and-wrong"])
def test_served_requests_their_capture_the_analyzer_and_the_alarms_definition_agree(
    template, served_model, tmp_path, shifted
):
    """Real requests to the real server, captured in SageMaker's format, analysed by the real analyzer as the
    synthesized job definitions run it; the synthesized alarms' definitions then decide on the emitted metrics."""
    from container_harness import classification_table

    table = classification_table(500, seed=21, missing=0.0)
    rows, labels = table.features("label").astype("float64"), table.column("label")
    if shifted:
        rows[:, 0] += 2.5
        labels = 1 - labels
    capture_and_label(served_model[1], template, tmp_path, rows, labels)
    baseline = write_training_baseline(
        tmp_path / "baseline", classification_table(1500, seed=1, missing=0.0).features("label").astype("float64")
    )
    schedules = {
        s["Properties"]["MonitoringScheduleConfig"]["MonitoringType"]: s["Properties"]["MonitoringScheduleName"]
        for s in of_type(template, "AWS::SageMaker::MonitoringSchedule").values()
    }
    (data_quality,) = of_type(template, "AWS::SageMaker::DataQualityJobDefinition").values()
    (model_quality,) = of_type(template, "AWS::SageMaker::ModelQualityJobDefinition").values()
    endpoint_ref = data_quality["Properties"]["DataQualityJobInput"]["EndpointInput"]["EndpointName"]
    metrics = run_monitor(data_quality, "DataQuality", schedules["DataQuality"], tmp_path, **baseline)
    metrics += run_monitor(
        model_quality,
        "ModelQuality",
        schedules["ModelQuality"],
        tmp_path,
        ground_truth_source=str(tmp_path / "groundtruth"),
        output_path=str(tmp_path / "model-quality"),
        OPT_ML_ROOT=str(tmp_path / "opt-ml-model-quality"),
    )

    assert {"auc", "feature_baseline_drift_x0"} <= {line["MetricName"] for line in metrics}
    alarms = {
        alarm["Properties"]["MetricName"]: alarm_state(alarm["Properties"], metrics, endpoint_ref)
        for key, alarm in of_type(template, "AWS::CloudWatch::Alarm").items()
        if key.startswith("Monitoring")
    }
    if shifted:
        assert alarms == {"feature_baseline_drift_x0": "ALARM", "feature_baseline_drift_x1": "OK", "auc": "ALARM"}
    else:
        assert alarms == {"feature_baseline_drift_x0": "OK", "feature_baseline_drift_x1": "OK", "auc": "OK"}
