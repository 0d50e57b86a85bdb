"""Helpers for the model container tests: SageMaker directory layouts, data, processes, HTTP."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRAINING_CODE = PROJECT_ROOT / "training_code"
METRIC_DEFINITIONS = TRAINING_CODE / "metric_definitions.json"


def subprocess_environment(**overrides: str) -> dict[str, str]:
    """The test's environment with the container code importable, as the image's venv has it."""
    environ = dict(os.environ)
    environ["PYTHONPATH"] = os.pathsep.join([str(TRAINING_CODE / "src"), *filter(None, [environ.get("PYTHONPATH")])])
    environ["PYTHONUNBUFFERED"] = "1"
    environ.update(overrides)
    return environ


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Table:
    """Columns of a generated data set, written as CSV or Parquet."""

    names: tuple[str, ...]
    columns: tuple[np.ndarray, ...]

    def write_csv(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [",".join(self.names)]
        lines += [",".join(_csv_value(value) for value in row) for row in zip(*self.columns, strict=False)]
        path.write_text("\n".join(lines) + "\n")

    def write_parquet(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(dict(zip(self.names, self.columns, strict=False))), path)

    def rows(self, start: int, stop: int) -> Table:
        return Table(self.names, tuple(column[start:stop] for column in self.columns))

    def features(self, target: str) -> np.ndarray:
        return np.column_stack([c for n, c in zip(self.names, self.columns, strict=False) if n != target]).astype(
            np.float32
        )

    def column(self, name: str) -> np.ndarray:
        return self.columns[self.names.index(name)]


def _csv_value(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else repr(float(value))
    return str(value)


def classification_table(rows: int, *, seed: int = 0, features: int = 6) -> Table:
    """A binary target that depends on an interaction, with some missing feature values."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    label = (x[:, 0] + x[:, 1] * x[:, 2] + rng.normal(scale=0.5, size=rows) > 0).astype(np.int64)
    x[rng.random(size=x.shape) < 0.02] = np.nan
    names = (*tuple(f"x{i}" for i in range(features)), "label")
    return Table(names, (*x.T, label))


def regression_table(rows: int, *, seed: int = 0, features: int = 4) -> Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    target = 3 * x[:, 0] - 2 * np.sin(x[:, 1]) + rng.normal(scale=0.1, size=rows)
    names = ("price", *tuple(f"f{i}" for i in range(features)))
    return Table(names, (target, *x.T))


class SageMakerDir:
    """A directory laid out as SageMaker lays out /opt/ml for a training job."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "input" / "config").mkdir(parents=True, exist_ok=True)

    def hyperparameters(self, values: Mapping[str, object]) -> None:
        (self.root / "input" / "config" / "hyperparameters.json").write_text(json.dumps(values))

    def resource_config(self, hosts: list[str], current_host: str) -> None:
        document = {"current_host": current_host, "hosts": hosts, "network_interface_name": "eth0"}
        (self.root / "input" / "config" / "resourceconfig.json").write_text(json.dumps(document))

    def input_data_config(self, distribution: str) -> None:
        channel = {"TrainingInputMode": "File", "S3DistributionType": distribution, "ContentType": "text/csv"}
        document = {"train": channel, "validation": channel}
        (self.root / "input" / "config" / "inputdataconfig.json").write_text(json.dumps(document))

    def channel(self, name: str) -> Path:
        return self.root / "input" / "data" / name

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def checkpoint_dir(self) -> Path:
        return self.root / "checkpoints"

    @property
    def failure_file(self) -> Path:
        return self.root / "output" / "failure"

    @property
    def evaluation(self) -> dict:
        return json.loads((self.root / "output" / "data" / "evaluation.json").read_text())


# The image has no scikit-learn; the development environment has it (the SageMaker SDK needs it), and XGBoost imports
# it whenever it is installed, which costs seconds per process. The commands run here as they run in the image.
_AS_IN_THE_IMAGE = "import sys; sys.modules['sklearn'] = None; from tabular_xgboost.cli import main; sys.exit(main())"


def container_command(command: str) -> list[str]:
    """The image's ``train``/``serve``/``evaluate`` entry points, run from the source tree."""
    return [sys.executable, "-c", _AS_IN_THE_IMAGE, command]


def start_training(sagemaker_dir: SageMakerDir, *, cpu: int = 0, **environ: str) -> subprocess.Popen:
    """Starts ``train`` pinned to one CPU.

    XGBoost's threads spin-wait for each other; on a machine busy with other work that turns
    milliseconds per round into seconds. One CPU per process keeps the tests' time predictable,
    and gives each simulated host of a cluster a CPU of its own.
    """
    return subprocess.Popen(
        ["taskset", "--cpu-list", str(cpu), *container_command("train")],
        env=subprocess_environment(OPT_ML_ROOT=str(sagemaker_dir.root), **environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_training(sagemaker_dir: SageMakerDir, *, timeout: float = 120, **environ: str) -> tuple[int, str]:
    """Runs ``train`` to completion; returns its exit status and log."""
    process = start_training(sagemaker_dir, **environ)
    log, _ = process.communicate(timeout=timeout)
    return process.returncode, log


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def http_request(
    port: int, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return HttpResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def wait_until_serving(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with status {process.returncode} before answering /ping")
        with contextlib.suppress(OSError):
            if http_request(port, "GET", "/ping").status == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"the server did not answer /ping with 200 within {timeout} s")


@dataclass
class RunningServer:
    process: subprocess.Popen
    port: int
    log_path: Path

    def request(self, method: str, path: str, body: bytes | None = None, **headers: str) -> HttpResponse:
        return http_request(self.port, method, path, body, {k.replace("_", "-"): v for k, v in headers.items()})

    def stop(self, timeout: float = 30) -> int:
        """Sends SIGTERM, as SageMaker does, and returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    @property
    def log(self) -> str:
        return self.log_path.read_text()


@contextlib.contextmanager
def running_server(opt_ml_root: Path, log_path: Path, **environ: str) -> Iterator[RunningServer]:
    """Starts ``serve`` on a free loopback port and stops it afterwards."""
    port = free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            container_command("serve"),
            env=subprocess_environment(
                OPT_ML_ROOT=str(opt_ml_root),
                SAGEMAKER_BIND_TO_PORT=str(port),
                SERVING_BIND_ADDRESS="127.0.0.1",
                **environ,
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer(process, port, log_path)
    try:
        wait_until_serving(port, process)
        yield server
    finally:
        # SIGTERM lets the master stop its workers; killing it outright would orphan them.
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
