"""The operator CLI's hold on the project: Regions from cdk.json, and promoted models recorded there.

Its AWS side runs in the deploy rehearsal (rehearsal/operator_phase.py), against the deployed platform.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from operator_cli.errors import OperatorError
from operator_cli.project import CHECKOUT, Project
from platform_config import load_platform_config

PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlplatform-us-east-1-training-pipeline-models/7"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A fork of the project: the shipped cdk.json, in a directory of its own."""
    (tmp_path / "cdk.json").write_text((CHECKOUT / "cdk.json").read_text())
    return Project(tmp_path)


def _document(project: Project) -> dict:
    return json.loads(project.cdk_json.read_text())


def _entry(document: dict, region: str) -> dict:
    return next(entry for entry in document["context"]["platform"]["regions"] if entry["region"] == region)


def test_promoting_records_the_package_as_the_regions_model_and_changes_nothing_else(project: Project) -> None:
    before = _document(project)
    project.record_model_package("us-east-1", PACKAGE, None)
    after = _document(project)

    _entry(before, "us-east-1")["serving"] = {"model_package_arn": PACKAGE}
    assert after == before
    assert list(after) == list(before) and list(_entry(after, "us-east-1"))[-1] == "serving", "key order is kept"
    original = (CHECKOUT / "cdk.json").read_text()
    assert project.cdk_json.read_text() == json.dumps(after, indent=2) + ("\n" if original.endswith("\n") else "")

    config = load_platform_config(after["context"])
    served = next(region for region in config.regions if region.region == "us-east-1").settings.serving
    assert served.model_package_arn == PACKAGE, "the CDK app reads the recorded model"


def test_a_promoted_package_replaces_a_model_artifact(project: Project) -> None:
    document = _document(project)
    _entry(document, "eu-west-1")["serving"] = {"model_data_url": "s3://bucket/models/m.tar.gz", "max_capacity": 4}
    project.cdk_json.write_text(json.dumps(document, indent=2) + "\n")

    previous = project.record_model_package("eu-west-1", PACKAGE, None)
    assert _entry(_document(project), "eu-west-1")["serving"] == {"max_capacity": 4, "model_package_arn": PACKAGE}
    assert project.cdk_json.read_text().endswith("}\n")

    project.restore(previous)
    assert project.cdk_json.read_text() == json.dumps(document, indent=2) + "\n"


def test_a_promoted_packages_baseline_is_recorded_with_it_and_goes_with_the_next_package(project: Project) -> None:
    bucket = "s3://mlplatform-us-east-1-data-datastorebucket-ab12cd34ef56/datasets/churn/baseline"
    baseline = {"statistics_uri": f"{bucket}/statistics.json", "constraints_uri": f"{bucket}/constraints.json"}
    original = project.cdk_json.read_text()

    previous = project.record_model_package("us-east-1", PACKAGE, baseline)
    after = _document(project)
    assert _entry(after, "us-east-1")["serving"] == {"model_package_arn": PACKAGE, "monitoring": {"baseline": baseline}}
    config = load_platform_config(after["context"])
    props = next(region for region in config.regions if region.region == "us-east-1").settings.serving.monitoring
    recorded = props.props().baseline
    assert recorded is not None, "the CDK app monitors data quality against the recorded baseline"
    assert recorded.statistics_uri == baseline["statistics_uri"]

    project.record_model_package("us-east-1", PACKAGE.replace("/7", "/8"), None)
    assert _entry(_document(project), "us-east-1")["serving"]["monitoring"] == {}, "another model's baseline goes"

    project.restore(previous)
    assert project.cdk_json.read_text() == original


def test_regions_are_checked_against_the_config(project: Project) -> None:
    assert project.regions() == ["eu-west-1", "us-east-1"]
    assert project.check_region("us-east-1") == "us-east-1"
    with pytest.raises(OperatorError, match=r"'ap-south-1' is an AWS Region but not configured.*eu-west-1, us-east-1"):
        project.check_region("ap-south-1")
    with pytest.raises(OperatorError, match="'eu-west-9' is not an AWS Region"):
        project.check_region("eu-west-9")


def test_a_project_directory_without_cdk_json_is_one_line_and_exit_status_1(tmp_path: Path) -> None:
    # The mlp that make setup installs, run from elsewhere and without this checkout on the path, as an operator runs
    # it: everything it imports must be in the installed packages.
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "mlp"), "--project-dir", str(tmp_path), "status"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == f"mlp: cannot read {tmp_path / 'cdk.json'}: No such file or directory\n"


def test_mlp_starts_without_the_config_models_which_load_on_first_use() -> None:
    timings = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "operator_cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in timings.splitlines() if line.startswith("import time:")}
    assert "operator_cli.cli" in imported
    assert not {"platform_config.loader", "platform_config.settings", "pydantic"} & imported

    import platform_config

    # Each exported name resolves (an AttributeError otherwise), loading its module.
    assert all(getattr(platform_config, name) is not None for name in platform_config.__all__)
    with pytest.raises(AttributeError, match="module 'platform_config' has no attribute 'load_config'"):
        platform_config.load_config  # noqa: B018  (an attribute it does not have)
