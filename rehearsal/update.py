"""The updates the rehearsal deploys: a new model version, promoted by mlp, and one setting per stack
changed on the command line, as a user would.

Each update names the resource property its setting must change. The rehearsal checks that the
synthesized template really changed there, and (through the per-type checks) that the deployed
resource now matches the new template.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_config import load_platform_config
from platform_config.settings import RegionSettings
from platform_contract.limits import LOG_RETENTION_DAYS
from rehearsal.assembly import StageAssembly


@dataclass(frozen=True)
class Update:
    stack: str
    """Short name of the stack the setting changes."""
    setting: str
    """Dotted path of a Region setting, e.g. serving.max_capacity."""
    new_value: Callable[[RegionSettings], Any]
    """The setting's new value, from its effective current one."""
    resource_type: str
    property: str
    """What the change must show up in."""

    def override(self, region: str, settings: RegionSettings) -> tuple[str, Any]:
        return f"platform.regions.{region}.{self.setting}", self.new_value(settings)

    def changes(self, before: StageAssembly, after: StageAssembly) -> list[tuple[str, Any, Any]]:
        """(logical ID, old value, new value) of each resource whose property the update changed."""
        old, new = before.stack(self.stack), after.stack(self.stack)
        assert old is not None and new is not None
        changed = []
        for logical_id, definition in new.template["Resources"].items():
            if definition["Type"] == self.resource_type:
                previous = old.template["Resources"].get(logical_id, {}).get("Properties", {}).get(self.property)
                current = definition.get("Properties", {}).get(self.property)
                if previous != current:
                    changed.append((logical_id, previous, current))
        return changed


FIXED_FLEET = 2
"""Instances of the Serving update's fleet without autoscaling: enough to split into a canary."""


def _next_retention(days: int) -> int:
    index = LOG_RETENTION_DAYS.index(days)
    return LOG_RETENTION_DAYS[index + 1] if index + 1 < len(LOG_RETENTION_DAYS) else LOG_RETENTION_DAYS[index - 1]


UPDATES: tuple[Update, ...] = (
    Update(
        "Data",
        "data.noncurrent_version_expiration_days",
        lambda s: s.data.noncurrent_version_expiration_days + 30,
        "AWS::S3::Bucket",
        "LifecycleConfiguration",
    ),
    Update(
        "Network",
        "log_retention_days",
        lambda s: _next_retention(s.log_retention_days),
        "AWS::Logs::LogGroup",
        "RetentionInDays",
    ),
    Update(
        "Training",
        "training.quality_gate.threshold",
        lambda s: round(s.training.quality_gate.threshold * 1.1, 4),
        "AWS::SageMaker::Pipeline",
        "PipelineDefinition",
    ),
    # An endpoint that scales to zero (dev) goes back to serving its model on the variant, which the fixed fleet
    # below needs: scale to zero autoscales whatever the capacities.
    Update(
        "Serving",
        "serving.scale_to_zero",
        lambda s: False,
        "AWS::SageMaker::EndpointConfig",
        "ExecutionRoleArn",
    ),
    # A fleet without autoscaling (max = min) of two instances: its count now comes from the template.
    Update(
        "Serving",
        "serving.min_capacity",
        lambda s: FIXED_FLEET,
        "AWS::SageMaker::EndpointConfig",
        "ProductionVariants",
    ),
    Update(
        "Serving",
        "serving.max_capacity",
        lambda s: FIXED_FLEET,
        "AWS::SageMaker::Endpoint",
        "ExcludeRetainedVariantProperties",
    ),
    Update(
        "Serving",
        "alarms.model_latency_p99_ms",
        lambda s: s.alarms.model_latency_p99_ms * 2,
        "AWS::CloudWatch::Alarm",
        "Threshold",
    ),
)
"""Updates of the stacks a stage has, each deployed with ``-c`` on the command line."""

MODEL_PACKAGE = "serving.model_package_arn"
"""The setting mlp promote records in cdk.json: a new model version for the Serving stack."""


def region_settings(region: str, cdk_json: Path) -> RegionSettings:
    """The Region's effective settings in a cdk.json's config (defaults, preset and overrides merged)."""
    context = json.loads(cdk_json.read_text())["context"]
    config = load_platform_config(context)
    return next(r.settings for r in config.regions if r.region == region)
