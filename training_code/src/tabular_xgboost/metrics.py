"""Evaluation metrics: which ones each task tracks, how they are logged, and the evaluation report.

The log line format is a contract: ``metric_definitions.json`` holds the regular expressions
SageMaker applies to the training log to chart these metrics and record their final values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tabular_xgboost.hyperparameters import Task

DATASETS = ("train", "validation")


@dataclass(frozen=True)
class TaskMetrics:
    eval_metrics: tuple[str, ...]
    """XGBoost metric names, evaluated on both data sets every round."""
    objective: str
    """The validation metric early stopping and hyperparameter tuning optimize."""
    maximize: bool
    report_section: str
    """Top-level key of the SageMaker model quality report."""


TASK_METRICS: dict[Task, TaskMetrics] = {
    "classification": TaskMetrics(("logloss", "error", "auc"), "auc", True, "binary_classification_metrics"),
    "regression": TaskMetrics(("mae", "rmse"), "rmse", False, "regression_metrics"),
}


def parse_evaluation(text: str) -> dict[str, float]:
    """Parses ``Booster.eval_set`` output, ``[12]\\ttrain-auc:0.91\\tvalidation-auc:0.89``,
    into ``{"train-auc": 0.91, "validation-auc": 0.89}``."""
    scores = {}
    for item in text.split("\t")[1:]:
        name, value = item.rsplit(":", 1)
        scores[name] = float(value)
    return scores


def format_scores(scores: Mapping[str, float]) -> str:
    """``train-auc=0.91 validation-auc=0.89``: the part of a log line metric definitions match.

    ``repr`` keeps every digit, so the value SageMaker records equals the one in the report.
    """
    return " ".join(f"{name}={value!r}" for name, value in scores.items())


def write_evaluation_report(path: Path, task: Task, validation_scores: Mapping[str, float]) -> None:
    """Writes the validation metrics in SageMaker's model quality format, e.g.
    ``{"binary_classification_metrics": {"auc": {"value": 0.93}, ...}}``."""
    task_metrics = TASK_METRICS[task]
    section: dict[str, dict[str, float]] = {}
    for metric in task_metrics.eval_metrics:
        value = validation_scores[f"validation-{metric}"]
        if metric == "error":
            section["accuracy"] = {"value": 1.0 - value}
        else:
            section[metric] = {"value": value}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({task_metrics.report_section: section}, indent=2) + "\n", encoding="utf-8")
