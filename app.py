#!/usr/bin/env python3
"""The ML platform's CDK app: one stage per configured Region, every synth checked for compliance.

This is the only module that reads configuration (the ``platform`` context of cdk.json
and ``-c platform.<path>=<value>`` overrides).
"""

from __future__ import annotations

import sys

import aws_cdk as cdk

from ml_constructs.compliance import add_compliance_packs
from platform_config import ConfigError, PlatformConfig, load_platform_config
from platform_config.naming import stage_name
from stacks.region_stage import RegionStage


def create_app(**props) -> cdk.App:
    """The CDK app. Its templates are checked by cfn-lint after synth (`make synth`, the tests); CDK's
    built-in template validation would check the same again and double the synth time."""
    return cdk.App(builtin_cloud_formation_validation=False, **props)


def build_platform(app: cdk.App, config: PlatformConfig) -> dict[str, RegionStage]:
    """Adds one stage per Region and the compliance packs that check every one of them."""
    stages = {region.region: RegionStage(app, stage_name(region.region), config=region) for region in config.regions}
    add_compliance_packs(app)
    return stages


def main() -> int:
    app = create_app()
    try:
        config = load_platform_config(app.node.get_all_context())
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    try:
        stages = build_platform(app, config)
    except ValueError as error:
        # Constructs validate what the config schema cannot know (e.g. SageMaker's limits per instance type).
        print(error, file=sys.stderr)
        return 1
    for region, stage in stages.items():
        if stage.serving is None:
            print(f"Region {region} has no serving stack: no model configured", file=sys.stderr)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
