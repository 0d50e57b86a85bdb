"""Studio's and experiment tracking's types are created, read back, updated and deleted for real, and refused as
SageMaker refuses them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from rehearsal.tests.support import REGION, Stacks

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/any"


def _network() -> dict[str, Any]:
    return {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.50.0.0/16"}},
        "Subnet": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.50.0.0/20", "AvailabilityZone": f"{REGION}a"},
        },
        "Group": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "studio", "VpcId": {"Ref": "Vpc"}},
        },
    }


def _domain(name: str, idle_minutes: int, **overrides: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::SageMaker::Domain",
        "Properties": {
            "DomainName": name,
            "AuthMode": "IAM",
            "AppNetworkAccessType": "VpcOnly",
            "VpcId": {"Ref": "Vpc"},
            "SubnetIds": [{"Ref": "Subnet"}],
            "DefaultUserSettings": {
                "ExecutionRole": ROLE,
                "SecurityGroups": [{"Fn::GetAtt": ["Group", "GroupId"]}],
                "JupyterLabAppSettings": {
                    "AppLifecycleManagement": {
                        "IdleSettings": {
                            "LifecycleManagement": "ENABLED",
                            "IdleTimeoutInMinutes": idle_minutes,
                            "MinIdleTimeoutInMinutes": 60,
                            "MaxIdleTimeoutInMinutes": 480,
                        }
                    }
                },
            },
            **overrides,
        },
    }


def _profile(name: str) -> dict[str, Any]:
    return {
        "Type": "AWS::SageMaker::UserProfile",
        "Properties": {
            "DomainId": {"Ref": "Domain"},
            "UserProfileName": name,
            "UserSettings": {"ExecutionRole": ROLE},
        },
    }


def _failure(stacks: Stacks, name: str) -> str:
    events = stacks.cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    return next(
        event["ResourceStatusReason"]
        for event in events
        if event["ResourceStatus"].endswith("_FAILED") and event.get("ResourceType") != "AWS::CloudFormation::Stack"
    )


def test_domain_and_user_profile(stacks: Stacks) -> None:
    name, domain_name = stacks.unique_name(), stacks.unique_name("studio")
    resources = {**_network(), "Domain": _domain(domain_name, 120), "Ada": _profile("ada")}
    outputs = {"Url": {"Value": {"Fn::GetAtt": ["Domain", "Url"]}}}
    assert stacks.deploy(name, resources, Outputs=outputs)["StackStatus"] == "CREATE_COMPLETE"
    sagemaker = stacks.client("sagemaker")
    domain_id = stacks.physical_ids(name)["Domain"]
    described = sagemaker.describe_domain(DomainId=domain_id)
    assert (described["DomainName"], described["AppNetworkAccessType"]) == (domain_name, "VpcOnly")
    profile = sagemaker.describe_user_profile(DomainId=domain_id, UserProfileName="ada")
    assert profile["UserSettings"]["ExecutionRole"] == ROLE
    assert all(stacks.backed(name)[key] for key in ("Domain", "Ada"))

    stacks.deploy(name, {**resources, "Domain": _domain(domain_name, 240)})
    assert stacks.physical_ids(name)["Domain"] == domain_id, "an idle-time change updates the domain in place"

    assert stacks.delete(name) == "DELETE_COMPLETE"
    assert domain_id not in [domain["DomainId"] for domain in sagemaker.list_domains()["Domains"]]


def test_domains_are_refused_as_sagemaker_refuses_them(stacks: Stacks) -> None:
    cases = {
        "idle timeout below 60": (_domain(stacks.unique_name("studio"), 30), "IdleTimeoutInMinutes: 30 is below 60"),
        "VpcOnly without security groups": (
            _domain(stacks.unique_name("studio"), 120, DefaultUserSettings={"ExecutionRole": ROLE}),
            "a VpcOnly domain needs DefaultUserSettings.SecurityGroups",
        ),
        "a bad name": (_domain("studio_one", 120), "DomainName: 'studio_one' does not match"),
    }
    for what, (domain, reason) in cases.items():
        name = stacks.unique_name()
        assert stacks.deploy(name, {**_network(), "Domain": domain})["StackStatus"] == "CREATE_FAILED", what
        assert reason in _failure(stacks, name), what


def test_a_user_profile_needs_its_domain_and_a_free_name(stacks: Stacks) -> None:
    name = stacks.unique_name()
    orphan = {"Type": "AWS::SageMaker::UserProfile", "Properties": {"DomainId": "d-missing", "UserProfileName": "ada"}}
    assert stacks.deploy(name, {"Ada": orphan})["StackStatus"] == "CREATE_FAILED"
    assert "Domain d-missing does not exist" in _failure(stacks, name)


def _tracking_server(name: str, bucket: Any, size: str = "Small") -> dict[str, Any]:
    return {
        "Type": "AWS::SageMaker::MlflowTrackingServer",
        "Properties": {
            "TrackingServerName": name,
            "ArtifactStoreUri": {"Fn::Join": ["", ["s3://", bucket, "/mlflow/"]]},
            "RoleArn": ROLE,
            "TrackingServerSize": size,
        },
    }


def test_mlflow_tracking_server(stacks: Stacks) -> None:
    name, server = stacks.unique_name(), stacks.unique_name("mlflow")
    bucket = {"Type": "AWS::S3::Bucket", "Properties": {}}
    outputs = {"Arn": {"Value": {"Fn::GetAtt": ["Server", "TrackingServerArn"]}}}
    described = stacks.deploy(
        name, {"Bucket": bucket, "Server": _tracking_server(server, {"Ref": "Bucket"})}, Outputs=outputs
    )
    assert described["StackStatus"] == "CREATE_COMPLETE"
    sagemaker = stacks.client("sagemaker")
    tracking = sagemaker.describe_mlflow_tracking_server(TrackingServerName=server)
    assert tracking["TrackingServerArn"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/{server}"
    assert tracking["ArtifactStoreUri"].endswith("/mlflow/")
    assert stacks.backed(name) == {"Server": True}

    stacks.deploy(name, {"Bucket": bucket, "Server": _tracking_server(server, {"Ref": "Bucket"}, "Medium")})
    assert sagemaker.describe_mlflow_tracking_server(TrackingServerName=server)["TrackingServerSize"] == "Medium"
    assert stacks.delete(name) == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="does not exist"):
        sagemaker.describe_mlflow_tracking_server(TrackingServerName=server)


def test_tracking_servers_are_refused_as_sagemaker_refuses_them(stacks: Stacks) -> None:
    name = stacks.unique_name()
    assert stacks.deploy(name, {"Server": _tracking_server("x", "no-such-bucket", "Huge")})["StackStatus"] == (
        "CREATE_FAILED"
    )
    assert "TrackingServerSize: 'Huge' is not one of ['Small', 'Medium', 'Large']" in _failure(stacks, name)
    name = stacks.unique_name()
    assert stacks.deploy(name, {"Server": _tracking_server("y", "no-such-bucket")})["StackStatus"] == "CREATE_FAILED"
    assert "bucket no-such-bucket does not exist" in _failure(stacks, name)
