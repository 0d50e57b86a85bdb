#!/usr/bin/env python3
"""Serving benchmark of the model image's inference server, on loopback.

Trains a model with the image's own ``train`` command, then measures, round by round, four phases
over the same 1-row and 100-row CSV bodies:
  predict  the predict-only limit: the server's booster predicting in a loop, no HTTP, no parsing;
  codec    the parse-and-encode limit: CSV decode, predict, encode, in-process, no HTTP (limits.py);
  image    the image's server under wrk (a real HTTP load generator), started as the image starts it
           (``serve``: gunicorn master, one event-loop worker per CPU);
  classic  the classic stack of SageMaker's framework containers under wrk: nginx with keep-alive
           connections in front of gunicorn sync workers running Flask + pandas (classic.py).
The limits run in as many processes as the servers have workers. Interleaving the phases within
every round, and taking medians over rounds, keeps a disturbance from other work on the machine
from landing on one phase only. It prints requests/s, p50/p99 latency and CPU time per request of
each phase, the median ratios against the goals, and the maximum sustainable requests/s.

Every run is bounded (--duration seconds); all traffic stays on 127.0.0.1; the script stops by
itself. Usage, in the development environment (make setup-dev installs the model container's harness):
python bench/serving/run.py [--rounds 5] [--duration 2] [--p99-bound-ms 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

# As the image's entry point does: numpy's and scipy's idle OpenBLAS threads would take CPU from
# the measured processes (spawned ones inherit it).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

# classic and limits sit beside this script, which runs from its own folder (make bench-serving).
from classic import classic_stack, ensure_debian_package  # type: ignore[import-not-found]
from container_harness import run_in_process, running_server
from limits import KINDS, InProcessLimits  # type: ignore[import-not-found]

FEATURES = 20
BATCH_SIZES = (1, 100)
CONCURRENCIES = (1, 8)
SWEEP_CONCURRENCIES = (1, 2, 4, 8, 16, 32)
PHASES = ("predict", "codec", "image", "classic")
PHASE_NAMES = {
    "predict": "predict-only limit",
    "codec": "parse-and-encode limit",
    "image": "image server",
    "classic": "classic stack",
}


@dataclass(frozen=True)
class Measurement:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float
    """CPU time the server's processes (or the predicting processes) spent per request: unlike
    throughput, it barely changes when other work shares the machine."""
    errors: int = 0

    def cells(self) -> str:
        flag = f"  ({self.errors} errors)" if self.errors else ""
        return (
            f"{self.requests_per_second:7.0f} {self.p50_ms:6.2f} {self.p99_ms:7.2f} "
            f"{self.cpu_us_per_request:6.0f}{flag}"
        )


def median_of(measurements: list[Measurement]) -> Measurement:
    def middle(field: Callable[[Measurement], float]) -> float:
        return statistics.median(field(m) for m in measurements)

    return Measurement(
        middle(lambda m: m.requests_per_second),
        middle(lambda m: m.p50_ms),
        middle(lambda m: m.p99_ms),
        middle(lambda m: m.cpu_us_per_request),
        sum(m.errors for m in measurements),
    )


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


def cpu_seconds(root_pids: Iterable[int]) -> float:
    """CPU time used so far by these processes and all their descendants."""
    pids, total = list(root_pids), 0.0
    while pids:
        pid = pids.pop()
        with contextlib.suppress(FileNotFoundError):
            # Fields after the command name, which may hold spaces: utime and stime are 12 and 13.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            pids += map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    return total


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _match(match: re.Match[str] | None, text: str) -> re.Match[str]:
    if match is None:
        raise ValueError(f"unexpected wrk output:\n{text}")
    return match


def _milliseconds(text: str) -> float:
    value, unit = _match(re.fullmatch(r"([\d.]+)(us|ms|s)", text), text).groups()
    return float(value) * _UNITS_MS[unit]


@dataclass(frozen=True)
class Target:
    """An HTTP server under load: where to send requests, which processes' CPU time to count."""

    port: int
    pids: tuple[int, ...]


def run_wrk(wrk: str, target: Target, script: Path, concurrency: int, duration: int) -> Measurement:
    cpu_before = cpu_seconds(target.pids)
    output = subprocess.run(
        [
            wrk,
            "--threads",
            "1",
            "--connections",
            str(concurrency),
            "--duration",
            f"{duration}s",
            "--latency",
            "--script",
            str(script),
            f"http://127.0.0.1:{target.port}/invocations",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
    ).stdout
    cpu_used = cpu_seconds(target.pids) - cpu_before
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
    parser.add_argument("--rounds", type=int, default=5, help="rounds over all phases, medians reported (default 5)")
    parser.add_argument(
        "--duration", type=int, default=2, help="whole seconds per measurement, as wrk takes them (default 2)"
    )
    parser.add_argument(
        "--p99-bound-ms",
        type=float,
        default=20.0,
        help="p99 latency a sustainable load must stay under (default 20 ms)",
    )
    return parser.parse_args()


Key = tuple[str, int, int]
"""(phase, rows, concurrency); the in-process limits have concurrency 0."""


@dataclass
class Results:
    workers: int
    rounds: list[dict[Key, Measurement]]
    sweep: dict[tuple[int, int], Measurement]
    """(rows, concurrency) -> the image's server, one run each after the rounds."""

    def median(self, key: Key) -> Measurement:
        return median_of([measurements[key] for measurements in self.rounds])

    def median_ratio(self, numerator: Key, denominator: Key, field: Callable[[Measurement], float]) -> float:
        return statistics.median(field(r[numerator]) / field(r[denominator]) for r in self.rounds)


def measure(arguments: argparse.Namespace, wrk: str, work: Path, workers: int, threads: int) -> Results:
    opt_ml = work / "opt-ml"
    rows = train_model(opt_ml)
    bodies = {n: csv_body(rows[:n]) for n in BATCH_SIZES}
    scripts = {n: wrk_script(work, n, bodies[n]) for n in BATCH_SIZES}
    duration = arguments.duration
    results = Results(workers, [], {})
    limits = InProcessLimits(opt_ml / "model", workers, threads)
    try:
        with (
            running_server(
                opt_ml, work / "image-server.log", SAGEMAKER_MODEL_SERVER_WORKERS=str(workers)
            ) as image_server,
            classic_stack(opt_ml / "model", workers, threads, work / "classic") as classic,
        ):
            servers = {
                "image": Target(image_server.port, (image_server.process.pid,)),
                "classic": Target(classic.port, classic.pids),
            }
            for target in servers.values():
                run_wrk(wrk, target, scripts[1], 8, 1)  # warm-up

            def phase(name: str, n: int) -> dict[Key, Measurement]:
                if name in KINDS:
                    calls_per_second, latencies, cpu = limits.measure(name, bodies[n], duration)
                    p50, p99 = np.percentile(latencies, [50, 99])
                    return {(name, n, 0): Measurement(calls_per_second, float(p50), float(p99), cpu * 1e6)}
                return {(name, n, c): run_wrk(wrk, servers[name], scripts[n], c, duration) for c in CONCURRENCIES}

            for number in range(arguments.rounds):
                # Each round starts with the next phase, so none always follows the same one.
                order = PHASES[number % len(PHASES) :] + PHASES[: number % len(PHASES)]
                measurements: dict[Key, Measurement] = {}
                for n in BATCH_SIZES:
                    for name in order:
                        measurements |= phase(name, n)
                results.rounds.append(measurements)
                print(f"  round {number + 1}/{arguments.rounds} done", file=sys.stderr, flush=True)
            for n in BATCH_SIZES:
                for c in SWEEP_CONCURRENCIES:
                    results.sweep[n, c] = run_wrk(wrk, servers["image"], scripts[n], c, duration)
    finally:
        limits.close()
    return results


def _per_second(measurement: Measurement) -> float:
    return measurement.requests_per_second


def _per_cpu_second(measurement: Measurement) -> float:
    return 1e6 / measurement.cpu_us_per_request


def report(results: Results, p99_bound_ms: float) -> None:
    columns = "req/s p50 ms  p99 ms CPU us"
    header = f"{'phase':<23} {'rows':>4} {'conc':>4} | {columns}"
    print(header)
    print("-" * len(header))
    for n in BATCH_SIZES:
        for name in PHASES:
            for c in (0,) if name in KINDS else CONCURRENCIES:
                conc = "-" if c == 0 else str(c)
                print(f"{PHASE_NAMES[name]:<23} {n:>4} {conc:>4} | {results.median((name, n, c)).cells()}")
    print(
        "(medians over rounds; CPU us: CPU time the server's processes, or the predicting processes, "
        "spent per request; limits: calls/s over all processes, latency per call.)"
    )

    served = ("image", 100, 8)
    goals = [
        ("100-row CSV, c=8, image server / predict-only limit", ("predict", 100, 0), 0.6),
        ("100-row CSV, c=8, image server / parse-and-encode limit", ("codec", 100, 0), 0.85),
        ("100-row CSV, c=8, image server / classic stack", ("classic", 100, 8), 4.0),
    ]
    print(f"\nGoals (median over {len(results.rounds)} rounds of each round's ratio):")
    for description, reference, goal in goals:
        ratio = results.median_ratio(served, reference, _per_second)
        in_cpu = results.median_ratio(served, reference, _per_cpu_second)
        verdict = "met" if ratio >= goal else "NOT met"
        print(f"  [{verdict}] {description} >= {goal:g}: {ratio:.2f} x  (in CPU time per request: {in_cpu:.2f} x)")
    p99 = results.median(("image", 1, 1)).p99_ms
    print(f"  [{'met' if p99 <= 1 else 'NOT met'}] 1-row CSV, c=1, image server p99 <= 1 ms: {p99:.2f} ms")

    print(
        "\nMaximum sustainable req/s of the image server: the highest throughput over concurrency "
        f"{', '.join(map(str, SWEEP_CONCURRENCIES))} with p99 <= {p99_bound_ms:g} ms and no errors (one run each):"
    )
    for n in BATCH_SIZES:
        sweep = [results.sweep[n, c] for c in SWEEP_CONCURRENCIES]
        best = max((m.requests_per_second for m in sweep if m.p99_ms <= p99_bound_ms and not m.errors), default=0.0)
        runs = ", ".join(
            f"c{c}: {m.requests_per_second:.0f}/{m.p99_ms:.1f}ms"
            for c, m in zip(SWEEP_CONCURRENCIES, sweep, strict=True)
        )
        print(f"  {n:>3}-row requests: {best:.0f} req/s   (req/s / p99 by concurrency: {runs})")
        cpu = results.median(("image", n, 8)).cpu_us_per_request
        print(
            f"      CPU-bound ceiling: {results.workers} CPUs / {cpu:.0f} us per request = "
            f"{results.workers * 1e6 / cpu:.0f} req/s (with the load generator elsewhere)"
        )


def main() -> int:
    arguments = parse_arguments()
    wrk = ensure_debian_package("wrk", "wrk")
    cpus = len(os.sched_getaffinity(0))
    workers, threads = cpus, 1  # the image's defaults: one worker per CPU, one XGBoost thread each
    print(
        f"Model: 100 trees of depth <= 6 over {FEATURES} features. Machine: {cpus} CPUs, load average "
        f"{os.getloadavg()[0]:.2f} at start. {arguments.rounds} rounds, {arguments.duration:g} s per "
        "measurement; wrk: 1 thread, keep-alive connections."
    )
    print(
        f"Image server: `serve` (gunicorn + {workers} event-loop workers). Classic stack: nginx -> gunicorn "
        f"with {workers} sync workers -> Flask + pandas. Limits: {workers} processes.\n"
    )
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as scratch:
        results = measure(arguments, wrk, Path(scratch), workers, threads)
    report(results, arguments.p99_bound_ms)
    print(f"Load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
