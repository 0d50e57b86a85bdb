#!/usr/bin/env python3
"""Time from container start to the first ``/ping`` 200 of the model image's ``serve``, on loopback.

Trains a small model with the image's ``train`` command (in this process), then starts the image with podman
``--runs`` times, polls ``/ping`` every 10 ms and prints, for each run, the time from the container's start
(``.State.StartedAt``, when its process began) to the first 200, and the median. Every run is bounded.

Usage, in the development environment (make setup-dev installs the model container's harness):
python bench/container_start.py IMAGE [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from container_harness import SageMakerDir, classification_table, free_port, http_request, run_in_process

_PING_TIMEOUT_SECONDS = 60


def podman(*arguments: str) -> str:
    return subprocess.run(["podman", *arguments], capture_output=True, text=True, check=True, timeout=120).stdout


def started_at(container: str) -> float:
    # podman prints nanoseconds and a zone: 2026-12-01 21:04:55.123456789 +0000 UTC
    text = podman("inspect", "--format", "{{.State.StartedAt}}", container).strip()
    day, clock, offset = text.split()[:3]
    seconds, _, fraction = clock.partition(".")
    moment = datetime.datetime.strptime(f"{day} {seconds} {offset}", "%Y-%m-%d %H:%M:%S %z")
    return moment.timestamp() + float(f"0.{fraction or 0}")


def first_ping(port: int) -> float:
    deadline = time.monotonic() + _PING_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if http_request(port, "GET", "/ping").status == 200:
                return time.time()
        except OSError:
            pass
        time.sleep(0.01)
    sys.exit(f"no /ping 200 within {_PING_TIMEOUT_SECONDS} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("image")
    parser.add_argument("--runs", type=int, default=5, help="container starts to time (default 5)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="container-start-") as scratch:
        job = SageMakerDir(Path(scratch) / "opt-ml")
        classification_table(2000, seed=1, features=20).write_csv(job.channel("train") / "train.csv")
        job.hyperparameters({"target_column": "label", "task": "classification", "num_round": "100"})
        status, log = run_in_process("train", job.root)
        if status != 0:
            sys.exit(f"train failed:\n{log}")
        print(f"Load average at start: {os.getloadavg()[0]:.2f}")
        times = []
        for run in range(arguments.runs):
            name, port = f"container-start-{os.getpid()}-{run}", free_port()
            model = f"{job.model_dir}:/opt/ml/model:ro"
            podman(
                "run",
                "--detach",
                "--name",
                name,
                "--publish",
                f"127.0.0.1:{port}:8080",
                "--volume",
                model,
                arguments.image,
                "serve",
            )
            try:
                answered = first_ping(port)
                times.append(answered - started_at(name))
            finally:
                podman("rm", "--force", name)
            print(f"  run {run + 1}: {times[-1]:.2f} s from start to the first /ping 200")
        print(f"Median: {statistics.median(times):.2f} s; load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
