"""The full deploy rehearsal, as `make rehearse` runs it: the real CDK CLI and the operator CLI against the emulator."""

from __future__ import annotations

import subprocess
import sys

import pytest

from operator_cli.project import Project
from rehearsal.cdk import PROJECT_ROOT

# Measured at 8 to 11 minutes on 2 cores busy with other builds: each mlp promote synthesizes every Region with
# the gates, as make deploy does.
TIMEOUT_SECONDS = 1500


def _day_2_operations(region: str, other_region: str) -> tuple[str, ...]:
    """What the summary must show of the day-2 operations, each with its result checked by the rehearsal."""
    return (
        f"mlp upload-data --region {region} <workdir>/data/churn: 2 files under s3://<data bucket>/raw/churn/",
        f"mlp upload-data --region {region} <workdir>/large.bin: 9437184 bytes, progress shown at 10, 20,",
        "--wait --poll-seconds 0.2: Succeeded after following 9 steps; registered arn:aws:sagemaker:",
        "--data churn-unlabelled --wait --poll-seconds 0.2: exit 1 at Prepare, printing 2 violations",
        f"mlp reject --region {region}: arn:",
        "--no-spot --wait --poll-seconds 0.2: exit 1 at RejectModelOnDemand, printing the reason: mlp: "
        + "pipeline execution failed: Quality gate:",
        f"mlp promote --region {region}: exit 1: mlp: no approved model",
        "PendingManualApproval, v1 Rejected InService",
        f"mlp approve --region {region}: arn:",
        f"mlp promote --region {region}: recorded in cdk.json, synthesized, linted, the Serving stack alone deployed; "
        "it serves arn:",
        "rolled back by ",
        "-RollbackServerErrorRate: exit 1, cdk.json restored, still serving arn:",
        "8 rows -> 8 predictions of the real model",
        # Monitoring: labels for the model-quality monitor, and a data-quality run with violations in mlp status.
        f"mlp ground-truth upload --region {region} <workdir>/labels.jsonl: 8 labels uploaded to ground-truth/",
        "malformed-labels.jsonl: exit 1, nothing uploaded: mlp: 5 problem(s), nothing uploaded:",
        ": CompletedWithViolations at ",
        "is OutOfService; it takes requests once InService",
        # Scale to zero (dev), with simulated scaling: idle to no copy, a failed request, one copy back.
        "scaled in to 0 copies, 0 instances (simulated scaling)",
        "Inference Component has no capacity to process this request",
        "-> scale-out-from-zero -> 1 copy",
        "after the scale-out: 8 predictions",
        "exit 1: mlp: no AWS credentials found",
        "exit 1: mlp: Region 'mars-north-1' is not an AWS Region",
        "exit 1: mlp: cannot read <workdir>/missing.csv",
        f"mlp train --region {other_region}: exit 1: mlp: stack MlPlatform-{other_region}-Data is not deployed",
        f"{other_region} not deployed",
    )


@pytest.mark.slow
@pytest.mark.starts_first
def test_every_stack_of_the_first_region_deploys_is_operated_updated_and_destroyed_leaving_the_data() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rehearsal"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    summary = result.stdout[result.stdout.index("Deploy rehearsal of") :]
    for stack in ("Data", "Network", "Training", "Serving"):
        assert f"-{stack}: " in summary, f"the {stack} stack was not rehearsed"
    assert "Survived the destroy (retained):\n  data bucket" in summary
    operations = summary[summary.index("Day-2 operations") : summary.index("Updates (deployed and checked)")]
    first, other = Project(PROJECT_ROOT).regions()[:2]
    missing = [text for text in _day_2_operations(first, other) if text not in operations]
    assert not missing, f"the day-2 operations did not show {missing}:\n{operations}"
    assert "PrimaryContainer of EndpointModel" in summary and "(mlp promote)" in summary
    assert "Serving: still serves arn:" in summary, "a plain cdk deploy after mlp promote keeps the promoted model"
    assert "ExcludeRetainedVariantProperties of Endpoint" in summary, "a fleet without autoscaling was not rehearsed"
