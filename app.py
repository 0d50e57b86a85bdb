#!/usr/bin/env python3
"""The ML platform's CDK app: one stage per configured Region, every synth checked for compliance.

This is the only module that reads configuration (the ``platform`` context of cdk.json
and ``-c platform.<path>=<value>`` overrides).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


@contextmanager
def removed_on_failure(outdir: Path) -> Iterator[None]:
    """Constructs stage assets into the output directory as they are built; a synth that fails leaves nothing
    of its own behind there (no staged asset, no half-written assembly), and keeps what was there before."""
    before = set(outdir.iterdir()) if outdir.is_dir() else set()
    existed = outdir.is_dir()
    try:
        yield
    except BaseException:
        if outdir.is_dir():
            for entry in set(outdir.iterdir()) - before:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            if not existed and not any(outdir.iterdir()):
                outdir.rmdir()
        raise


def main(**props) -> int:
    app = create_app(**props)
    try:
        config = load_platform_config(app.node.get_all_context())
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    try:
        with removed_on_failure(Path(app.outdir)):
            stages = build_platform(app, config)
            app.synth()
    except ValueError as error:
        # Constructs validate what the config schema cannot know (e.g. SageMaker's limits per instance type).
        print(error, file=sys.stderr)
        return 1
    for region, stage in stages.items():
        if stage.serving is None:
            print(f"Region {region} has no serving stack: no model configured", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
