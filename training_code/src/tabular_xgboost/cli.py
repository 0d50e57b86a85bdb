"""The commands SageMaker runs: ``docker run <image> <command>``, with the commands of ``COMMANDS``."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import traceback

from tabular_xgboost.errors import TrainingStopped, UserError
from tabular_xgboost.sagemaker_environment import SageMakerPaths

# numpy and scipy (which XGBoost loads) start an OpenBLAS thread pool per CPU that nothing here
# uses; its idle threads still take CPU time from the server workers. Set before either loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

LOG = logging.getLogger("tabular_xgboost")

# SageMaker keeps the first 1024 characters of a failure reason.
_FAILURE_REASON_LIMIT = 1024


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stdout,
        force=True,
    )


def _shorten(text: str) -> str:
    return text if len(text) <= _FAILURE_REASON_LIMIT else text[: _FAILURE_REASON_LIMIT - 3] + "..."


def train() -> int:
    """Runs a training job; on failure writes the reason where SageMaker reports it and exits 1.

    On SIGTERM it finishes the round in progress, writes a checkpoint and exits 143 (128 + SIGTERM).
    """
    _configure_logging()
    paths = SageMakerPaths.from_environment()
    stop = threading.Event()
    # SageMaker stops a job with SIGTERM and kills it 120 s later ("SageMaker sends the algorithm the SIGTERM signal,
    # which delays job termination for 120 seconds", API reference, StopTrainingJob): time enough to finish a round
    # and save it. Without a handler the signal would not even end the process, which runs as PID 1.
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        # Imported here so that even a broken installation is reported as the failure reason.
        from tabular_xgboost.training import run_training

        run_training(paths, stop=stop)
    except TrainingStopped as stopped:
        LOG.warning("Training stopped on SIGTERM: %s.", stopped)
        return 128 + signal.SIGTERM
    except UserError as error:
        reason = str(error)
    except Exception as error:
        traceback.print_exc()
        # XGBoost appends a native stack trace to its messages: the log has it, the reason needn't.
        message = " ".join(str(error).split("Stack trace:")[0].split())
        reason = f"Internal error: {type(error).__name__}: {message}"
    else:
        return 0
    LOG.error("Training failed: %s", reason)
    paths.failure_file.parent.mkdir(parents=True, exist_ok=True)
    paths.failure_file.write_text(_shorten(reason), encoding="utf-8")
    return 1


def serve() -> int:
    """Runs the inference server until SIGTERM; exits 1 with the reason when it cannot start."""
    _configure_logging()
    # Each command imports only its own modules: the server starts without the training stack.
    from tabular_xgboost.serving.server import run_server

    try:
        run_server(SageMakerPaths.from_environment())
    except UserError as error:
        LOG.error("Cannot start serving: %s", error)
        return 1
    return 0


def evaluate() -> int:
    """Scores a model's test-set predictions (the pipeline's evaluation step); on failure writes the reason
    where SageMaker reports a processing job's ExitMessage and exits 1."""
    _configure_logging()
    paths = SageMakerPaths.from_environment()
    from tabular_xgboost.evaluation import exit_message_file, run_evaluation

    try:
        run_evaluation(paths)
    except UserError as error:
        LOG.error("Evaluation failed: %s", error)
        message = exit_message_file(paths)
        message.parent.mkdir(parents=True, exist_ok=True)
        message.write_text(_shorten(str(error)), encoding="utf-8")
        return 1
    return 0


def _monitor(analysis: str) -> int:
    """Runs one monitoring execution (a processing job a monitoring schedule starts); on failure writes the reason
    where SageMaker reports a processing job's ExitMessage and exits 1."""
    _configure_logging()
    from tabular_xgboost.evaluation import exit_message_file
    from tabular_xgboost.monitoring.contract import MonitoringJob, opt_ml_root
    from tabular_xgboost.monitoring.data_quality import run_data_quality
    from tabular_xgboost.monitoring.model_quality import run_model_quality

    root = opt_ml_root()
    try:
        job = MonitoringJob.from_environment(os.environ, root)
        {"data-quality": run_data_quality, "model-quality": run_model_quality}[analysis](job)
    except UserError as error:
        LOG.error("Monitoring failed: %s", error)
        message = exit_message_file(SageMakerPaths(root))
        message.parent.mkdir(parents=True, exist_ok=True)
        message.write_text(_shorten(str(error)), encoding="utf-8")
        return 1
    return 0


def monitor_data_quality() -> int:
    """Compares the period's captured requests with the served model's baseline."""
    return _monitor("data-quality")


def monitor_model_quality() -> int:
    """Computes the quality gate's metric over the period's captured predictions and uploaded labels."""
    return _monitor("model-quality")


COMMANDS = {
    "train": train,
    "serve": serve,
    "evaluate": evaluate,
    "monitor-data-quality": monitor_data_quality,
    "monitor-model-quality": monitor_model_quality,
}


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        print(f"usage: {sys.argv[0]} {'|'.join(COMMANDS)}", file=sys.stderr)
        return 2
    return COMMANDS[sys.argv[1]]()
