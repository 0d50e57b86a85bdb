"""``monitor-model-quality``: the served model's predictions of one period against the labels people uploaded.

Ground truth ("Ingest Ground Truth labels and merge them with predictions",
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-merge.html) is JSON Lines, one record per
captured request::

    {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "…"}, "eventVersion": "0"}

``eventId`` is the capture's ``inferenceId`` where the request had one, else its ``eventId``; ``data`` holds one label
per record of the request (one per line). The metric is the quality gate's (``quality_metric``: auc, accuracy,
rmse or mae), computed as the pipeline's evaluation computes it; a violation reports it below ``quality_threshold``
(above, for rmse and mae), and the metric goes to CloudWatch under its own name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tabular_xgboost.errors import UserError
from tabular_xgboost.evaluation import evaluation_report
from tabular_xgboost.monitoring.capture import predictions, read_captures
from tabular_xgboost.monitoring.contract import DEFAULT_GROUND_TRUTH_SOURCE, MonitoringJob, format_time

QUALITY_METRICS = {"auc": True, "accuracy": True, "rmse": False, "mae": False}
"""The quality gate's metrics, and whether higher is better (``ml_constructs/pipeline_definition.py`` holds the
same for the pipeline; a test compares them)."""


def read_ground_truth(source: Path) -> dict[str, list[float]]:
    """Labels by event ID from every ``*.jsonl`` file under ``source``."""
    labels: dict[str, list[float]] = {}
    for path in sorted(source.rglob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                data = record["groundTruthData"]["data"]
                values = json.loads(data) if record["groundTruthData"].get("encoding") == "JSON" else data.splitlines()
                labels[record["eventMetadata"]["eventId"]] = [float(value) for value in np.ravel(values)]
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                raise UserError(
                    f"{path} line {number} is not a ground-truth record; allowed: JSON with groundTruthData.data "
                    "(labels, one per line) and eventMetadata.eventId"
                ) from None
    return labels


def run_model_quality(job: MonitoringJob) -> dict[str, Any]:
    metric = job.environ.get("quality_metric", "")
    if metric not in QUALITY_METRICS:
        raise UserError(f"quality_metric is {metric!r}; allowed: {', '.join(QUALITY_METRICS)}")
    try:
        threshold = float(job.environ.get("quality_threshold", ""))
    except ValueError:
        raise UserError(f"quality_threshold is {job.environ.get('quality_threshold')!r}; allowed: a number") from None
    labels_by_id = read_ground_truth(Path(job.environ.get("ground_truth_source", DEFAULT_GROUND_TRUTH_SOURCE)))
    predicted: list[float] = []
    labels: list[float] = []
    captured = unmatched = 0
    for record in read_captures(job.dataset_source, job.start_time, job.end_time):
        captured += 1
        truth = labels_by_id.get(record.match_id)
        answer = predictions(record.output) if record.output else []
        if truth is None or len(truth) != len(answer):
            unmatched += 1
            continue
        predicted += answer
        labels += truth
    statistics: dict[str, Any] = {
        "version": 0.0,
        "dataset": {"item_count": len(labels), "evaluation_time": format_time(job.end_time)},
    }
    violations: list[dict] = []
    metrics: list[dict] = []
    if labels:
        report = evaluation_report(np.asarray(predicted), np.asarray(labels))
        section, values = next(iter(report.items()))
        if metric not in values:
            raise UserError(
                f"quality_metric {metric} is not a metric of {section}; the labels make this a "
                f"{section.removesuffix('_metrics').replace('_', ' ')} ({', '.join(values)})"
            )
        statistics[section] = values
        value = values[metric]["value"]
        metrics.append(job.metric(metric, value))
        higher_is_better = QUALITY_METRICS[metric]
        if (value < threshold) if higher_is_better else (value > threshold):
            operator = "LessThanThreshold" if higher_is_better else "GreaterThanThreshold"
            violations.append(
                {
                    "metric_name": metric,
                    "constraint_check_type": operator,
                    "description": f"Metric {metric} with {value:.4g} was {operator} '{threshold:g}'",
                }
            )
    job.write_outputs(statistics, violations, metrics)
    print(
        f"merged {len(labels)} labels with {captured - unmatched} of {captured} captured requests "
        f"({unmatched} without ground truth): {len(violations)} violation(s)",
        flush=True,
    )
    return {"violations": violations}
