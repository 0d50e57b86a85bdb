#!/usr/bin/env python3
"""GPU check of the model image's GPU build: the same training job on the CPUs and on the GPU, same data and
hyperparameters, with the quality and the time of each.

Run it on a GPU instance, in the GPU build's environment (the image built with ACCELERATOR=gpu, or
``pip install -r training_code/requirements.txt -r training_code/requirements-gpu.txt``):

  PYTHONPATH=training_code/src python bench/gpu_check.py [--rows 1000000] [--features 50] [--rounds 200]

It exits 1 when the GPU cannot be used (the reason is printed) or when the validation AUC of the two runs differs by
more than --tolerance: GPU and CPU histograms sum gradients in different orders, so the trees may differ slightly,
but not the quality.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from container_harness import SageMakerDir, classification_table, run_in_process


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="generated training rows (default 1000000)")
    parser.add_argument("--features", type=int, default=50, help="feature columns (default 50)")
    parser.add_argument("--rounds", type=int, default=200, help="boosting rounds (default 200)")
    parser.add_argument("--tolerance", type=float, default=0.005, help="largest AUC difference (default 0.005)")
    return parser.parse_args()


def train(scratch: Path, data: Path, device: str, rounds: int) -> tuple[float, float, str]:
    """Trains on ``device`` with every CPU; returns the seconds it took, the validation AUC and the device log line."""
    job = SageMakerDir(scratch / device)
    job.channel("train").mkdir(parents=True)
    (job.channel("train") / data.name).symlink_to(data)
    job.hyperparameters(
        {"target_column": "label", "task": "classification", "num_round": str(rounds), "max_depth": "8"}
    )
    started = time.perf_counter()
    status, log = run_in_process("train", job.root, single_cpu=False, TRAINING_DEVICE=device)
    seconds = time.perf_counter() - started
    if status != 0:
        sys.exit(f"training on {device} failed: {job.failure_file.read_text() if job.failure_file.exists() else log}")
    device_line = next(line for line in log.splitlines() if "Training on device" in line)
    return seconds, job.evaluation["binary_classification_metrics"]["auc"]["value"], device_line


def main() -> int:
    arguments = parse_arguments()
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as directory:
        scratch = Path(directory)
        data = scratch / "train.parquet"
        classification_table(arguments.rows, seed=0, features=arguments.features).write_parquet(data)
        results = {device: train(scratch, data, device, arguments.rounds) for device in ("cpu", "cuda")}
    print(f"{arguments.rows} rows x {arguments.features} features, {arguments.rounds} rounds of depth <= 8:")
    for device, (seconds, auc, device_line) in results.items():
        print(f"  {device:>4}: {seconds:7.1f} s  validation AUC {auc:.5f}   ({device_line.split(': ', 1)[1]})")
    (cpu_seconds, cpu_auc, _), (gpu_seconds, gpu_auc, _) = results["cpu"], results["cuda"]
    print(f"  GPU speed-up: {cpu_seconds / gpu_seconds:.1f} x; AUC difference {abs(cpu_auc - gpu_auc):.5f}")
    if abs(cpu_auc - gpu_auc) > arguments.tolerance:
        print(f"FAILED: the AUC differs by more than {arguments.tolerance}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
