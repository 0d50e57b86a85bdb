"""Gates every synth passes: compliance packs, cfn-lint, offline and credential-free synthesis."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from ml_constructs.compliance import COMPLIANCE_PACKS, add_compliance_packs
from operator_cli.deploy import with_home
from scripts.lint_templates import cache_key, lint_assembly, stack_templates
from tests.conftest import PROJECT_ROOT, TEST_ACCOUNT, shipped_context


def _report_entries(report: dict, key: str) -> list[tuple[str, str, dict]]:
    return [
        (plugin["pluginName"], construct["constructPath"], entry)
        for plugin in report["pluginReports"]
        for entry in plugin.get(key, [])
        for construct in entry["violatingConstructs"]
    ]


@pytest.mark.parametrize("fixture", ["platform", "prod_platform"])
def test_compliance_report_is_clean(request, fixture):
    report = request.getfixturevalue(fixture).validation_report
    assert [(path, entry["ruleName"]) for _, path, entry in _report_entries(report, "violations")] == []
    assert all(plugin["conclusion"] == "success" for plugin in report["pluginReports"])


def test_every_acknowledgment_names_one_rule_on_one_construct_and_gives_a_reason(platform):
    acknowledged = [
        entry
        for entry in _report_entries(platform.validation_report, "suppressedViolations")
        if entry[0] in COMPLIANCE_PACKS
    ]
    assert acknowledged, "the report has no audit trail of acknowledgments"
    for pack, path, entry in acknowledged:
        assert entry["acknowledgedId"] == f"{pack}::{entry['ruleName']}" or entry["acknowledgedId"].startswith(
            f"{pack}::{entry['ruleName']}["
        ), f"broad acknowledgment at {path}: {entry['acknowledgedId']}"
        assert path.startswith(entry["acknowledgedAt"] + "/"), (
            f"acknowledged above the resource: {entry['acknowledgedAt']}"
        )
        assert entry["acknowledgedAt"].count("/") >= 2, f"acknowledged on a whole stack: {entry['acknowledgedAt']}"
        assert len(entry["reason"]) >= 40, f"{path}: a reviewer needs a real reason, got {entry['reason']!r}"


def test_every_pack_fails_synth_on_an_unacknowledged_finding(tmp_path):
    app = cdk.App(context=shipped_context(), outdir=str(tmp_path))
    stack = cdk.Stack(cdk.Stage(app, "Careless"), "Stack")
    s3.Bucket(stack, "PlainBucket")
    add_compliance_packs(app)
    with pytest.raises(RuntimeError, match="AwsSolutions-S1"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    failing = {plugin["pluginName"] for plugin in report["pluginReports"] if plugin["conclusion"] == "failure"}
    assert failing == set(COMPLIANCE_PACKS)


CARELESS_APP = """
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from ml_constructs.compliance import add_compliance_packs

app = cdk.App()
s3.Bucket(cdk.Stack(cdk.Stage(app, "Careless"), "Stack"), "PlainBucket")
add_compliance_packs(app)
app.synth()
"""


@pytest.mark.slow  # the real CDK CLI synthesizes an app
def test_the_cli_fails_synth_on_an_unacknowledged_finding(cdk_cli, tmp_path):
    """Stacks inside stages are only checked when selected, which is why `make synth` selects '**'."""
    (tmp_path / "careless_app.py").write_text(CARELESS_APP)
    result = subprocess.run(
        [
            cdk_cli,
            "synth",
            "**",
            "--quiet",
            "-o",
            str(tmp_path / "out"),
            "--app",
            f"{sys.executable} {tmp_path / 'careless_app.py'}",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode != 0
    assert "AwsSolutions-S1" in result.stderr
    assert "Synthesis finished with errors" in result.stderr


@pytest.mark.parametrize("fixture", ["platform", "prod_platform"])
def test_cfn_lint_finds_nothing(request, fixture):
    count, _, findings = lint_assembly(request.getfixturevalue(fixture).outdir)
    assert count >= 2
    assert findings == []


@pytest.mark.slow  # cfn-lint over every template of the platform, twice
def test_cfn_lint_skips_unchanged_templates_and_always_lints_a_changed_one(platform, tmp_path):
    # A copy of the assembly, so that one template can change without touching the session's.
    assembly = tmp_path / "cdk.out"
    shutil.copytree(platform.outdir, assembly)
    cache = tmp_path / "cache"
    count, linted, findings = lint_assembly(assembly, cache)
    assert (linted, findings) == (count, [])
    assert lint_assembly(assembly, cache) == (count, 0, [])

    template, region = next(stack_templates(assembly))
    document = json.loads(template.read_text())
    document["Resources"]["Unknown"] = {"Type": "AWS::S3::Bucket", "Properties": {"NoSuchProperty": 1}}
    template.write_text(json.dumps(document))
    _, linted, findings = lint_assembly(assembly, cache)
    assert linted == 1
    assert any("NoSuchProperty" in finding for finding in findings), findings

    (cache / f"{cache_key(template.read_bytes(), region)}.json").write_text("{half a fil")
    assert lint_assembly(assembly, cache)[1] == 1, "a damaged cache entry is linted again"


def test_every_region_is_synthesized_into_its_own_assembly(platform):
    regions = sorted({region for _, region in stack_templates(platform.outdir)})
    assert regions == sorted(region.region for region in platform.config.regions)


def _synth_offline(cdk_cli: str, project: Path, outdir: Path, home: Path) -> dict:
    """``cdk synth -vv`` in ``project`` where loopback is the only network and every proxy variable names a
    listener that records connections (tests/cli_probe.py): what the CLI printed and what tried to leave."""
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to cut the network for this test")
    # Nothing from the caller's environment may switch telemetry, notices or version checks off: cdk.json must.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "CDK_"))}
    env = with_home(env, home)  # no ~/.aws and no ~/.cdk.json either
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    probe = [sys.executable, "-m", "tests.cli_probe", cdk_cli, "synth", "**", "-vv", "-o", str(outdir)]
    result = subprocess.run(
        ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *probe],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


PHONING_HOME = ("Telemetry dispatched", "Notices refreshed", "Could not refresh notices", "cdk-cli-telemetry")


@pytest.mark.slow  # the real CDK CLI synthesizes the platform
def test_real_cli_synthesizes_offline_and_nothing_tries_to_leave_the_machine(cdk_cli, tmp_path):
    """cdk.json turns off the CLI's telemetry, notices and version reporting, so every cdk run of the project and
    of a fork (make, mlp, the rehearsal) sends nothing."""
    outdir = tmp_path / "cdk.out"
    probe = _synth_offline(cdk_cli, PROJECT_ROOT, outdir, tmp_path)
    assert probe["returncode"] == 0, probe["output"][-4000:]
    assert probe["attempts"] == []
    assert [line for line in probe["output"].splitlines() if any(mark in line for mark in PHONING_HOME)] == []
    assert len(list(stack_templates(outdir))) >= 2
    assert "Node 20 is end-of-life" not in probe["output"]


@pytest.mark.slow  # the real CDK CLI synthesizes an app
def test_without_the_settings_the_probe_sees_the_cli_phone_home(cdk_cli, tmp_path):
    """The check above can fail: a project without the settings is caught."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text("import aws_cdk as cdk\n\napp = cdk.App()\ncdk.Stack(app, 'Empty')\napp.synth()\n")
    (project / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py"}))
    probe = _synth_offline(cdk_cli, project, tmp_path / "out", tmp_path)
    printed = [line for line in probe["output"].splitlines() if any(mark in line for mark in PHONING_HOME)]
    assert probe["attempts"] or printed, probe["output"][-4000:]


def test_synth_with_an_account_needs_no_context_lookup(prod_platform):
    """With an account set, anything asking for the stack's zones would trigger a lookup that needs credentials."""
    assert prod_platform.config.account == TEST_ACCOUNT
    missing = [
        entry["key"]
        for manifest in prod_platform.outdir.rglob("manifest.json")
        for entry in json.loads(manifest.read_text()).get("missing", [])
    ]
    assert missing == []
