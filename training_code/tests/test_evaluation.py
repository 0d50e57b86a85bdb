"""`evaluate`: the pipeline's evaluation step scoring batch-transform predictions against test labels."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from container_harness import run_in_process


def run_evaluate(root: Path, predictions: dict[str, str], labels: dict[str, str]) -> tuple[int, str]:
    """Lays out the processing job's inputs under ``root`` and runs the real command; returns its status and log."""
    for name, text in predictions.items():
        (root / "processing/input/predictions" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "processing/input/predictions" / name).write_text(text)
    for name, text in labels.items():
        (root / "processing/input/labels" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "processing/input/labels" / name).write_text(text)
    return run_in_process("evaluate", root)


def lines(values) -> str:
    return "".join(f"{float(value)!r}\n" for value in values)


def pairwise_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """AUC by definition: the share of (positive, negative) pairs ranked right, ties counting half."""
    pairs = list(itertools.product(scores[labels == 1], scores[labels == 0]))
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)


def test_classification_report_matches_the_definitions(tmp_path):
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 300).astype(float)
    scores = np.round(np.clip(labels * 0.3 + rng.random(300) * 0.7, 0, 1), 2)  # rounding makes ties
    status, log = run_evaluate(
        tmp_path,
        {"part-1.csv.out": lines(scores[:120]), "nested/part-2.csv.out": lines(scores[120:])},
        {
            "part-1.csv": "".join(f"{int(v)}\n" for v in labels[:120]),
            "nested/part-2.csv": "".join(f"{int(v)}\n" for v in labels[120:]),
        },
    )
    assert status == 0, log
    report = json.loads((tmp_path / "processing/evaluation/evaluation.json").read_text())
    metrics = report["binary_classification_metrics"]
    assert metrics["auc"]["value"] == pytest.approx(pairwise_auc(scores, labels))
    assert metrics["accuracy"]["value"] == pytest.approx(np.mean((scores >= 0.5) == (labels == 1)))
    assert 0 < metrics["logloss"]["value"] < 1


def test_regression_report(tmp_path):
    status, log = run_evaluate(tmp_path, {"t.csv.out": "1.5\n2.0\n-1\n"}, {"t.csv": "1\n2\n1\n"})
    assert status == 0, log
    metrics = json.loads((tmp_path / "processing/evaluation/evaluation.json").read_text())["regression_metrics"]
    assert metrics["mae"]["value"] == pytest.approx((0.5 + 0 + 2) / 3)
    assert metrics["rmse"]["value"] == pytest.approx(np.sqrt((0.25 + 0 + 4) / 3))


BAD_INPUTS = {
    "no predictions": ({}, {"t.csv": "1\n"}, "No predictions found"),
    "labels missing for a file": ({"t.csv.out": "0.4\n"}, {"other.csv": "1\n"}, "No labels for t.csv.out"),
    "row counts differ": ({"t.csv.out": "0.4\n0.6\n"}, {"t.csv": "1\n"}, "has 2 predictions but t.csv has 1 labels"),
    "not a number": ({"t.csv.out": "0.4\nyes\n"}, {"t.csv": "1\n0\n"}, "t.csv.out line 2: 'yes' is not a number"),
    "probability outside [0, 1]": (
        {"t.csv.out": "1.4\n0.2\n"},
        {"t.csv": "1\n0\n"},
        "some predictions are outside [0, 1]",
    ),
    "one class only": ({"t.csv.out": "0.4\n0.6\n"}, {"t.csv": "1\n1\n"}, "The test labels are all one class"),
    "empty labels": ({"t.csv.out": "0.4\n"}, {"t.csv": "\n"}, "is empty; allowed: one label per line"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_fails_with_the_reason_as_exit_message(tmp_path, case):
    predictions, labels, reason = BAD_INPUTS[case]
    status, _ = run_evaluate(tmp_path, predictions, labels)
    assert status == 1
    assert reason in (tmp_path / "output/message").read_text()
    assert not (tmp_path / "processing/evaluation/evaluation.json").exists()
