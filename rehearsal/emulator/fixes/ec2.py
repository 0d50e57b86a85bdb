"""EC2: subnet route-table associations, VPC endpoint types, security group egress.

See the package's docstring for the defects each fix repairs."""

from __future__ import annotations

from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.models.security_groups import SecurityGroup
from moto.ec2.models.subnets import SubnetRouteTableAssociation
from moto.ec2.models.vpcs import VPCEndPoint


def ec2_backend(account_id: str, region_name: str) -> Any:
    return ec2_backends[account_id][region_name]


# --- EC2: subnet route-table associations ----------------------------------------------------


def fix_subnet_route_table_association() -> None:
    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> SubnetRouteTableAssociation:
        properties = cloudformation_json["Properties"]
        association = SubnetRouteTableAssociation(properties["RouteTableId"], properties["SubnetId"])  # type: ignore[abstract]
        association.id = ec2_backend(account_id, region_name).associate_route_table(  # type: ignore[attr-defined]
            properties["RouteTableId"], subnet_id=properties["SubnetId"]
        )
        return association

    SubnetRouteTableAssociation.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
    # CloudFormation's physical ID of an association is the association's ID, not the route table's.
    SubnetRouteTableAssociation.physical_resource_id = property(lambda self: self.id)  # type: ignore[assignment]
    SubnetRouteTableAssociation.delete = lambda self, account_id, region_name: ec2_backend(  # type: ignore[attr-defined]
        account_id, region_name
    ).disassociate_route_table(self.id)


# --- EC2: VPC endpoint type ------------------------------------------------------------------


def fix_vpc_endpoint_type() -> None:
    create = VPCEndPoint.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> VPCEndPoint:
        cloudformation_json["Properties"].setdefault("VpcEndpointType", "Gateway")
        return create(cls, resource_name, cloudformation_json, *args, **kwargs)

    VPCEndPoint.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]


# --- EC2: security group egress ---------------------------------------------------------------


def fix_security_group_egress() -> None:
    create = SecurityGroup.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> SecurityGroup:
        group = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        rules = cloudformation_json["Properties"].get("SecurityGroupEgress")
        if rules is not None:
            ec2 = ec2_backend(account_id, region_name)
            ec2.revoke_security_group_egress(group.id, "-1", None, None, [{"CidrIp": "0.0.0.0/0"}])
            for rule in rules:
                ec2.authorize_security_group_egress(
                    group_name_or_id=group.id,
                    ip_protocol=rule["IpProtocol"],
                    from_port=rule.get("FromPort", -1),
                    to_port=rule.get("ToPort", -1),
                    ip_ranges=[{"CidrIp": rule["CidrIp"], "Description": rule.get("Description")}]
                    if "CidrIp" in rule
                    else [],
                    source_groups=[{"GroupId": rule["DestinationSecurityGroupId"]}]
                    if "DestinationSecurityGroupId" in rule
                    else [],
                )
        return group

    SecurityGroup.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]
