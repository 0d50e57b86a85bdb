"""The private network of each Region: isolated subnets, VPC endpoints, least-privilege groups, flow logs."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from ml_constructs import DataStore, PrivateNetwork
from tests.conftest import shipped_context

EXPECTED_INTERFACE_SERVICES = {
    "sagemaker.api",
    "sagemaker.runtime",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "monitoring",
    "sts",
    "kms",
}


@pytest.fixture(scope="module")
def network(platform) -> Template:
    return platform.template("eu-west-1", "network")


def test_subnets_are_isolated_and_span_the_configured_zones(platform, network):
    subnets = network.find_resources("AWS::EC2::Subnet")
    zones = sorted(subnet["Properties"]["AvailabilityZone"] for subnet in subnets.values())
    assert zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert all(subnet["Properties"]["MapPublicIpOnLaunch"] is False for subnet in subnets.values())
    us_zones = sorted(
        subnet["Properties"]["AvailabilityZone"]
        for subnet in platform.template("us-east-1", "network").find_resources("AWS::EC2::Subnet").values()
    )
    assert us_zones == ["us-east-1a", "us-east-1b"]


def test_there_is_no_way_to_the_internet(network):
    for resource_type in (
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::VPCGatewayAttachment",
    ):
        network.resource_count_is(resource_type, 0)
    for route in network.find_resources("AWS::EC2::Route").values():
        assert "GatewayId" not in route["Properties"] and "NatGatewayId" not in route["Properties"]


def test_exactly_the_needed_endpoints_exist(network):
    endpoints = network.find_resources("AWS::EC2::VPCEndpoint")
    services, gateways = set(), []
    for endpoint in endpoints.values():
        properties = endpoint["Properties"]
        if properties.get("VpcEndpointType") == "Interface":
            assert properties["PrivateDnsEnabled"] is True
            services.add(_service(properties["ServiceName"]))
        else:
            gateways.append(_service(properties["ServiceName"]))
    assert services == EXPECTED_INTERFACE_SERVICES
    assert gateways == ["s3"]


def _service(name) -> str:
    """'com.amazonaws.<region>.<service>' (possibly joined with a Region token) -> '<service>'."""
    if isinstance(name, dict):
        name = "".join(part if isinstance(part, str) else "<region>" for part in name["Fn::Join"][1])
    return name.split(".", 3)[-1]


def test_endpoints_accept_https_from_the_vpc_only(network):
    groups = network.find_resources("AWS::EC2::SecurityGroup")
    for group in groups.values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert rule["CidrIp"] != "0.0.0.0/0"
    network.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": "VPC interface endpoints: HTTPS from inside the VPC only",
            "SecurityGroupIngress": [
                Match.object_like({"CidrIp": "10.40.0.0/16", "FromPort": 443, "ToPort": 443, "IpProtocol": "tcp"})
            ],
            "SecurityGroupEgress": [Match.object_like({"CidrIp": "255.255.255.255/32"})],
        },
    )


def test_flow_logs_capture_everything_into_an_encrypted_log_group_with_retention(network):
    network.has_resource_properties(
        "AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}
    )
    network.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"RetentionInDays": 365, "KmsKeyId": Match.any_value()},
            "DeletionPolicy": "Retain",
        },
    )


def test_network_refers_only_to_its_own_regions_key(platform):
    stage = platform.stages["us-east-1"]
    for dependency in stage.network.dependencies:
        assert dependency.region == "us-east-1"


def _network_stack(**props) -> PrivateNetwork:
    stack = cdk.Stack(cdk.App(context=shipped_context()), "NetworkTest", env=cdk.Environment(region="eu-west-1"))
    return PrivateNetwork(stack, "Network", key=DataStore(stack, "Store").key, **props)


def test_one_zone_is_refused():
    with pytest.raises(
        ValueError,
        match=r"PrivateNetwork needs at least 2 distinct Availability Zones; got \['eu-west-1a', 'eu-west-1a'\]",
    ):
        _network_stack(availability_zones=["eu-west-1a", "eu-west-1a"])


def test_workload_groups_have_no_ingress_and_https_egress_only():
    network = _network_stack(availability_zones=["eu-west-1a", "eu-west-1b"])
    network.add_workload_security_group(network, "Workload", description="test workload")
    template = Template.from_stack(cdk.Stack.of(network))
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": "test workload",
            "SecurityGroupEgress": [
                {
                    "CidrIp": "0.0.0.0/0",
                    "Description": "AWS APIs through the VPC endpoints",
                    "FromPort": 443,
                    "ToPort": 443,
                    "IpProtocol": "tcp",
                }
            ],
            "SecurityGroupIngress": Match.absent(),
        },
    )
