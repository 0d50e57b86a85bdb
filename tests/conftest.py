"""Shared fixtures: the platform is synthesized once per session, from the shipped cdk.json."""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from aws_cdk import cx_api
    from aws_cdk.assertions import Template

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# jsii and the CDK CLI run on the project's pinned Node.js when it is installed (make setup does it).
if (PROJECT_ROOT / "node_modules" / ".bin" / "node").exists():
    os.environ["PATH"] = f"{PROJECT_ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"
# The CDK and the app are imported where they are used: pytest loads this file in its main process too, which
# under pytest-xdist only hands the tests to the workers, and would otherwise start jsii there before any worker
# starts (about 4 s at the start of every run).

TEST_ACCOUNT = "111122223333"
"""The account of the prod test config: prod refuses the documentation's example account."""
TEST_ALARM_EMAIL = "ml-alerts@ml-platform.internal"


def shipped_context() -> dict:
    """The context of the shipped cdk.json (feature flags and the example platform config)."""
    return json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]


SERVING_REGION = "eu-west-1"
EXAMPLE_MODEL_PACKAGE = (
    f"arn:aws:sagemaker:{SERVING_REGION}:{TEST_ACCOUNT}:model-package/mlplatform-eu-west-1-data-models/1"
)


def serving_context() -> dict:
    """The shipped config with its first Region serving a model, so that the tests cover every stack: the shipped
    config serves none, since a fresh account has no model to serve yet."""
    context = copy.deepcopy(shipped_context())
    entry = next(entry for entry in context["platform"]["regions"] if entry["region"] == SERVING_REGION)
    entry.setdefault("serving", {})["model_package_arn"] = EXAMPLE_MODEL_PACKAGE
    return context


def always_on_context() -> dict:
    """That config with scale to zero off, so that the dev endpoint keeps its instances as prod's does."""
    context = serving_context()
    entry = next(entry for entry in context["platform"]["regions"] if entry["region"] == SERVING_REGION)
    entry["serving"]["scale_to_zero"] = False
    return context


def prod_context() -> dict:
    """That config as a prod deployment states it: its own account and a pager that receives mail."""
    context = serving_context()
    platform = context["platform"]
    platform.update(environment="prod", account=TEST_ACCOUNT)
    platform["defaults"]["alarm_email"] = TEST_ALARM_EMAIL
    return context


class SynthesizedPlatform:
    """A synthesized app: its stages, assembly and one assertions Template per stack."""

    def __init__(self, context: dict, outdir: Path):
        from app import build_platform, create_app
        from platform_config import load_platform_config

        self.app = create_app(context=context, outdir=str(outdir))
        self.config = load_platform_config(self.app.node.get_all_context())
        self.stages = build_platform(self.app, self.config)
        self.assembly: cx_api.CloudAssembly = self.app.synth()
        self.outdir = outdir
        self._templates: dict[tuple[str, str], Template] = {}

    def template(self, region: str, stack: str) -> Template:
        key = (region, stack)
        if key not in self._templates:
            from aws_cdk.assertions import Template

            self._templates[key] = Template.from_stack(getattr(self.stages[region], stack))
        return self._templates[key]

    def template_json(self, region: str, stack: str) -> Mapping[str, Any]:
        return self.template(region, stack).to_json()

    @property
    def validation_report(self) -> dict:
        return json.loads((self.outdir / "validation-report.json").read_text())


@pytest.fixture(scope="session")
def platform(tmp_path_factory) -> SynthesizedPlatform:
    return SynthesizedPlatform(serving_context(), tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def always_on_platform(tmp_path_factory) -> SynthesizedPlatform:
    return SynthesizedPlatform(always_on_context(), tmp_path_factory.mktemp("cdk.out.always-on"))


@pytest.fixture(scope="session")
def prod_platform(tmp_path_factory) -> SynthesizedPlatform:
    return SynthesizedPlatform(prod_context(), tmp_path_factory.mktemp("cdk.out.prod"))


@pytest.fixture(scope="session")
def cdk_cli() -> str:
    cli = shutil.which("cdk")
    if cli is None:
        pytest.fail("The CDK CLI is not installed; run the tests through `make test`, which installs it")
    return cli
