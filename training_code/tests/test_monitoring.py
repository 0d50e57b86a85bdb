"""``monitor-data-quality`` and ``monitor-model-quality`` over what SageMaker would hand them: capture files written,
as SageMaker writes them, from real requests to the real model server, and labels in the ground-truth format."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from container_harness import (
    RunningServer,
    capture_record,
    classification_table,
    container_command,
    running_server,
    subprocess_environment,
    write_capture_file,
)
from tabular_xgboost.monitoring.data_quality import numerical_statistics

FEATURES = ("x0", "x1", "x2", "x3", "x4", "x5")
CAPTURE_TYPES = {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}
ENDPOINT, VARIANT, SCHEDULE = "churn-endpoint", "AllTraffic", "churn-data-quality"
PERIOD = {"start_time": "2024-05-01T10:00:00Z", "end_time": "2024-05-01T11:00:00Z"}


@pytest.fixture(scope="module")
def server(trained_classifier, tmp_path_factory) -> RunningServer:
    with running_server(trained_classifier.root, tmp_path_factory.mktemp("serving") / "server.log") as running:
        yield running


def rows_as_csv(rows: np.ndarray) -> bytes:
    return "\n".join(",".join("" if np.isnan(v) else repr(float(v)) for v in row) for row in rows).encode()


def write_baseline(folder: Path, rows: np.ndarray) -> tuple[Path, Path]:
    """statistics.json and constraints.json of ``rows`` in Model Monitor's formats, as the Prepare step writes
    them from the training split."""
    features, constraints = [], []
    for index, name in enumerate(FEATURES):
        column = rows[:, index]
        present = column[~np.isnan(column)]
        stats = numerical_statistics(present, len(column))
        features.append({"name": name, "inferred_type": "Fractional", "numerical_statistics": stats})
        constraints.append({"name": name, "inferred_type": "Fractional", "completeness": len(present) / len(column)})
    folder.mkdir(parents=True, exist_ok=True)
    statistics = folder / "statistics.json"
    statistics.write_text(json.dumps({"version": 0, "dataset": {"item_count": len(rows)}, "features": features}))
    config = {
        "datatype_check_threshold": 1.0,
        "distribution_constraints": {"perform_comparison": "Enabled", "comparison_threshold": 0.1},
    }
    constraint_file = folder / "constraints.json"
    constraint_file.write_text(json.dumps({"version": 0, "features": constraints, "monitoring_config": config}))
    return statistics, constraint_file


def serve_and_capture(server: RunningServer, root: Path, batches: list[tuple[bytes, str]]) -> list[dict]:
    """Sends each body to the server and writes what SageMaker captures of it into one file of the period's hour."""
    records = []
    for number, (body, content_type) in enumerate(batches):
        response = server.request("POST", "/invocations", body, Content_Type=content_type)
        assert response.status == 200, response.body
        records.append(
            capture_record(
                body,
                content_type,
                response,
                capture_content_types=CAPTURE_TYPES,
                event_id=f"event-{number}",
                inference_time=f"2024-05-01T10:{number % 60:02d}:00Z",
            )
        )
    write_capture_file(root, ENDPOINT, VARIANT, "2024/05/01/10", records)
    return records


def monitor(command: str, tmp_path: Path, **environ: str) -> tuple[subprocess.CompletedProcess, Path]:
    opt_ml = tmp_path / "opt-ml"
    variables = {
        "dataset_source": str(tmp_path / "endpointdata"),
        "output_path": str(tmp_path / "resultdata"),
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": ENDPOINT,
        "sagemaker_monitoring_schedule_name": SCHEDULE,
        "OPT_ML_ROOT": str(opt_ml),
        **PERIOD,
        **environ,
    }
    result = subprocess.run(
        container_command(command), check=False, env=subprocess_environment(**variables), capture_output=True, text=True
    )
    return result, opt_ml


def outputs(tmp_path: Path, opt_ml: Path) -> tuple[dict, list[dict], list[dict]]:
    statistics = json.loads((tmp_path / "resultdata" / "statistics.json").read_text())
    violations = json.loads((tmp_path / "resultdata" / "constraint_violations.json").read_text())["violations"]
    metrics_file = opt_ml / "output" / "metrics" / "cloudwatch" / "metrics.jsonl"
    metrics = [json.loads(line) for line in metrics_file.read_text().splitlines()] if metrics_file.exists() else []
    return statistics, violations, metrics


def test_requests_like_the_training_data_raise_no_violation_and_report_every_feature(server, tmp_path):
    # No missing values: a sample with a few more of them than the baseline would fail its completeness.
    train = classification_table(2000, seed=1, missing=0.0).features("label").astype(np.float64)
    statistics_file, constraints_file = write_baseline(tmp_path / "baseline", train)
    same = classification_table(600, seed=11, missing=0.0).features("label")
    serve_and_capture(
        server, tmp_path / "endpointdata", [(rows_as_csv(same[i : i + 100]), "text/csv") for i in range(0, 600, 100)]
    )

    result, opt_ml = monitor(
        "monitor-data-quality",
        tmp_path,
        baseline_statistics=str(statistics_file),
        baseline_constraints=str(constraints_file),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    statistics, violations, metrics = outputs(tmp_path, opt_ml)
    assert violations == []
    assert statistics["dataset"]["item_count"] == 600
    assert [feature["name"] for feature in statistics["features"]] == list(FEATURES)
    drift = {m["MetricName"]: m["Value"] for m in metrics if m["MetricName"].startswith("feature_baseline_drift_")}
    assert set(drift) == {f"feature_baseline_drift_{name}" for name in FEATURES}
    assert all(0 <= value < 0.1 for value in drift.values()), drift
    assert all(
        m["Dimensions"] == [{"Name": "Endpoint", "Value": ENDPOINT}, {"Name": "MonitoringSchedule", "Value": SCHEDULE}]
        and m["Timestamp"] == PERIOD["end_time"]
        for m in metrics
    )


def test_a_shifted_feature_is_reported_as_drift_with_its_distance(server, tmp_path):
    train = classification_table(2000, seed=1, missing=0.0).features("label").astype(np.float64)
    statistics_file, constraints_file = write_baseline(tmp_path / "baseline", train)
    shifted = classification_table(300, seed=12, missing=0.0).features("label")
    shifted[:, 0] += 2.0
    # JSON bodies too: both capture encodings are read.
    records = [{"instances": shifted[i : i + 50].tolist()} for i in range(0, 300, 50)]
    batches = [(json.dumps(body).replace("NaN", "null").encode(), "application/json") for body in records]
    captured = serve_and_capture(server, tmp_path / "endpointdata", batches)
    assert captured[0]["captureData"]["endpointInput"]["encoding"] == "JSON"

    result, opt_ml = monitor(
        "monitor-data-quality",
        tmp_path,
        baseline_statistics=str(statistics_file),
        baseline_constraints=str(constraints_file),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    _, violations, metrics = outputs(tmp_path, opt_ml)
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations] == [("x0", "baseline_drift_check")]
    drift = {m["MetricName"]: m["Value"] for m in metrics if m["MetricName"].startswith("feature_baseline_drift_")}
    assert drift["feature_baseline_drift_x0"] > 0.5


def test_records_outside_the_period_are_not_analysed_and_missing_values_lower_completeness(server, tmp_path):
    train = classification_table(2000, seed=1, missing=0.0).features("label").astype(np.float64)
    statistics_file, constraints_file = write_baseline(tmp_path / "baseline", train)
    gappy = classification_table(200, seed=13, missing=0.3).features("label")
    serve_and_capture(server, tmp_path / "endpointdata", [(rows_as_csv(gappy), "text/csv")])

    late, opt_ml = monitor(
        "monitor-data-quality",
        tmp_path,
        baseline_statistics=str(statistics_file),
        baseline_constraints=str(constraints_file),
        start_time="2024-05-01T11:00:00Z",
        end_time="2024-05-01T12:00:00Z",
    )
    assert late.returncode == 0, late.stderr
    assert outputs(tmp_path, opt_ml)[0]["dataset"]["item_count"] == 0

    result, opt_ml = monitor(
        "monitor-data-quality",
        tmp_path,
        baseline_statistics=str(statistics_file),
        baseline_constraints=str(constraints_file),
    )
    assert result.returncode == 0, result.stderr
    _, violations, _ = outputs(tmp_path, opt_ml)
    assert {v["feature_name"] for v in violations if v["constraint_check_type"] == "completeness_check"} == set(
        FEATURES
    )


def test_records_of_the_wrong_width_are_missing_or_extra_columns(tmp_path):
    statistics_file, constraints_file = write_baseline(
        tmp_path / "baseline", classification_table(500, seed=1).features("label").astype(np.float64)
    )
    records = [
        {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": data, "encoding": "CSV"}
            },
            "eventMetadata": {"eventId": f"e{number}", "inferenceTime": "2024-05-01T10:30:00Z"},
            "eventVersion": "0",
        }
        for number, data in enumerate(["1,2,3", "1,2,3,4,5,6,7", "1,2,3,4,5,abc"])
    ]
    write_capture_file(tmp_path / "endpointdata", ENDPOINT, VARIANT, "2024/05/01/10", records)

    result, opt_ml = monitor(
        "monitor-data-quality",
        tmp_path,
        baseline_statistics=str(statistics_file),
        baseline_constraints=str(constraints_file),
    )

    assert result.returncode == 0, result.stderr
    checks = {(v["feature_name"], v["constraint_check_type"]) for v in outputs(tmp_path, opt_ml)[1]}
    assert {("", "missing_column_check"), ("", "extra_column_check"), ("x5", "data_type_check")} <= checks


def test_without_a_baseline_the_job_fails_with_the_reason_as_its_exit_message(tmp_path):
    result, opt_ml = monitor("monitor-data-quality", tmp_path)

    assert result.returncode == 1
    assert "baseline_statistics" in (opt_ml / "output" / "message").read_text()


def ground_truth(root: Path, labels: dict[str, list[int]]) -> None:
    folder = root / "2024" / "05" / "01" / "12"
    folder.mkdir(parents=True)
    lines = [
        {
            "groundTruthData": {"data": "\n".join(map(str, values)), "encoding": "CSV"},
            "eventMetadata": {"eventId": event},
            "eventVersion": "0",
        }
        for event, values in labels.items()
    ]
    (folder / "labels.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


@pytest.mark.parametrize("flipped", [False, True], ids=["true-labels", "flipped-labels"])
def test_model_quality_is_the_gates_metric_over_merged_predictions_and_labels(server, tmp_path, flipped):
    table = classification_table(400, seed=14)
    rows, labels = table.features("label"), table.column("label").astype(int)
    batches = [(rows_as_csv(rows[i : i + 40]), "text/csv") for i in range(0, 400, 40)]
    serve_and_capture(server, tmp_path / "endpointdata", batches)
    # Labels for nine of the ten requests: the tenth has none yet.
    ground_truth(
        tmp_path / "groundtruth",
        {f"event-{n}": list((1 - labels if flipped else labels)[n * 40 : n * 40 + 40]) for n in range(9)},
    )

    result, opt_ml = monitor(
        "monitor-model-quality",
        tmp_path,
        ground_truth_source=str(tmp_path / "groundtruth"),
        quality_metric="auc",
        quality_threshold="0.75",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    statistics, violations, metrics = outputs(tmp_path, opt_ml)
    assert statistics["dataset"]["item_count"] == 360
    (auc,) = [m["Value"] for m in metrics if m["MetricName"] == "auc"]
    assert auc == statistics["binary_classification_metrics"]["auc"]["value"]
    if flipped:
        assert auc < 0.25
        assert [(v["metric_name"], v["constraint_check_type"]) for v in violations] == [("auc", "LessThanThreshold")]
    else:
        assert auc > 0.8 and violations == []
    assert "9 of 10 captured requests" in result.stdout
