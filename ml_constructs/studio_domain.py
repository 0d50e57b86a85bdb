"""The Region's SageMaker Studio domain: private to the VPC, encrypted with the Region's key, idle apps shut down."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.resource_names import synth_time_name
from ml_constructs.studio_props import MIN_IDLE_TIMEOUT_MINUTES, StudioDomainProps, studio_name_problems
from ml_constructs.vpc_job_access import (
    NETWORK_INTERFACE_WILDCARD_REASONS,
    grant_vpc_network_interfaces,
    select_subnets,
)
from ml_constructs.wildcard_acknowledgment import acknowledge_wildcard_resources
from platform_contract.personas import Persona
from platform_contract.problems import Problem, raise_if_any

# Traffic between the members of the domain's security group ("Connect Studio notebooks in a VPC to external
# resources", SageMaker developer guide): NFS to the home EFS volume, and the ports Studio's apps talk to each other on.
STUDIO_INTERNAL_TRAFFIC = (
    (ec2.Port.tcp(2049), "NFS between Studio apps and the domain's home EFS volume"),
    (ec2.Port.tcp_range(8192, 65535), "Between the Studio apps of the domain"),
)


class StudioDomain(Construct):
    """A Studio domain with IAM authentication whose apps run only in the given private subnets (``VpcOnly``: they
    reach AWS through the VPC endpoints, never the internet), in a security group of their own; its home EFS volume
    and apps' storage are encrypted with ``key``; JupyterLab apps shut down after the idle time of ``props``.

    Apps run with the data scientist's role unless a user profile names another persona.

    State: the domain owns the home EFS volume, where users keep their notebooks. It is retained when removed from
    its stack (SageMaker keeps the volume when a domain is deleted anyway; retaining the domain keeps it attached),
    and its logical ID never changes.

    :param vpc: where the apps run. Required.
    :param vpc_subnets: the apps' subnets (private ones). Required.
    :param security_group: the apps' security group; the construct lets its members reach each other as Studio needs
        (``STUDIO_INTERNAL_TRAFFIC``). Required.
    :param key: encrypts the home EFS volume and the apps' storage. Required.
    :param roles: the role each persona's apps run with; data_scientist is the domain's default. Required.
    :param props: name, idle shutdown and user profiles; see ``StudioDomainProps``. Default: its defaults.
    :param removal_policy: of the domain. Default: RETAIN.

    Raises ``InvalidInput`` once, with every problem of the props, each keyed by its field.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        key: kms.IKey,
        roles: Mapping[Persona, iam.Role],
        props: StudioDomainProps = StudioDomainProps(),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        name, name_problems = synth_time_name(
            self,
            props.domain_name,
            "studio",
            "domain_name",
            lambda default: studio_name_problems("domain_name", default),
        )
        problems = props.problems() + name_problems
        missing = sorted({Persona.DATA_SCIENTIST, *(profile.persona for profile in props.user_profiles)} - set(roles))
        problems += [Problem("roles", persona.value, "a role for every persona the domain uses") for persona in missing]
        raise_if_any(f"StudioDomain {self.node.path}", problems)
        self.domain_name = name

        for port, purpose in STUDIO_INTERNAL_TRAFFIC:
            security_group.connections.allow_internally(port, purpose)
        subnet_ids = select_subnets(vpc, vpc_subnets).subnet_ids
        # SageMaker creates the apps' network interfaces with the role the app runs with.
        for persona in sorted({Persona.DATA_SCIENTIST, *(profile.persona for profile in props.user_profiles)}):
            grant_vpc_network_interfaces(
                roles[persona], vpc=vpc, subnet_ids=subnet_ids, security_groups=[security_group]
            )
            acknowledge_wildcard_resources(
                roles[persona],
                {
                    "*": "The ec2:Describe* calls SageMaker makes for the VPC support no resource-level permissions.",
                    **NETWORK_INTERFACE_WILDCARD_REASONS,
                },
            )

        def user_settings(persona: Persona) -> dict[str, Any]:
            """What a user profile sets of UserSettings (jsii reads a struct given as a mapping by camel-case keys);
            the rest, idle shutdown included, it takes from the domain's defaults."""
            return {"executionRole": roles[persona].role_arn, "securityGroups": [security_group.security_group_id]}

        self.domain = sagemaker.CfnDomain(
            self,
            "Resource",
            domain_name=name,
            auth_mode="IAM",
            app_network_access_type="VpcOnly",
            vpc_id=vpc.vpc_id,
            subnet_ids=subnet_ids,
            kms_key_id=key.key_arn,
            default_user_settings={
                **user_settings(Persona.DATA_SCIENTIST),
                "studioWebPortal": "ENABLED",
                "defaultLandingUri": "studio::",
                "jupyterLabAppSettings": {
                    "appLifecycleManagement": {
                        "idleSettings": {
                            "lifecycleManagement": "ENABLED",
                            "idleTimeoutInMinutes": props.idle_timeout_minutes,
                            "minIdleTimeoutInMinutes": MIN_IDLE_TIMEOUT_MINUTES,
                            "maxIdleTimeoutInMinutes": props.max_idle_timeout_minutes,
                        }
                    }
                },
            },
            default_space_settings={
                "executionRole": roles[Persona.DATA_SCIENTIST].role_arn,
                "securityGroups": [security_group.security_group_id],
            },
        )
        self.domain.apply_removal_policy(removal_policy)
        # SageMaker checks the execution roles, and creates network interfaces with them, as it creates the domain.
        self.domain.node.add_dependency(*(roles[persona] for persona in sorted(set(roles))))
        self.domain_id = self.domain.attr_domain_id

        self.user_profiles: dict[str, sagemaker.CfnUserProfile] = {}
        for profile in props.user_profiles:
            user_profile = sagemaker.CfnUserProfile(
                self,
                f"UserProfile{profile.name}",
                domain_id=self.domain_id,
                user_profile_name=profile.name,
                user_settings=user_settings(profile.persona),
            )
            self.user_profiles[profile.name] = user_profile
