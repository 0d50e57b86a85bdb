"""Runs the model container's commands on this machine as the image runs them, for the tests, the benchmarks and
the deploy rehearsal: SageMaker directory layouts, generated data, ``train`` in this process or another one,
``serve`` on a free loopback port, HTTP, and the data capture files SageMaker writes of the requests.

Not part of the image (``.dockerignore`` leaves it out); ``make setup-dev`` installs it, with the container's code,
into the development environment (``pip install -e training_code``).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import json
import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import container_harness.image_like  # noqa: F401  (first: before anything imports XGBoost)

TRAINING_CODE = Path(__file__).resolve().parents[2]
METRIC_DEFINITIONS = TRAINING_CODE / "metric_definitions.json"
SERVER_START_SECONDS = 60
SERVER_STOP_SECONDS = 30

# image_like runs from its file, not imported: importing it would run this package's imports (Arrow and Parquet
# among them) in every process the tests, the benchmarks and the rehearsal start, which the image never has; serve
# then took 1.10 s instead of 0.94 s to import its code.
_AS_IN_THE_IMAGE = (
    f"import runpy; runpy.run_path({str(Path(__file__).with_name('image_like.py'))!r}); "
    "from tabular_xgboost.cli import main; raise SystemExit(main())"
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def container_command(command: str) -> list[str]:
    """The image's ``train``/``serve``/``evaluate`` entry points, run from the source tree."""
    return [sys.executable, "-c", _AS_IN_THE_IMAGE, command]


def subprocess_environment(**overrides: str) -> dict[str, str]:
    """This process's environment with the container code importable, as the image's venv has it."""
    environ = dict(os.environ)
    environ["PYTHONPATH"] = os.pathsep.join([str(TRAINING_CODE / "src"), *filter(None, [environ.get("PYTHONPATH")])])
    environ["PYTHONUNBUFFERED"] = "1"
    environ.update(overrides)
    return environ


# --- data ----------------------------------------------------------------------------------------


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


def classification_table(rows: int, *, seed: int = 0, features: int = 6, missing: float = 0.02) -> Table:
    """A binary target ``label`` that depends on an interaction, with a share ``missing`` of the feature values
    missing (default 2 %); features x0, x1, ..."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    label = (x[:, 0] + x[:, 1] * x[:, 2] + rng.normal(scale=0.5, size=rows) > 0).astype(np.int64)
    x[rng.random(size=x.shape) < missing] = np.nan
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


# --- train ---------------------------------------------------------------------------------------


# Training processes fork from a server process that has imported the container code once, so each starts in
# milliseconds instead of seconds; it has never trained, so no thread pool of XGBoost's is copied into a child.
_TRAINING_PROCESSES = multiprocessing.get_context("forkserver")
_TRAINING_PROCESSES.set_forkserver_preload(
    ["container_harness.image_like", "tabular_xgboost.cli", "tabular_xgboost.training"]
)


class TrainingProcess:
    """``train`` running in a process of its own."""

    def __init__(self, process: multiprocessing.process.BaseProcess, log_path: Path) -> None:
        self._process = process
        self._log_path = log_path

    @property
    def pid(self) -> int:
        return self._process.pid

    def poll(self) -> int | None:
        """The exit status (negative: killed by that signal), or None while it runs."""
        return self._process.exitcode

    def kill(self) -> None:
        """SIGKILL, as when a spot instance is reclaimed: no chance to clean up."""
        self._process.kill()

    def wait(self, timeout: float = 120) -> tuple[int, str]:
        """Waits for the end; returns the exit status and the log. Kills it after ``timeout`` seconds."""
        self._process.join(timeout)
        if self._process.exitcode is None:
            self._process.kill()
            self._process.join()
            raise TimeoutError(f"train ran longer than {timeout} s:\n{self._log_path.read_text()}")
        return self._process.exitcode, self._log_path.read_text()


def start_training(sagemaker_dir: SageMakerDir, *, cpu: int = 0, **environ: str) -> TrainingProcess:
    """Starts ``train`` in a process of its own, pinned to one CPU, with these environment variables.

    XGBoost's threads spin-wait for each other; on a machine busy with other work that turns
    milliseconds per round into seconds. One CPU per process keeps the time predictable,
    and gives each simulated host of a cluster a CPU of its own.
    """
    log_path = sagemaker_dir.root.parent / f"{sagemaker_dir.root.name}-train.log"
    process = _TRAINING_PROCESSES.Process(
        target=_train, args=(str(sagemaker_dir.root), environ, cpu, str(log_path)), daemon=True
    )
    process.start()
    return TrainingProcess(process, log_path)


def _train(opt_ml_root: str, environ: dict[str, str], cpu: int, log_path: str) -> None:
    from tabular_xgboost.cli import train

    os.environ.update(environ, OPT_ML_ROOT=opt_ml_root)
    os.sched_setaffinity(0, {cpu})
    with open(log_path, "w", buffering=1) as log:
        sys.stdout = sys.stderr = log
        status = train()
    os._exit(status)


def train_in_process(sagemaker_dir: SageMakerDir, *, on_log_line=None, **environ: str) -> tuple[int, str]:
    """Runs ``train`` in this process, as ``start_training`` would in another; returns its exit status and log."""
    return run_in_process("train", sagemaker_dir.root, on_log_line=on_log_line, **environ)


def run_in_process(
    command: str, opt_ml_root: Path, *, on_log_line=None, single_cpu: bool = True, **environ: str
) -> tuple[int, str]:
    """Runs a container command other than ``serve`` in this process over ``opt_ml_root``, with these
    environment variables; returns its exit status and log. Saves starting a Python and importing XGBoost, most of
    a small job's time.

    Everything the command changes in the process (environment, SIGTERM handler, logging, CPU affinity) is put back
    afterwards. :param on_log_line: called with each log line as it is written. Default: none.
    :param single_cpu: run on one CPU, as start_training does, for times that other work on the machine does not
        stretch; False uses every CPU, as the image does. Default: True.
    """
    from tabular_xgboost import cli

    root = logging.getLogger()
    variables = {"OPT_ML_ROOT": str(opt_ml_root), **environ}
    saved_environ = {name: os.environ.get(name) for name in variables}
    saved = signal.getsignal(signal.SIGTERM), root.handlers[:], root.level
    affinity = os.sched_getaffinity(0)
    log = _LogCapture(on_log_line)
    os.environ.update(variables)
    if single_cpu:
        # XGBoost then runs one thread, which never spin-waits.
        os.sched_setaffinity(0, {min(affinity)})
    try:
        with contextlib.redirect_stdout(log):
            status = cli.COMMANDS[command]()
    finally:
        os.sched_setaffinity(0, affinity)
        for name, value in saved_environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        signal.signal(signal.SIGTERM, saved[0])
        root.handlers[:] = saved[1]
        root.setLevel(saved[2])
    return status, log.getvalue()


class _LogCapture(io.StringIO):
    def __init__(self, on_line) -> None:
        super().__init__()
        self._on_line = on_line

    def write(self, text: str) -> int:
        written = super().write(text)
        if self._on_line is not None:
            for line in text.splitlines():
                self._on_line(line)
        return written


# --- serve ---------------------------------------------------------------------------------------


class ServerDidNotStart(RuntimeError):
    pass


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


@dataclass
class RunningServer:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: bytes | None = None, **headers: str) -> HttpResponse:
        return http_request(self.port, method, path, body, {k.replace("_", "-"): v for k, v in headers.items()})

    def stop(self, timeout: float = SERVER_STOP_SECONDS) -> int:
        """Sends SIGTERM, as SageMaker does, and returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    @property
    def log(self) -> str:
        return self.log_path.read_text()


@contextlib.contextmanager
def running(command: list[str], port: int, environ: Mapping[str, str], log_path: Path) -> Iterator[RunningServer]:
    """Starts an HTTP server process, waits until its ``/ping`` answers 200 (ServerDidNotStart after
    SERVER_START_SECONDS or when it exits), and stops it with SIGTERM afterwards, as SageMaker stops a container;
    its output goes to ``log_path``."""
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=dict(environ), stdout=log, stderr=subprocess.STDOUT)
    server = RunningServer(process, port, log_path)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _answers_ping(port):
            if process.poll() is not None:
                raise ServerDidNotStart(f"{command[-1]} exited with status {process.returncode}; see {log_path}")
            if time.monotonic() > deadline:
                raise ServerDidNotStart(f"{command[-1]} did not answer /ping within {SERVER_START_SECONDS} s")
            time.sleep(0.05)
        yield server
    finally:
        # SIGTERM lets gunicorn's master stop its workers; killing it outright would orphan them.
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=SERVER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _answers_ping(port: int) -> bool:
    with contextlib.suppress(OSError):
        return http_request(port, "GET", "/ping").status == 200
    return False


def running_server(opt_ml_root: Path, log_path: Path, **environ: str) -> contextlib.AbstractContextManager:
    """``serve`` on a free loopback port over the model in ``opt_ml_root``/model, as the image starts it."""
    port = free_port()
    environment = subprocess_environment(
        OPT_ML_ROOT=str(opt_ml_root), SAGEMAKER_BIND_TO_PORT=str(port), SERVING_BIND_ADDRESS="127.0.0.1", **environ
    )
    return running(container_command("serve"), port, environment, log_path)


# --- data capture --------------------------------------------------------------------------------


def capture_encoding(content_type: str, capture_content_types: Mapping[str, Sequence[str]]) -> str:
    """CSV or JSON for a media type of the endpoint config's CaptureContentTypeHeader (its CsvContentTypes and
    JsonContentTypes), BASE64 for any other: how SageMaker encodes a captured body."""
    media_type = content_type.split(";")[0].strip().lower()
    for encoding, key in (("CSV", "CsvContentTypes"), ("JSON", "JsonContentTypes")):
        if media_type in capture_content_types.get(key, ()):
            return encoding
    return "BASE64"


def _captured_body(
    body: bytes, content_type: str, mode: str, capture_content_types: Mapping[str, Sequence[str]]
) -> dict:
    encoding = capture_encoding(content_type, capture_content_types)
    data = base64.b64encode(body).decode("ascii") if encoding == "BASE64" else body.decode("utf-8")
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def capture_record(
    request_body: bytes,
    request_type: str,
    response: HttpResponse,
    *,
    capture_content_types: Mapping[str, Sequence[str]],
    event_id: str,
    inference_time: str,
    inference_id: str | None = None,
) -> dict:
    """The data capture record SageMaker writes for one request and the model server's response
    (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html)."""
    metadata = {"eventId": event_id, **({"inferenceId": inference_id} if inference_id else {})}
    return {
        "captureData": {
            "endpointInput": _captured_body(request_body, request_type, "INPUT", capture_content_types),
            "endpointOutput": _captured_body(
                response.body, response.headers["content-type"], "OUTPUT", capture_content_types
            ),
        },
        "eventMetadata": {**metadata, "inferenceTime": inference_time},
        "eventVersion": "0",
    }


def write_capture_file(root: Path, endpoint: str, variant: str, hour: str, records: Sequence[dict]) -> Path:
    """``records`` as one capture file where SageMaker puts it: ``<root>/<endpoint>/<variant>/yyyy/mm/dd/hh/``
    (``hour`` is ``yyyy/mm/dd/hh``), one JSON document per line."""
    folder = root / endpoint / variant / hour
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"00-00-000-{len(list(folder.iterdir())):08d}.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path
