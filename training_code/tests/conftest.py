"""Fixtures for the model container tests. The container code and its harness come from training_code/src, which
``make setup-dev`` installs into the development environment (editable)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# The harness (Arrow, Parquet, XGBoost) is imported where it is used: pytest's main process loads this file too.
if TYPE_CHECKING:
    from container_harness import SageMakerDir

CLASSIFIER_ROUNDS = 20


def pytest_terminal_summary(terminalreporter) -> None:
    """Says why image tests were skipped even without ``-rs``: a silent skip hides a gap."""
    reasons = {
        report.longrepr[2].removeprefix("Skipped: ")
        for report in terminalreporter.stats.get("skipped", [])
        if "container" in report.keywords and isinstance(report.longrepr, tuple)
    }
    for reason in sorted(reasons):
        terminalreporter.write_line(f"model image tests skipped: {reason}", yellow=True)


@pytest.fixture(scope="session")
def classifier_rounds() -> int:
    """How many rounds ``trained_classifier`` trained."""
    return CLASSIFIER_ROUNDS


@pytest.fixture(scope="session")
def trained_classifier(tmp_path_factory: pytest.TempPathFactory) -> SageMakerDir:
    """A finished training job of a binary classifier on generated data (features x0..x5), checkpointed every 10
    rounds."""
    from container_harness import SageMakerDir, classification_table, train_in_process

    job = SageMakerDir(tmp_path_factory.mktemp("classifier") / "opt-ml")
    classification_table(2000, seed=1).write_csv(job.channel("train") / "train.csv")
    job.hyperparameters({"target_column": "label", "task": "classification", "num_round": str(CLASSIFIER_ROUNDS)})
    status, log = train_in_process(job)
    assert status == 0, log
    return job


@pytest.fixture
def sagemaker_dir(tmp_path: Path) -> SageMakerDir:
    from container_harness import SageMakerDir

    return SageMakerDir(tmp_path / "opt-ml")
