"""``evaluate``: scores batch-transform predictions against the true labels of the held-out test set.

The training pipeline's evaluation step runs it as a SageMaker processing job:

* ``/opt/ml/processing/input/predictions``: the batch-transform output, ``<file>.out`` per test file,
  one prediction per line (what ``serve`` answers for ``text/csv``);
* ``/opt/ml/processing/input/labels``: for every test file a file of the same name, one label per line;
* writes ``/opt/ml/processing/evaluation/evaluation.json`` in SageMaker's model quality format, the
  same sections and metric names as the training report;
* on failure writes the reason to ``/opt/ml/output/message`` (the job's ExitMessage) and exits 1.

The task follows from the labels: when every label is 0 or 1 the predictions are probabilities of
class 1 (binary classification: auc, accuracy, logloss); otherwise they are values (regression:
rmse, mae).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tabular_xgboost.errors import UserError
from tabular_xgboost.metrics import TASK_METRICS
from tabular_xgboost.sagemaker_environment import SageMakerPaths

PREDICTION_SUFFIX = ".out"
_PROBABILITY_CLIP = 1e-15


def processing_dir(paths: SageMakerPaths, *parts: str) -> Path:
    return paths.root.joinpath("processing", *parts)


def exit_message_file(paths: SageMakerPaths) -> Path:
    """Its first kilobyte becomes the processing job's ExitMessage."""
    return paths.root / "output" / "message"


def run_evaluation(paths: SageMakerPaths) -> dict:
    """Reads predictions and labels, writes the report and returns it."""
    predictions_dir = processing_dir(paths, "input", "predictions")
    labels_dir = processing_dir(paths, "input", "labels")
    predictions, labels = _paired_columns(predictions_dir, labels_dir)
    report = evaluation_report(predictions, labels)
    output = processing_dir(paths, "evaluation", "evaluation.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"evaluated {len(labels)} test rows: {json.dumps(report)}", flush=True)
    return report


def evaluation_report(predictions: np.ndarray, labels: np.ndarray) -> dict:
    if np.isin(labels, (0.0, 1.0)).all():
        if ((predictions < 0) | (predictions > 1)).any():
            raise UserError(
                "The labels are 0/1 (binary classification) but some predictions are outside [0, 1]; "
                "allowed: probabilities of class 1, as serve answers for a classification model"
            )
        section = TASK_METRICS["classification"].report_section
        metrics = {
            "auc": _auc(predictions, labels),
            "accuracy": _accuracy(predictions, labels),
            "logloss": _logloss(predictions, labels),
        }
    else:
        section = TASK_METRICS["regression"].report_section
        errors = predictions - labels
        metrics = {"rmse": float(np.sqrt(np.mean(errors**2))), "mae": float(np.mean(np.abs(errors)))}
    return {section: {name: {"value": value} for name, value in metrics.items()}}


def _paired_columns(predictions_dir: Path, labels_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    prediction_files = sorted(path for path in predictions_dir.rglob(f"*{PREDICTION_SUFFIX}") if path.is_file())
    if not prediction_files:
        raise UserError(f"No predictions found: {predictions_dir} holds no *{PREDICTION_SUFFIX} files")
    predictions, labels = [], []
    for prediction_file in prediction_files:
        relative = prediction_file.relative_to(predictions_dir)
        label_file = labels_dir / relative.with_name(relative.name.removesuffix(PREDICTION_SUFFIX))
        if not label_file.is_file():
            raise UserError(f"No labels for {relative}: expected {label_file} with one label per line")
        file_predictions = _read_column(prediction_file, "prediction")
        file_labels = _read_column(label_file, "label")
        if len(file_predictions) != len(file_labels):
            raise UserError(
                f"{relative} has {len(file_predictions)} predictions but {label_file.name} has "
                f"{len(file_labels)} labels; allowed: one label per test row"
            )
        predictions.append(file_predictions)
        labels.append(file_labels)
    return np.concatenate(predictions), np.concatenate(labels)


def _read_column(path: Path, what: str) -> np.ndarray:
    values = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text:
            continue
        try:
            values.append(float(text))
        except ValueError:
            raise UserError(
                f"{path.name} line {number}: {text[:40]!r} is not a number; allowed: one {what} per line"
            ) from None
    if not values:
        raise UserError(f"{path} is empty; allowed: one {what} per line")
    result = np.asarray(values, dtype=np.float64)
    if not np.isfinite(result).all():
        raise UserError(f"{path.name} holds NaN or infinite values; allowed: finite numbers")
    return result


def _auc(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) statistic, ties counted half."""
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        raise UserError("The test labels are all one class; allowed: both classes, so that AUC is defined")
    order = np.argsort(probabilities, kind="mergesort")
    sorted_scores = probabilities[order]
    ranks = np.empty(len(probabilities), dtype=np.float64)
    start = 0
    while start < len(sorted_scores):
        end = start
        while end + 1 < len(sorted_scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    rank_sum = ranks[labels == 1].sum()
    return float((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))


def _accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((probabilities >= 0.5) == (labels == 1)))


def _logloss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    clipped = np.clip(probabilities, _PROBABILITY_CLIP, 1 - _PROBABILITY_CLIP)
    return float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped)))
