"""The Network stack: an isolated VPC that reaches AWS through VPC endpoints only, with encrypted flow logs."""

from __future__ import annotations

from collections.abc import Mapping

from rehearsal.checks.base import DeployedStack, Verifier
from rehearsal.checks.data import region_key_arn


def verify(network: DeployedStack, stage: Mapping[str, DeployedStack], verify: Verifier) -> None:
    ec2 = network.client("ec2")
    vpc_logical_id, _ = network.only("AWS::EC2::VPC")
    vpc_id = network.physical_id(vpc_logical_id)
    on_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    verify.equal(
        ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"],
        [],
        "no internet gateway",
    )
    verify.equal(ec2.describe_nat_gateways(Filters=on_vpc)["NatGateways"], [], "no NAT gateway")
    subnets = ec2.describe_subnets(Filters=on_vpc)["Subnets"]
    verify.true(len({s["AvailabilityZone"] for s in subnets}) >= 2, "subnets span at least two Availability Zones")
    verify.true(not any(s["MapPublicIpOnLaunch"] for s in subnets), "no subnet hands out public IPs")

    endpoints = ec2.describe_vpc_endpoints(Filters=on_vpc)["VpcEndpoints"]
    services = {e["ServiceName"].rsplit(".", 1)[-1]: e for e in endpoints if e["State"].lower() != "deleted"}
    verify.equal(services.get("s3", {}).get("VpcEndpointType"), "Gateway", "S3 gateway endpoint")
    subnet_tables = {
        t["RouteTableId"]
        for t in ec2.describe_route_tables(Filters=on_vpc)["RouteTables"]
        if any(a.get("SubnetId") for a in t["Associations"])
    }
    verify.equal(
        set(services.get("s3", {}).get("RouteTableIds", [])),
        subnet_tables,
        "S3 gateway endpoint on every subnet's route table",
    )
    interface = [e for e in endpoints if e["VpcEndpointType"] == "Interface"]
    verify.equal(
        len(interface), len(network.of_type("AWS::EC2::VPCEndpoint")) - 1, "every interface endpoint of the template"
    )
    verify.true(all(e.get("PrivateDnsEnabled") for e in interface), "interface endpoints resolve AWS names privately")

    flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    verify.equal([f["TrafficType"] for f in flow_logs], ["ALL"], "one flow log of all traffic")
    if flow_logs:
        group = flow_logs[0]["LogGroupName"]
        groups = network.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        verify.equal(
            [g.get("kmsKeyId") for g in groups if g["logGroupName"] == group],
            [region_key_arn(stage["Data"])],
            "flow logs encrypted with the Region's key",
        )
