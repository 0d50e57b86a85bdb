"""Data-preparation benchmark: rows per second of the job for 10^5, 10^6 and 10^7 generated rows, on one
core (local[1]) and on two (local[2]), each run in a fresh process with its own Spark session.

The input is CSV, as raw data mostly arrives: a 0/1 label and 8 numeric features (2 whole-number, 6
fractional, 1% missing), spread over 8 files. The time is the job's own (main, from reading the settings
to the last published file); Spark's start-up, a few seconds, is shown apart, and so is the machine's
load average after the case: other work on the machine takes cores from the job. "CPU cores" is the CPU time
the job's processes (the JVM and the Python driver) spent during the job over its wall time: a JVM with one
Spark core also compiles and collects garbage on other threads, so local[1] already uses more than one core.

Usage: make bench-prepare   (or: python -m bench.prepare [--rows 100000 1000000] [--cores 1 2] [--repeat N])
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ROW_COUNTS = (10**5, 10**6, 10**7)
CORES = (1, 2)
INPUT_FILES = 8
FEATURES = 8
# Rows per output file: the job's default (1000000) would give 10^5 rows one file per split.
ROWS_PER_FILE = 250_000
GOAL_SPEEDUP = 1.6


def generate(folder: Path, rows: int) -> None:
    """``rows`` rows of CSV in INPUT_FILES files, from a fixed seed."""
    folder.mkdir(parents=True)
    generator = np.random.default_rng(0)
    for number, part in enumerate(np.array_split(np.arange(rows), INPUT_FILES)):
        size = len(part)
        columns = {"label": generator.integers(0, 2, size)}
        for feature in range(FEATURES):
            values = generator.integers(0, 100, size) if feature < 2 else generator.normal(0, 1, size).round(6)
            missing = generator.random(size) < 0.01
            columns[f"f{feature}"] = pa.array(values, mask=missing)
        pa_csv.write_csv(pa.table(columns), folder / f"part-{number}.csv")


def measure(raw: Path, cores: int, work: Path) -> dict:
    """One run in a fresh process: the job's seconds and Spark's start-up seconds."""
    settings = {"dataset": raw.name, "label_column": "label", "task": "classification", "rows_per_file": ROWS_PER_FILE}
    (work / "settings.json").write_text(json.dumps(settings))
    script = f"""
import json, os, sys, time
from pyspark.sql import SparkSession
from data_preparation.prepare import main

def cpu_seconds(jvm_pid):
    # user + system time of the JVM (from /proc, in clock ticks) and of this process
    fields = open(f"/proc/{{jvm_pid}}/stat").read().rsplit(")", 1)[1].split()
    own = os.times()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") + own.user + own.system

started = time.perf_counter()
spark = (SparkSession.builder.master("local[{cores}]").config("spark.driver.memory", "6g")
         .config("spark.ui.enabled", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
spark.range(1).count()
jvm_pid = spark._jvm.java.lang.ProcessHandle.current().pid()
ready, cpu_ready = time.perf_counter(), cpu_seconds(jvm_pid)
status = main(["--settings-file", "{work}/settings.json", "--input", "{raw.parent}",
               "--datasets-output", "{work}/datasets", "--baseline-output", "{work}/baseline",
               "--staging", "{work}/staging", "--failure-message-file", "{work}/message"], spark=spark)
done, cpu_done = time.perf_counter(), cpu_seconds(jvm_pid)
spark.stop()
print(json.dumps({{"status": status, "startup_s": ready - started, "job_s": done - ready,
                  "cpu_s": cpu_done - cpu_ready}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    if measured["status"] != 0:
        raise SystemExit((work / "message").read_text())
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(ROW_COUNTS))
    parser.add_argument("--cores", type=int, nargs="+", default=list(CORES))
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the fastest counts (default: 1)")
    arguments = parser.parse_args()
    header = (
        f"{'rows':>10} {'cores':>5} {'job s':>8} {'rows/s':>10} {'start-up s':>10} {'speed-up':>8} "
        f"{'CPU cores':>9} {'load':>5}"
    )
    print(header, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as temporary:
        root = Path(temporary)
        for rows in arguments.rows:
            raw = root / f"raw-{rows}" / "bench"
            generate(raw, rows)
            first = None
            for cores in arguments.cores:
                # The fastest of the runs is the one least slowed down by whatever else the machine runs.
                runs = []
                for attempt in range(arguments.repeat):
                    work = root / f"run-{rows}-{cores}-{attempt}"
                    work.mkdir()
                    runs.append(measure(raw, cores, work))
                measured = min(runs, key=lambda run: run["job_s"])
                first = first or measured["job_s"]
                speedup = first / measured["job_s"]
                print(
                    f"{rows:>10} {cores:>5} {measured['job_s']:>8.1f} {rows / measured['job_s']:>10.0f} "
                    f"{measured['startup_s']:>10.1f} {speedup:>7.2f}× {measured['cpu_s'] / measured['job_s']:>9.2f} "
                    f"{os.getloadavg()[0]:>5.1f}",
                    flush=True,
                )
    print(f"goal: {GOAL_SPEEDUP}× from the second core")


if __name__ == "__main__":
    main()
