"""``train`` logs to a real MLflow tracking server: an ``mlflow server`` on loopback with a SQLite store, the job run
as SageMaker runs it, in a process of its own; what it logged is read back with MLflow's client."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from container_harness import SageMakerDir, classification_table, container_command, free_port, subprocess_environment

ROUNDS = 12
EXPERIMENT = "churn-experiments"
JOB = "pipelines-abc123-TrainSpot-x1y2z3"
SERVER_START_SECONDS = 90

# One worker of make test runs them all, against one tracking server.
pytestmark = pytest.mark.xdist_group("mlflow-server")


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{directory / 'mlflow.db'}",
        "--artifacts-destination",
        str(directory / "artifacts"),
    ]
    with (directory / "server.log").open("w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + SERVER_START_SECONDS
            while not _healthy(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"mlflow server did not start:\n{(directory / 'server.log').read_text()[-3000:]}")
                time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _train(job: SageMakerDir, **hyperparameters: str) -> subprocess.CompletedProcess[str]:
    classification_table(600, seed=3).write_csv(job.channel("train") / "train.csv")
    job.hyperparameters(
        {"target_column": "label", "task": "classification", "num_round": str(ROUNDS), **hyperparameters}
    )
    return subprocess.run(
        container_command("train"),
        env=subprocess_environment(OPT_ML_ROOT=str(job.root), TRAINING_JOB_NAME=JOB),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow  # a real MLflow server, and the tracking client's imports in the job
def test_a_training_job_logs_its_parameters_per_round_metrics_and_model(tracking_server, tmp_path):
    from mlflow.tracking import MlflowClient

    job = SageMakerDir(tmp_path / "opt-ml")
    result = _train(job, max_depth="4", mlflow_tracking_uri=tracking_server, mlflow_experiment=EXPERIMENT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    client = MlflowClient(tracking_uri=tracking_server)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.info.run_name == JOB
    assert run.data.tags["sagemaker.training_job"] == JOB
    params = run.data.params
    assert params["max_depth"] == "4"
    assert params["num_round"] == str(ROUNDS)
    assert params["task"] == "classification"
    assert params["features"] == "x0,x1,x2,x3,x4,x5"
    assert "mlflow_tracking_uri" not in params
    history = client.get_metric_history(run.info.run_id, "validation-auc")
    assert [metric.step for metric in history] == list(range(ROUNDS))
    report = job.evaluation["binary_classification_metrics"]
    assert run.data.metrics["final-validation-auc"] == pytest.approx(report["auc"]["value"])
    artifacts = {artifact.path for artifact in client.list_artifacts(run.info.run_id, "model")}
    assert artifacts == {f"model/{path.name}" for path in job.model_dir.iterdir()}
    downloaded = Path(client.download_artifacts(run.info.run_id, "model/model-metadata.json", str(tmp_path)))
    assert json.loads(downloaded.read_text()) == json.loads((job.model_dir / "model-metadata.json").read_text())


@pytest.mark.slow  # a real MLflow server, and the tracking client's imports in the job
def test_a_job_refused_before_training_starts_no_run(tracking_server, tmp_path):
    from mlflow.tracking import MlflowClient

    job = SageMakerDir(tmp_path / "opt-ml")
    result = _train(job, mlflow_tracking_uri=tracking_server, mlflow_experiment="failing", validation_fraction="0.9")
    assert result.returncode == 1
    assert "validation_fraction" in job.failure_file.read_text()
    client = MlflowClient(tracking_uri=tracking_server)
    experiment = client.get_experiment_by_name("failing")
    assert experiment is None, "a job refused before training starts no run"


def test_a_tracking_uri_must_be_an_arn_or_http_url(tmp_path):
    job = SageMakerDir(tmp_path / "opt-ml")
    result = _train(job, mlflow_tracking_uri="file:///tmp/runs")
    assert result.returncode == 1
    assert (
        "mlflow_tracking_uri='file:///tmp/runs' is invalid: must be an MLflow tracking URI"
        in job.failure_file.read_text()
    )
