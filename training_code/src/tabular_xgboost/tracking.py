"""Experiment tracking of a training run with MLflow: its parameters, its metrics round by round, and the model.

Only the first host logs, and only when the job names a tracking server (hyperparameter ``mlflow_tracking_uri``).
On AWS that is a SageMaker managed tracking server's ARN, which the ``sagemaker-mlflow`` plugin resolves and signs
requests to (SigV4, with the job's role); locally any MLflow server over HTTP. MLflow is imported only then, so that
a job without tracking, and serving, never load it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tabular_xgboost.errors import TrainingStopped
from tabular_xgboost.hyperparameters import Hyperparameters

LOG = logging.getLogger(__name__)

ROUNDS_PER_BATCH = 10
"""Per-round metrics are sent in batches of this many rounds (one LogBatch call each), and at the end."""
MODEL_ARTIFACT_PATH = "model"
"""Where the run keeps the model's files (what model.tar.gz holds)."""
_NOT_PARAMETERS = ("mlflow_tracking_uri", "mlflow_experiment")


class Tracker:
    """What the trainer reports; this base class logs nowhere."""

    def log_parameters(self, parameters: Mapping[str, Any]) -> None:
        """Adds ``parameters`` to the run's parameters (the hyperparameters are there from the start)."""

    def log_round(self, iteration: int, scores: Mapping[str, float]) -> None:
        """The scores of round ``iteration`` (0-based), e.g. ``{"validation-auc": 0.91}``."""

    def log_model(self, model_dir: Path, final_scores: Mapping[str, float]) -> None:
        """The written model's files and the scores of the model written."""


class _MlflowTracker(Tracker):
    def __init__(self, client: Any, run_id: str) -> None:
        self._client, self._run_id = client, run_id
        self._pending: list[Any] = []

    def log_parameters(self, parameters: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        params = [Param(key, str(value)) for key, value in parameters.items()]
        self._client.log_batch(self._run_id, params=params, synchronous=True)

    def log_round(self, iteration: int, scores: Mapping[str, float]) -> None:
        from mlflow.entities import Metric

        timestamp = int(time.time() * 1000)
        self._pending += [Metric(name, value, timestamp, iteration) for name, value in scores.items()]
        if (iteration + 1) % ROUNDS_PER_BATCH == 0:
            self._flush()

    def log_model(self, model_dir: Path, final_scores: Mapping[str, float]) -> None:
        from mlflow.entities import Metric

        self._flush()
        timestamp = int(time.time() * 1000)
        final = [Metric(f"final-{name}", value, timestamp, 0) for name, value in final_scores.items()]
        self._client.log_batch(self._run_id, metrics=final, synchronous=True)
        self._client.log_artifacts(self._run_id, str(model_dir), MODEL_ARTIFACT_PATH)

    def _flush(self) -> None:
        if self._pending:
            self._client.log_batch(self._run_id, metrics=self._pending, synchronous=True)
            self._pending = []


@contextmanager
def tracking(
    hyperparameters: Hyperparameters, *, enabled: bool, environ: Mapping[str, str] = os.environ
) -> Iterator[Tracker]:
    """A run in the hyperparameters' experiment, named after the training job (``TRAINING_JOB_NAME``, which SageMaker
    sets), ended FINISHED when the block completes, KILLED when training stopped on SIGTERM (a spot interruption: the
    resumed job starts a run of its own) and FAILED when it raises; without a tracking URI, or where
    ``enabled`` is false (hosts other than the first), a Tracker that logs nothing."""
    if not (enabled and hyperparameters.mlflow_tracking_uri):
        yield Tracker()
        return
    import mlflow
    from mlflow.tracking import MlflowClient

    # Process-wide, not only the client's: sagemaker-mlflow's request signer reads the ARN from mlflow's global URI.
    mlflow.set_tracking_uri(hyperparameters.mlflow_tracking_uri)
    client = MlflowClient()
    experiment = client.get_experiment_by_name(hyperparameters.mlflow_experiment)
    experiment_id = (
        experiment.experiment_id if experiment else client.create_experiment(hyperparameters.mlflow_experiment)
    )
    job = environ.get("TRAINING_JOB_NAME")
    run = client.create_run(experiment_id, run_name=job, tags={"sagemaker.training_job": job} if job else None)
    LOG.info(
        "Tracking the run %s in experiment %s at %s.",
        run.info.run_id,
        hyperparameters.mlflow_experiment,
        hyperparameters.mlflow_tracking_uri,
    )
    tracker = _MlflowTracker(client, run.info.run_id)
    try:
        tracker.log_parameters(
            {
                key: value
                for key, value in hyperparameters.by_name().items()
                if key not in _NOT_PARAMETERS and value is not None
            }
        )
        yield tracker
    except TrainingStopped:
        client.set_terminated(run.info.run_id, status="KILLED")
        raise
    except BaseException:
        client.set_terminated(run.info.run_id, status="FAILED")
        raise
    client.set_terminated(run.info.run_id, status="FINISHED")
