"""A real model for the rehearsed Region: trained by the platform's own ``train`` on generated data and
served by its own ``serve`` on loopback, both run from training_code/ as the image runs them.

The emulator runs no SageMaker job and no endpoint instance; this is what stands in for them, so
that the model registered, promoted and invoked in the rehearsal is a real one and ``mlp invoke``
prints real predictions. Training takes seconds: a small data set and one thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from container_harness import ServerDidNotStart, container_command, free_port, running

from rehearsal.cdk import PROJECT_ROOT

TRAINING_CODE_SOURCE = PROJECT_ROOT / "training_code" / "src"
FEATURES = ("tenure_months", "monthly_spend", "support_calls", "discount")
TRAINING_SECONDS = 120
PREPARATION_SECONDS = 600
"""The real data-preparation job on local[2]: Spark's start-up alone takes half a minute on a busy machine."""


class ModelFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class DataSet:
    """A data set in the layout the training pipeline reads below its InputDataUri (README, Training)."""

    directory: Path
    test_rows: Path
    """Rows of features in training order, no header: what batch transform and ``mlp invoke`` send."""

    def channel(self, name: str) -> Path:
        return self.directory / name


def write_data_set(directory: Path, *, target: str, rows: int = 1200, test_rows: int = 8, seed: int = 7) -> DataSet:
    """A churn-like binary classification data set whose label column is ``target``: train/ and validation/ (CSV
    with a header row), test/ (features only) and test-labels/ (one label per test row)."""
    rng = random.Random(seed)

    def row() -> tuple[list[float], int]:
        features = [rng.uniform(0, 72), rng.uniform(10, 120), float(rng.randint(0, 8)), rng.choice([0.0, 0.1, 0.2])]
        risk = features[2] * 0.6 + features[1] / 40 - features[0] / 18 - features[3] * 4 + rng.gauss(0, 0.8)
        return features, int(risk > 0.5)

    def write(path: Path, lines: list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")

    def table(count: int) -> list[str]:
        records = (row() for _ in range(count))
        return [",".join((*FEATURES, target))] + [
            ",".join([*(f"{v:.3f}" for v in features), str(label)]) for features, label in records
        ]

    validation = rows // 5
    write(directory / "train" / "train.csv", table(rows - validation))
    write(directory / "validation" / "validation.csv", table(validation))
    test = [row() for _ in range(test_rows)]
    write(directory / "test" / "test.csv", [",".join(f"{value:.3f}" for value in features) for features, _ in test])
    write(directory / "test-labels" / "test.csv", [str(label) for _, label in test])
    return DataSet(directory, directory / "test" / "test.csv")


def write_raw_data_set(
    directory: Path, *, target: str, rows: int = 1200, missing_labels: int = 0, seed: int = 7
) -> Path:
    """A raw churn-like dataset, as ``mlp upload-data`` takes one: CSV files with a header row, the features and
    ``target``; ``missing_labels`` rows have no label, which the Prepare step refuses."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    lines = [",".join((*FEATURES, target))]
    for index in range(rows):
        features = [rng.uniform(0, 72), rng.uniform(10, 120), float(rng.randint(0, 8)), rng.choice([0.0, 0.1, 0.2])]
        risk = features[2] * 0.6 + features[1] / 40 - features[0] / 18 - features[3] * 4 + rng.gauss(0, 0.8)
        label = "" if index < missing_labels else str(int(risk > 0.5))
        lines.append(",".join([*(f"{value:.3f}" for value in features), label]))
    half = len(lines) // 2
    (directory / "part-0.csv").write_text("\n".join(lines[:half]) + "\n")
    (directory / "part-1.csv").write_text("\n".join([lines[0], *lines[half:]]) + "\n")
    return directory


@dataclass(frozen=True)
class Prepared:
    """What the Prepare step's job wrote: the split dataset and its Model Monitor baseline."""

    data_set: DataSet
    baseline: Path
    """statistics.json and constraints.json."""


def prepare(raw: Path, arguments: list[str], job: Path) -> Prepared:
    """Runs the platform's data-preparation job as the Prepare step runs it, but on local Spark (``local[2]``):
    spark-submit with the package zip the pipeline ships and the job script, the step's own arguments (its settings),
    and ``raw`` (a dataset folder) where the job reads ``<input>/<dataset>/``. Raises ModelFailed with the job's
    failure message (every violation) when it fails; its log is job/prepare.log."""
    from data_preparation import contract
    from ml_constructs.preparation_code import SCRIPT, build_package_zip

    settings = contract.decode_settings("".join(arguments[arguments.index(contract.SETTINGS_BASE64_ARGUMENT) + 1 :]))
    raw_input = job / "input" / "raw"
    shutil.copytree(raw, raw_input / settings["dataset"])
    datasets, baseline, message = job / "output" / "datasets", job / "output" / "baseline", job / "output" / "message"
    for folder in (datasets, baseline):
        folder.mkdir(parents=True)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "spark-submit"),
            "--master",
            "local[2]",
            "--py-files",
            str(build_package_zip()),
            str(SCRIPT),
            *arguments,
            contract.INPUT_ARGUMENT,
            str(raw_input),
            contract.DATASETS_OUTPUT_ARGUMENT,
            str(datasets),
            contract.BASELINE_OUTPUT_ARGUMENT,
            str(baseline),
            contract.STAGING_ARGUMENT,
            (job / "staging").as_uri(),
            contract.FAILURE_MESSAGE_ARGUMENT,
            str(message),
        ],
        env={key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTHONPATH"))}
        | {"PYSPARK_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=PREPARATION_SECONDS,
        check=False,
    )
    (job / "prepare.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        reason = message.read_text() if message.exists() else result.stderr[-2000:]
        raise ModelFailed(reason.strip())
    (test_file,) = sorted((datasets / "test").glob("*.csv"))[:1]
    return Prepared(DataSet(datasets, test_file), baseline)


@dataclass(frozen=True)
class TrainedModel:
    archive: Path
    """model.tar.gz, as a SageMaker training job uploads the model directory."""
    validation_metrics: dict[str, Any]
    """The job's metrics report (output/data/evaluation.json)."""


def _environment(opt_ml: Path, **variables: str) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return {
        **inherited,
        "PYTHONPATH": str(TRAINING_CODE_SOURCE),
        "OPT_ML_ROOT": str(opt_ml),
        # One thread: XGBoost's threads spin-wait for each other, which on a busy machine costs seconds per round.
        "OMP_NUM_THREADS": "1",
        **variables,
    }


def train(data_set: DataSet, hyperparameters: Mapping[str, str], job: Path) -> TrainedModel:
    """Runs the platform's ``train`` with ``hyperparameters`` on the data set's train/ and validation/ channels, in
    ``job`` laid out as a training job's /opt/ml; its log is job/train.log."""
    opt_ml = job / "opt-ml"
    for channel in ("train", "validation"):
        shutil.copytree(data_set.channel(channel), opt_ml / "input" / "data" / channel)
    (opt_ml / "input" / "config").mkdir(parents=True)
    (opt_ml / "input" / "config" / "hyperparameters.json").write_text(json.dumps(dict(hyperparameters)))
    result = subprocess.run(
        container_command("train"),
        env=_environment(opt_ml),
        capture_output=True,
        text=True,
        timeout=TRAINING_SECONDS,
        check=False,
    )
    (job / "train.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        failure = opt_ml / "output" / "failure"
        reason = failure.read_text() if failure.exists() else result.stderr[-2000:]
        raise ModelFailed(f"the platform's train failed (exit {result.returncode}): {reason}")
    archive = job / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as model:
        for file in sorted((opt_ml / "model").iterdir()):
            model.add(file, arcname=file.name)
    metrics = json.loads((opt_ml / "output" / "data" / "evaluation.json").read_text())
    return TrainedModel(archive, metrics)


@contextlib.contextmanager
def serving(archive: Path, instance: Path) -> Iterator[str]:
    """The platform's ``serve`` on a free loopback port, serving the model in ``archive``, in ``instance`` laid out as
    an endpoint container's /opt/ml (the model unpacked where SageMaker unpacks it); its log is instance/serve.log.
    Yields the server's URL and stops it on exit, with SIGTERM as SageMaker stops a container."""
    opt_ml = instance / "opt-ml"
    with tarfile.open(archive) as model:
        model.extractall(opt_ml / "model", filter="data")
    port = free_port()
    environment = _environment(
        opt_ml, SAGEMAKER_BIND_TO_PORT=str(port), SERVING_BIND_ADDRESS="127.0.0.1", SAGEMAKER_MODEL_SERVER_WORKERS="1"
    )
    try:
        with running(container_command("serve"), port, environment, instance / "serve.log"):
            yield f"http://127.0.0.1:{port}"
    except ServerDidNotStart as error:
        raise ModelFailed(f"the platform's serve did not answer /ping: {error}") from None
