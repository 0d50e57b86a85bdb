"""The Region's private network, shared by training and serving."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from ml_constructs import PrivateNetwork
from ml_constructs.log_retention import retention_days
from platform_config import RegionConfig


class NetworkStack(Stack):
    """An isolated VPC over the Region's configured Availability Zones, with VPC endpoints and flow logs."""

    def __init__(self, scope: Construct, id: str, *, config: RegionConfig, key: kms.IKey, **kwargs) -> None:
        super().__init__(scope, id, termination_protection=config.is_prod, **kwargs)
        self._zones = list(config.availability_zones)
        self.network = PrivateNetwork(
            self,
            "Network",
            availability_zones=config.availability_zones,
            key=key,
            flow_log_retention=retention_days(config.settings.log_retention_days),
            studio=config.settings.studio.enabled,
            experiment_tracking=config.settings.experiments.enabled,
        )

    @property
    def availability_zones(self) -> list[str]:
        """The configured zones: with an account set, CDK would otherwise look them up during synth."""
        return self._zones
