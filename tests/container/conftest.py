"""Fixtures for the model container tests; the container code is imported from training_code/src."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.container.support import TRAINING_CODE, SageMakerDir, classification_table, run_training

# The tests run the source tree as the image installs it, without installing it into the venv.
sys.path.insert(0, str(TRAINING_CODE / "src"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "container: builds and runs the model image with a container engine (podman)")


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
def trained_classifier(tmp_path_factory: pytest.TempPathFactory) -> SageMakerDir:
    """A finished training job of a binary classifier on generated data (features x0..x5)."""
    job = SageMakerDir(tmp_path_factory.mktemp("classifier") / "opt-ml")
    classification_table(3000, seed=1).write_csv(job.channel("train") / "train.csv")
    job.hyperparameters({"target_column": "label", "task": "classification", "num_round": "40"})
    status, log = run_training(job)
    assert status == 0, log
    return job


@pytest.fixture
def sagemaker_dir(tmp_path: Path) -> SageMakerDir:
    return SageMakerDir(tmp_path / "opt-ml")
