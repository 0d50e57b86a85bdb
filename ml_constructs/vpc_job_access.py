"""What a SageMaker execution role needs so that its jobs or endpoints can run inside a VPC."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam

# EC2 authorizes these only on "*": they take no resource ARN.
DESCRIBE_NETWORK_ACTIONS = (
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)

# For acknowledge_wildcard_resources: why the network-interface wildcard is as narrow as EC2 allows.
NETWORK_INTERFACE_WILDCARD_REASONS = {
    ":network-interface/*": "EC2 assigns network interface IDs when SageMaker creates them; creation is limited to "
    "the given subnets and security groups, managing and deleting them to interfaces in this VPC by condition.",
}


def select_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection) -> ec2.SelectedSubnets:
    """``vpc.select_subnets(selection)``, which Python spells with the selection's fields as keywords."""
    return vpc.select_subnets(
        availability_zones=selection.availability_zones,
        one_per_az=selection.one_per_az,
        subnet_filters=selection.subnet_filters,
        subnet_group_name=selection.subnet_group_name,
        subnets=selection.subnets,
        subnet_type=selection.subnet_type,
    )


def grant_vpc_network_interfaces(
    role: iam.IRole, *, vpc: ec2.IVpc, subnet_ids: Sequence[str], security_groups: Sequence[ec2.ISecurityGroup]
) -> None:
    """Lets SageMaker create, with ``role``, the network interfaces of its instances in ``subnet_ids`` with
    ``security_groups``, and manage or delete interfaces in ``vpc`` only.

    The grant has two wildcard resources cdk-nag reports: ``network-interface/*`` (see
    ``NETWORK_INTERFACE_WILDCARD_REASONS``) and ``*`` for ``DESCRIBE_NETWORK_ACTIONS``; the caller
    acknowledges them with the rest of the role's policy.
    """
    stack = Stack.of(role)
    network_interfaces = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="CreateNetworkInterfacesInTheGivenSubnets",
            actions=["ec2:CreateNetworkInterface"],
            resources=[
                network_interfaces,
                *(stack.format_arn(service="ec2", resource="subnet", resource_name=subnet) for subnet in subnet_ids),
                *(
                    stack.format_arn(service="ec2", resource="security-group", resource_name=group.security_group_id)
                    for group in security_groups
                ),
            ],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="ManageNetworkInterfacesOfTheVpc",
            actions=[
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
            ],
            resources=[network_interfaces],
            conditions={
                "ArnEquals": {"ec2:Vpc": stack.format_arn(service="ec2", resource="vpc", resource_name=vpc.vpc_id)}
            },
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(sid="DescribeTheNetwork", actions=list(DESCRIBE_NETWORK_ACTIONS), resources=["*"])
    )
