"""An isolated VPC where training jobs and endpoints reach AWS only through VPC endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ml_constructs.compliance import acknowledge, acknowledge_inline_policy

# Each is used by something the platform runs in the VPC; none more.
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,  # pipeline steps, model registry
    "SageMakerRuntime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,  # endpoint invocations from the VPC
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,  # image manifest lookups
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,  # image layer pulls
    "CloudWatchLogs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,  # container logs
    "CloudWatchMonitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,  # training metrics
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,  # role credentials
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,  # data keys of volumes, outputs and objects
}
# Only where a Region has them: what Studio's apps need beyond INTERFACE_ENDPOINTS ("Connect Studio notebooks in a VPC
# to external resources", SageMaker developer guide), and what MLflow clients in the VPC reach the tracking server by.
STUDIO_INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SageMakerStudio": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_STUDIO,  # the Studio web app and its apps
    "SageMakerNotebook": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_NOTEBOOK,  # presigned domain URLs
}
EXPERIMENT_TRACKING_INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SageMakerExperiments": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_EXPERIMENTS,  # MLflow tracking servers
}
HTTPS = ec2.Port.tcp(443)


class PrivateNetwork(Construct):
    """A VPC over the given Availability Zones with isolated private subnets only (no NAT, no internet
    gateway), an S3 gateway endpoint, the interface endpoints in ``INTERFACE_ENDPOINTS`` (and those of Studio and
    of experiment tracking where asked for) and encrypted flow logs.

    :param availability_zones: zones to span; at least two so that training and serving survive the loss of one.
    :param key: encrypts the flow-log group.
    :param flow_log_retention: how long flow logs are kept. Default: one year.
    :param cidr: the VPC's address range. Default: 10.40.0.0/16.
    :param removal_policy: applies to the flow-log group. Default: RETAIN.
    :param studio: adds ``STUDIO_INTERFACE_ENDPOINTS``. Default: false.
    :param experiment_tracking: adds ``EXPERIMENT_TRACKING_INTERFACE_ENDPOINTS``. Default: false.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        availability_zones: Sequence[str],
        key: kms.IKey,
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        cidr: str = "10.40.0.0/16",
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        studio: bool = False,
        experiment_tracking: bool = False,
    ) -> None:
        super().__init__(scope, id)
        if len(set(availability_zones)) < 2:
            raise ValueError(
                f"PrivateNetwork needs at least 2 distinct Availability Zones; got {list(availability_zones)}"
            )

        self.vpc: ec2.IVpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=list(availability_zones),
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=20)
            ],
            # Restricting the default group needs a custom-resource Lambda; nothing is ever placed in it instead.
            restrict_default_security_group=False,
        )
        acknowledge(
            self.vpc,
            "NIST.800.53.R5::NIST.800.53.R5-VPCDefaultSecurityGroupClosed",
            "Nothing is placed in the default security group: every workload and endpoint gets its own "
            "least-privilege group. Closing it would need a custom-resource Lambda outside the VPC.",
        )
        acknowledge(
            self.vpc,
            "HIPAA.Security::HIPAA.Security-VPCDefaultSecurityGroupClosed",
            "Nothing is placed in the default security group: every workload and endpoint gets its own "
            "least-privilege group. Closing it would need a custom-resource Lambda outside the VPC.",
        )
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        for subnet in self.vpc.isolated_subnets:
            # The zones are named in the config on purpose, so that synth needs no lookup (cfn-lint W3010).
            cast(ec2.CfnSubnet, subnet.node.default_child).add_metadata(
                "cfn-lint", {"config": {"ignore_checks": ["W3010"]}}
            )

        flow_log_group = logs.LogGroup(
            self, "FlowLogs", encryption_key=key, retention=flow_log_retention, removal_policy=removal_policy
        )
        flow_log = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

        acknowledge_inline_policy(flow_log.node.find_child("IAMRole"))

        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), HTTPS, "HTTPS from workloads in the VPC")

        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[self.subnets])
        endpoints = {
            **INTERFACE_ENDPOINTS,
            **(STUDIO_INTERFACE_ENDPOINTS if studio else {}),
            **(EXPERIMENT_TRACKING_INTERFACE_ENDPOINTS if experiment_tracking else {}),
        }
        for endpoint_id, service in endpoints.items():
            self.vpc.add_interface_endpoint(
                endpoint_id,
                service=service,
                subnets=self.subnets,
                security_groups=[self.endpoint_security_group],
                private_dns_enabled=True,
                open=False,
            )

    def add_workload_security_group(self, scope: Construct, id: str, *, description: str) -> ec2.SecurityGroup:
        """A security group for training jobs or endpoints: no ingress, HTTPS egress only.

        Egress to any address on 443 reaches nothing but the VPC endpoints and S3's gateway endpoint,
        because the isolated subnets have no route to the internet. (S3's prefix-list ID would need a
        synth-time lookup.)
        """
        group = ec2.SecurityGroup(scope, id, vpc=self.vpc, description=description, allow_all_outbound=False)
        group.add_egress_rule(ec2.Peer.any_ipv4(), HTTPS, "AWS APIs through the VPC endpoints")
        return group
