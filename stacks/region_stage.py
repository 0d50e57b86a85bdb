"""One Region of the platform: every stack it needs, deployable on its own."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from platform_config import RegionConfig
from platform_config.naming import platform_tag
from stacks.data_stack import DataStack
from stacks.network_stack import NetworkStack
from stacks.serving_stack import ServingStack
from stacks.studio_stack import StudioStack
from stacks.training_stack import TrainingStack


class RegionStage(Stage):
    """All stacks of one Region. Nothing in it refers to another Region."""

    def __init__(self, scope: Construct, id: str, *, config: RegionConfig) -> None:
        super().__init__(scope, id, env=Environment(account=config.account, region=config.region))
        self.data = DataStack(
            self,
            "Data",
            config=config,
            description=f"ML platform data, keys, alerts and model registry ({config.region})",
        )
        self.network = NetworkStack(
            self,
            "Network",
            config=config,
            key=self.data.data_store.key,
            description=f"ML platform private network ({config.region})",
        )
        self.training = TrainingStack(
            self,
            "Training",
            config=config,
            data_store=self.data.data_store,
            registry=self.data.registry,
            alerts=self.data.alerts,
            network=self.network.network,
            tracking=self.data.tracking,
            description=f"ML platform training pipeline ({config.region})",
        )
        self.studio = StudioStack(
            self,
            "Studio",
            config=config,
            data_store=self.data.data_store,
            registry=self.data.registry,
            network=self.network.network,
            pipeline_name=self.training.pipeline.pipeline_name,
            tracking=self.data.tracking,
            description=f"ML platform personas and Studio ({config.region})",
        )
        serving = config.settings.serving
        # A Region serves only once its config names a model; until then it has no serving stack.
        self.serving: ServingStack | None = None
        if serving.model_package_arn or serving.model_data_url:
            self.serving = ServingStack(
                self,
                "Serving",
                config=config,
                data_store=self.data.data_store,
                alerts=self.data.alerts,
                network=self.network.network,
                pipeline=self.training.pipeline,
                description=f"ML platform model serving ({config.region})",
            )
        # The platform's cost-allocation tag: the Region's budget and `mlp cost` select the Region's costs by it.
        platform_key, platform_value = platform_tag(config.region)
        for key, value in sorted({**config.settings.tags, platform_key: platform_value}.items()):
            Tags.of(self).add(key, value)
