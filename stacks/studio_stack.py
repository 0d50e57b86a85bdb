"""The people of a Region: their roles and, where the config enables it, their Studio domain."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from ml_constructs import DataStore, ExperimentTracking, ModelRegistry, Personas, PrivateNetwork, StudioDomain
from platform_config import RegionConfig
from platform_config.naming import stack_name, stage_name
from platform_contract.names import Output, StackId
from platform_contract.personas import PERSONA_OUTPUTS


class StudioStack(Stack):
    """The persona roles (always) and the Studio domain with its user profiles (``studio.enabled``).

    Its own stack, because the domain is stateful (it owns the home EFS volume with the users' notebooks) yet needs
    the VPC: the Data stack cannot hold it (the Network stack depends on the Data stack's key), and the Training
    stack is stateless and may be destroyed and created again. The domain is retained when the stack is deleted and
    its logical ID never changes; the roles and the security group are replaced freely. The MLflow tracking server,
    also state but without a network, lives in the Data stack.

    :param pipeline_name: the Region's training pipeline, which the data scientist and the operator start.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: RegionConfig,
        data_store: DataStore,
        registry: ModelRegistry,
        network: PrivateNetwork,
        pipeline_name: str,
        tracking: ExperimentTracking | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, termination_protection=config.is_prod, **kwargs)
        self.personas = Personas(
            self,
            "Personas",
            data_store=data_store,
            registry=registry,
            pipeline_name=pipeline_name,
            serving_stack_name=stack_name(config.region, StackId.SERVING),
            stack_name_prefix=stage_name(config.region),
            tracking=tracking,
        )
        for persona, output in PERSONA_OUTPUTS.items():
            CfnOutput(self, output.value, value=self.personas.role(persona).role_arn)
        studio = config.settings.studio
        self.domain: StudioDomain | None = None
        if studio.enabled:
            self.domain = StudioDomain(
                self,
                "Domain",
                vpc=network.vpc,
                vpc_subnets=network.subnets,
                security_group=network.add_workload_security_group(
                    self,
                    "StudioSecurityGroup",
                    description="SageMaker Studio apps: HTTPS egress, NFS and app traffic within",
                ),
                key=data_store.key,
                roles=self.personas.roles,
                props=studio.domain_props(),
            )
            CfnOutput(self, Output.DOMAIN_ID.value, value=self.domain.domain_id)
