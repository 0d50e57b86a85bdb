"""Snapshots of every stack guard against surprises; fine-grained tests say what matters."""

from __future__ import annotations

import json
import re

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

# Values that differ between machines or releases and say nothing about the platform.
_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
_ACCOUNT_ID = re.compile(r"\b[0-9]{12}\b")


def stable(template: dict) -> dict:
    text = json.dumps(template, sort_keys=True)
    text = _ASSET_HASH.sub("<asset-hash>", text)
    text = _ACCOUNT_ID.sub("<account>", text)
    masked = json.loads(text)
    masked.get("Resources", {}).pop("CDKMetadata", None)
    masked.get("Conditions", {}).pop("CDKMetadataAvailable", None)
    return masked


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


# One snapshot per stack kind, of the Region that has every kind (only a Region with a model has Serving).
SNAPSHOTS = [(stack, "eu-west-1") for stack in ("data", "network", "training", "serving", "studio")]


@pytest.mark.parametrize(("stack", "region"), SNAPSHOTS, ids=[f"{stack}-{region}" for stack, region in SNAPSHOTS])
def test_stack_snapshot(platform, snapshot_json, region, stack):
    assert stable(platform.template_json(region, stack)) == snapshot_json
