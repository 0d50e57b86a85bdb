"""One Region of the platform: every stack it needs, deployable on its own."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from platform_config import RegionConfig
from stacks.data_stack import DataStack
from stacks.network_stack import NetworkStack


class RegionStage(Stage):
    """All stacks of one Region. Nothing in it refers to another Region."""

    def __init__(self, scope: Construct, id: str, *, config: RegionConfig) -> None:
        super().__init__(scope, id, env=Environment(account=config.account, region=config.region))
        self.data = DataStack(self, "Data", config=config, description=f"ML platform data, keys and alerts ({config.region})")
        self.network = NetworkStack(
            self, "Network", config=config, key=self.data.data_store.key,
            description=f"ML platform private network ({config.region})",
        )  # fmt: skip
        for key, value in sorted(config.settings.tags.items()):
            Tags.of(self).add(key, value)
