"""Synth benchmark: wall time of a full synth (all stacks, all gates) for 1, 3, 6 and 12 Regions
next to an empty CDK app, each in a fresh process as `cdk synth` runs it.

"warm" is the usual synth: the pipeline definition the SageMaker SDK generated for the same training
settings is in the cache. "cold" empties that cache first, as the first synth on a machine finds it.

Then what a developer waits for: `make synth` (the CDK CLI's synth of every stack, then cfn-lint) with
unchanged templates, against the CLI's synth of an empty CDK app.

Usage: make bench-synth   (or: python -m bench.synth [--repeat N])
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ml_constructs.definition_process import DEFINITION_CACHE

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REGION_COUNTS = (1, 3, 6, 12)
# Regions that all have zones a and b; the order decides which ones a smaller run uses.
BENCH_REGIONS = (
    "eu-west-1",
    "us-east-1",
    "ap-southeast-2",
    "eu-central-1",
    "us-west-2",
    "ap-northeast-1",
    "eu-north-1",
    "ca-central-1",
    "ap-south-1",
    "sa-east-1",
    "eu-west-2",
    "us-east-2",
)
# One stack without resources: the CDK CLI refuses to synthesize an app with no stack at all.
EMPTY_APP = 'import aws_cdk as cdk; app = cdk.App(); cdk.Stack(app, "Empty"); app.synth()'


def context_for(region_count: int) -> dict:
    context = json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]
    shipped = context["platform"]["regions"]
    regions = []
    for name in BENCH_REGIONS[:region_count]:
        entry = next((dict(region) for region in shipped if region["region"] == name), None)
        regions.append(entry or {"region": name, "availability_zones": [f"{name}a", f"{name}b"]})
    context["platform"] = {**context["platform"], "regions": regions}
    return context


def pinned_node_path() -> str:
    """PATH with the pinned Node.js and CDK CLI first, as make puts them."""
    return f"{PROJECT_ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"


def timed_synth(code_or_script: list[str], context: dict | None) -> float:
    with tempfile.TemporaryDirectory() as outdir:
        env = {
            **os.environ,
            "CDK_OUTDIR": outdir,
            "CDK_CONTEXT_JSON": json.dumps(context or {}),
            "PATH": pinned_node_path(),
        }
        started = time.perf_counter()
        subprocess.run([sys.executable, *code_or_script], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
        return time.perf_counter() - started


def cli_synth_seconds(project_dir: Path, outdir: Path, *extra: list[str]) -> float:
    """Wall time of `cdk synth` in ``project_dir`` and of each ``extra`` command after it, as `make synth` runs."""
    cdk = shutil.which("cdk", path=pinned_node_path())
    assert cdk, "the pinned CDK CLI is missing; run make setup"
    quiet = ["--quiet", "--no-notices", "--no-version-reporting", "--output", str(outdir)]
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true", "PATH": pinned_node_path()}
    started = time.perf_counter()
    subprocess.run([cdk, "synth", *quiet], cwd=project_dir, env=env, check=True, capture_output=True)
    for command in extra:
        subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def make_synth_against_empty_app(repeat: int) -> tuple[float, float]:
    """Median seconds of the CLI's empty-app synth and of a warm `make synth` (templates unchanged)."""
    with tempfile.TemporaryDirectory() as scratch:
        empty_project = Path(scratch) / "empty"
        empty_project.mkdir()
        (empty_project / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} -c '{EMPTY_APP}'"}))
        empty = statistics.median(
            cli_synth_seconds(empty_project, Path(scratch) / f"empty-{run}.out") for run in range(repeat)
        )
        outdir = Path(scratch) / "platform.out"
        lint = [sys.executable, "-m", "scripts.lint_templates", str(outdir)]
        cli_synth_seconds(PROJECT_ROOT, outdir, lint)  # fills the definition and lint caches, as any synth does
        warm = statistics.median(cli_synth_seconds(PROJECT_ROOT, outdir, lint) for _ in range(repeat))
    return empty, warm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median is reported (default 3)")
    args = parser.parse_args()

    def median(command: list[str], context: dict | None) -> float:
        return statistics.median(timed_synth(command, context) for _ in range(args.repeat))

    empty = median(["-c", EMPTY_APP], None)
    print(f"{'case':<26}{'warm s':>8}{'x empty':>9}{'cold s':>8}{'x empty':>9}")
    print(f"{'empty CDK app':<26}{empty:>8.2f}{1.0:>9.2f}")
    times = {}
    for count in REGION_COUNTS:
        shutil.rmtree(DEFINITION_CACHE, ignore_errors=True)
        cold = timed_synth(["app.py"], context_for(count))
        times[count] = median(["app.py"], context_for(count))
        print(
            f"{f'platform, {count} Region(s)':<26}{times[count]:>8.2f}{times[count] / empty:>9.2f}"
            f"{cold:>8.2f}{cold / empty:>9.2f}"
        )

    per_region = (times[REGION_COUNTS[-1]] - times[3]) / (REGION_COUNTS[-1] - 3)
    cli_empty, make_synth = make_synth_against_empty_app(args.repeat)
    gate_ratio = make_synth / cli_empty
    print(f"\n{'cdk synth, empty CDK app':<34}{cli_empty:>8.2f} s")
    print(f"{'make synth, templates unchanged':<34}{make_synth:>8.2f} s = {gate_ratio:.2f} x empty")
    three_ratio = times[3] / empty
    print(f"\nper further Region (3 -> 12, warm): {per_region:.2f} s = {per_region / empty:.3f} x empty")
    print(f"target 3 Regions <= 2.5 x empty (warm): {'met' if three_ratio <= 2.5 else 'NOT met'} ({three_ratio:.2f})")
    print(
        f"target each further Region <= 0.15 x empty (warm): {'met' if per_region / empty <= 0.15 else 'NOT met'} "
        f"({per_region / empty:.3f})"
    )
    print(f"target make synth (warm) <= 2.5 x empty: {'met' if gate_ratio <= 2.5 else 'NOT met'} ({gate_ratio:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
