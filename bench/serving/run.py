#!/usr/bin/env python3
"""Serving benchmark of the model image's inference server, on loopback.

Trains a model with the image's own ``train`` command, then measures with wrk (a real HTTP load
generator) the image's server, started as the image starts it (``serve``: gunicorn master, one
uvicorn worker per CPU), next to
  (a) the in-process limit: the same model predicting the same rows with no HTTP, in as many
      processes as the server has workers, and
  (b) the classic SageMaker bring-your-own-container baseline: Flask behind gunicorn sync
      workers (baseline_app.py), same worker count, same model.
It prints requests/s and p50/p99 latency for 1-row and 100-row CSV requests at concurrency 1 and
8, whether the targets are met, and the maximum sustainable requests/s of one instance.

Every run is bounded (--duration seconds); all traffic stays on 127.0.0.1; the script stops by
itself. Usage (the model container's harness, in training_code/src, on the path):
PYTHONPATH=training_code/src python bench/serving/run.py [--duration 3] [--p99-bound-ms 20] [--repeat 1]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# As the image's entry point does: numpy's and scipy's idle OpenBLAS threads would take CPU from
# the measured processes (spawned ones inherit it).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import xgboost as xgb
from container_harness import (
    RunningServer,
    free_port,
    run_in_process,
    running,
    running_server,
    subprocess_environment,
)

BENCH_DIR = Path(__file__).resolve().parent
FEATURES = 20
BATCH_SIZES = (1, 100)
CONCURRENCIES = (1, 8)
SWEEP_CONCURRENCIES = (1, 2, 4, 8, 16, 32)


@dataclass(frozen=True)
class Measurement:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float
    """CPU time the server (or predicting process) spent per request: unlike throughput, it
    barely changes when other work shares the machine."""
    errors: int = 0

    def cells(self) -> str:
        flag = f"  ({self.errors} errors)" if self.errors else ""
        return (
            f"{self.requests_per_second:7.0f} {self.p50_ms:6.2f} {self.p99_ms:7.2f} "
            f"{self.cpu_us_per_request:6.0f}{flag}"
        )


def ensure_wrk() -> str:
    """wrk from Debian; installed with apt-get when missing (needs root)."""
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        sys.exit("wrk is missing: install it with `sudo apt-get install wrk` and run again.")
    print("Installing wrk with apt-get ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or sys.exit("wrk is still missing after apt-get install.")


def train_model(opt_ml: Path) -> np.ndarray:
    """Trains a 100-tree classifier with the image's train command; returns rows to send."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(20_000, FEATURES))
    label = features[:, 0] + features[:, 1] * features[:, 2] + rng.normal(scale=0.5, size=20_000) > 0
    train_dir = opt_ml / "input" / "data" / "train"
    train_dir.mkdir(parents=True)
    header = ",".join([*(f"f{i}" for i in range(FEATURES)), "label"])
    np.savetxt(train_dir / "train.csv", np.column_stack([features, label]), delimiter=",", header=header, comments="")
    (opt_ml / "input" / "config").mkdir(parents=True)
    (opt_ml / "input" / "config" / "hyperparameters.json").write_text(
        json.dumps({"target_column": "label", "task": "classification", "num_round": "100", "max_depth": "6"})
    )
    status, log = run_in_process("train", opt_ml)
    if status != 0:
        sys.exit(f"train failed:\n{log}")
    return rng.normal(size=(max(BATCH_SIZES), FEATURES))


def csv_body(rows: np.ndarray) -> bytes:
    # Full float64 precision, as pandas' to_csv writes it: what clients typically send.
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows).encode()


def _predict_in_a_loop(model_file: str, rows: np.ndarray, threads: int, duration: float) -> tuple[list[float], float]:
    booster = xgb.Booster(model_file=model_file)
    booster.set_param({"nthread": threads})
    features = rows.astype(np.float32)
    latencies = []
    cpu_start = time.process_time()
    deadline = time.perf_counter() + duration
    while (start := time.perf_counter()) < deadline:
        booster.inplace_predict(features)
        latencies.append(time.perf_counter() - start)
    return latencies, time.process_time() - cpu_start


def in_process_limit(model_file: Path, rows: np.ndarray, processes: int, threads: int, duration: float) -> Measurement:
    """The same predictions with no HTTP, each process predicting in a loop."""
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.starmap(_predict_in_a_loop, [(str(model_file), rows, threads, duration)] * processes)
    latencies = np.concatenate([np.asarray(latency) for latency, _ in results]) * 1000
    cpu_used = sum(cpu for _, cpu in results)
    return Measurement(
        len(latencies) / duration,
        float(np.percentile(latencies, 50)),
        float(np.percentile(latencies, 99)),
        cpu_used * 1e6 / len(latencies),
    )


def cpu_seconds(server: RunningServer) -> float:
    """CPU time used so far by the server's master and worker processes."""
    pids, total = [server.process.pid], 0.0
    while pids:
        pid = pids.pop()
        with contextlib.suppress(FileNotFoundError):
            # Fields after the command name, which may hold spaces: utime and stime are 12 and 13.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            pids += map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    return total


def image_server(opt_ml: Path, workers: int, log: Path) -> contextlib.AbstractContextManager[RunningServer]:
    return running_server(opt_ml, log, SAGEMAKER_MODEL_SERVER_WORKERS=str(workers))


def baseline_server(
    opt_ml: Path, workers: int, threads: int, log: Path
) -> contextlib.AbstractContextManager[RunningServer]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--no-control-socket",
        "--chdir",
        str(BENCH_DIR),
        "baseline_app:app",
    ]
    environ = subprocess_environment(MODEL_DIR=str(opt_ml / "model"), BOOSTER_THREADS=str(threads))
    return running(command, port, environ, log)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _milliseconds(text: str) -> float:
    value, unit = _match(re.fullmatch(r"([\d.]+)(us|ms|s)", text), text).groups()
    return float(value) * _UNITS_MS[unit]


def _match(match: re.Match[str] | None, text: str) -> re.Match[str]:
    if match is None:
        raise ValueError(f"unexpected wrk output:\n{text}")
    return match


def best_of(repeat: int, measure: Callable[[], Measurement]) -> Measurement:
    return max((measure() for _ in range(repeat)), key=lambda m: (not m.errors, m.requests_per_second))


def run_wrk(wrk: str, server: RunningServer, script: Path, concurrency: int, duration: float) -> Measurement:
    cpu_before = cpu_seconds(server)
    output = subprocess.run(
        [
            wrk,
            "--threads",
            "1",
            "--connections",
            str(concurrency),
            "--duration",
            f"{duration:g}s",
            "--latency",
            "--script",
            str(script),
            f"http://127.0.0.1:{server.port}/invocations",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
    ).stdout
    cpu_used = cpu_seconds(server) - cpu_before
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(map(int, socket_errors.groups())) if socket_errors else 0
    requests = int(_match(re.search(r"(\d+) requests in", output), output).group(1))
    return Measurement(
        float(_match(re.search(r"Requests/sec:\s+([\d.]+)", output), output).group(1)),
        _milliseconds(percentiles["50"]),
        _milliseconds(percentiles["99"]),
        cpu_used * 1e6 / max(requests, 1),
        errors,
    )


def wrk_script(directory: Path, rows: int, body: bytes) -> Path:
    body_file = directory / f"body-{rows}.csv"
    body_file.write_bytes(body)
    script = directory / f"post-{rows}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "text/csv"\n'
        f'local body = assert(io.open("{body_file}", "rb"))\n'
        'wrk.body = body:read("*a")\n'
        "body:close()\n"
    )
    return script


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement (default 3)")
    parser.add_argument(
        "--p99-bound-ms",
        type=float,
        default=20.0,
        help="p99 latency a sustainable load must stay under (default 20 ms)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure each case this many times and keep the best run, which filters out "
        "disturbances from other work on a shared machine (default 1)",
    )
    return parser.parse_args()


@dataclass
class Results:
    workers: int
    in_process: dict[tuple[int, int], Measurement]
    """(rows, processes) -> predictions with no HTTP."""
    image: dict[tuple[int, int], Measurement]
    """(rows, concurrency) -> the image's server."""
    baseline: dict[tuple[int, int], Measurement]
    """(rows, concurrency) -> the classic Flask baseline."""


def measure(arguments: argparse.Namespace, wrk: str, work: Path, workers: int, threads: int) -> Results:
    opt_ml = work / "opt-ml"
    rows = train_model(opt_ml)
    scripts = {n: wrk_script(work, n, csv_body(rows[:n])) for n in BATCH_SIZES}
    model_file = opt_ml / "model" / "xgboost-model.ubj"

    def best(measurement: Callable[..., Measurement], *args: object) -> Measurement:
        return best_of(arguments.repeat, functools.partial(measurement, *args))

    results = Results(workers, {}, {}, {})
    for n in BATCH_SIZES:
        for processes in sorted({1, workers}):
            results.in_process[n, processes] = best(
                in_process_limit, model_file, rows[:n], processes, threads, arguments.duration
            )
    with image_server(opt_ml, workers, work / "image-server.log") as server:
        run_wrk(wrk, server, scripts[1], 8, 1)  # warm-up
        for n in BATCH_SIZES:
            for concurrency in SWEEP_CONCURRENCIES:
                results.image[n, concurrency] = best(run_wrk, wrk, server, scripts[n], concurrency, arguments.duration)
    with baseline_server(opt_ml, workers, threads, work / "baseline-server.log") as server:
        run_wrk(wrk, server, scripts[1], 8, 1)
        for n in BATCH_SIZES:
            for concurrency in CONCURRENCIES:
                results.baseline[n, concurrency] = best(
                    run_wrk, wrk, server, scripts[n], concurrency, arguments.duration
                )
    return results


def report(results: Results, p99_bound_ms: float) -> None:
    image, baseline, workers = results.image, results.baseline, results.workers
    columns = "req/s p50 ms  p99 ms CPU us"
    header = f"{'rows':>4} {'conc':>4} | image server: {columns} | baseline: {columns}"
    print(header)
    print("-" * len(header))
    for n in BATCH_SIZES:
        for concurrency in CONCURRENCIES:
            print(
                f"{n:>4} {concurrency:>4} | {image[n, concurrency].cells():>41} | "
                f"{baseline[n, concurrency].cells():>37}"
            )
    print("\nIn-process limit (the same predictions, no HTTP; per call):")
    for (n, processes), measurement in sorted(results.in_process.items()):
        print(f"  {n:>3} rows, {processes} process(es): {measurement.cells()}")
    print("(CPU us: CPU time the server's processes, or the predicting process, spent per request.)")

    limit, served, classic = results.in_process[100, workers], image[100, 8], baseline[100, 8]
    print(f"\nTargets (in-process limit = {workers} processes, as many as the server has workers):")
    targets = [
        (
            f"100-row req/s at concurrency 8 >= 0.5 x in-process limit ({0.5 * limit.requests_per_second:.0f})",
            served.requests_per_second >= 0.5 * limit.requests_per_second,
            f"{served.requests_per_second:.0f} ({served.requests_per_second / limit.requests_per_second:.2f} x)",
        ),
        (
            (
                "  the same in CPU time, which other work on the machine does not skew: "
                "CPU per request <= 2 x CPU per in-process prediction"
            ),
            served.cpu_us_per_request <= 2 * limit.cpu_us_per_request,
            (
                f"{served.cpu_us_per_request:.0f} us vs {limit.cpu_us_per_request:.0f} us "
                f"({limit.cpu_us_per_request / served.cpu_us_per_request:.2f} x)"
            ),
        ),
        (
            f"100-row req/s at concurrency 8 >= 2 x baseline ({2 * classic.requests_per_second:.0f})",
            served.requests_per_second >= 2 * classic.requests_per_second,
            f"{served.requests_per_second:.0f} ({served.requests_per_second / classic.requests_per_second:.2f} x)",
        ),
        (
            "  the same in CPU time: CPU per request <= 0.5 x the baseline's",
            served.cpu_us_per_request <= 0.5 * classic.cpu_us_per_request,
            (
                f"{served.cpu_us_per_request:.0f} us vs {classic.cpu_us_per_request:.0f} us "
                f"({classic.cpu_us_per_request / served.cpu_us_per_request:.2f} x)"
            ),
        ),
        ("1-row p99 at concurrency 1 <= 5 ms", image[1, 1].p99_ms <= 5, f"{image[1, 1].p99_ms:.2f} ms"),
    ]
    for description, met, measured in targets:
        print(f"  [{'met' if met else 'MISSED'}] {description}: measured {measured}")

    print(
        "\nMaximum sustainable req/s per instance: the highest throughput over concurrency "
        f"{', '.join(map(str, SWEEP_CONCURRENCIES))} with p99 <= {p99_bound_ms:g} ms and no errors:"
    )
    for n in BATCH_SIZES:
        sustainable = [m for (rows, _), m in image.items() if rows == n and m.p99_ms <= p99_bound_ms and not m.errors]
        best = max((m.requests_per_second for m in sustainable), default=0.0)
        sweep = ", ".join(
            f"c{c}: {image[n, c].requests_per_second:.0f}/{image[n, c].p99_ms:.1f}ms" for c in SWEEP_CONCURRENCIES
        )
        print(f"  {n:>3}-row requests: {best:.0f} req/s   (req/s / p99 by concurrency: {sweep})")
        cpu = min(m.cpu_us_per_request for (rows, _), m in image.items() if rows == n)
        print(
            f"      CPU-bound ceiling: {workers} CPUs / {cpu:.0f} us per request = "
            f"{workers * 1e6 / cpu:.0f} req/s (with the load generator elsewhere)"
        )


def main() -> int:
    arguments = parse_arguments()
    wrk = ensure_wrk()
    cpus = len(os.sched_getaffinity(0))
    workers, threads = cpus, 1  # the image's defaults: one worker per CPU, one XGBoost thread each
    print(
        f"Model: 100 trees of depth <= 6 over {FEATURES} features. Machine: {cpus} CPUs, load average "
        f"{os.getloadavg()[0]:.2f} at start. wrk: 1 thread, keep-alive connections, {arguments.duration:g} s "
        f"per run, best of {arguments.repeat}."
    )
    print(
        f"Image server: `serve` (gunicorn + {workers} uvicorn workers). "
        f"Baseline: Flask + pandas on gunicorn with {workers} sync workers.\n"
    )
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as scratch:
        results = measure(arguments, wrk, Path(scratch), workers, threads)
    report(results, arguments.p99_bound_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
