"""Each fix of the extension, shown through the AWS APIs of the emulator on loopback."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from moto.iam.access_control import PermissionResult

from rehearsal.emulator.fixes.s3 import evaluate_bucket_policy
from rehearsal.tests.support import Stacks

ROLE = "arn:aws:iam::123456789012:role/any"
SSL_ONLY = [
    {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    },
    {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}},
    },
]


# CloudFormation


def test_json_and_yaml_templates_are_both_read(stacks: Stacks) -> None:
    """JSON templates (the CDK's) take JSON's parser; a YAML one, short-form functions and all, still deploys."""
    outputs = {}
    for form, body in (
        (
            "json",
            json.dumps(
                {
                    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                    "Outputs": {"Name": {"Value": {"Fn::GetAtt": ["Topic", "TopicName"]}}},
                }
            ),
        ),
        (
            "yaml",
            "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\nOutputs:\n  Name:\n    Value: !GetAtt Topic.TopicName\n",
        ),
    ):
        name = stacks.unique_name(form)
        change_set = stacks.cloudformation.create_change_set(
            StackName=name, ChangeSetName="cdk-deploy-change-set", TemplateBody=body, ChangeSetType="CREATE"
        )
        stacks.cloudformation.execute_change_set(ChangeSetName=change_set["Id"], StackName=name)
        described = stacks.cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        assert described["StackStatus"] == "CREATE_COMPLETE", (form, described)
        outputs[form] = described["Outputs"][0]["OutputValue"]
    assert outputs["json"].startswith("json-") and outputs["yaml"].startswith("yaml-"), outputs


def test_execute_change_set_computes_outputs_and_exports(stacks: Stacks) -> None:
    name = stacks.unique_name()
    described = stacks.deploy(
        name,
        {"Bucket": {"Type": "AWS::S3::Bucket"}},
        Outputs={"BucketName": {"Value": {"Ref": "Bucket"}, "Export": {"Name": f"{name}-bucket"}}},
    )
    bucket = stacks.physical_ids(name)["Bucket"]
    assert described["Outputs"] == [{"OutputKey": "BucketName", "OutputValue": bucket, "ExportName": f"{name}-bucket"}]
    exports = stacks.cloudformation.list_exports()["Exports"]
    assert {"Name": f"{name}-bucket", "Value": bucket} in [{"Name": e["Name"], "Value": e["Value"]} for e in exports]


def test_a_failing_resource_fails_the_stack_and_names_itself(stacks: Stacks) -> None:
    name = stacks.unique_name()
    described = stacks.deploy(
        name,
        {
            "Pager": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": "arn:aws:sns:eu-west-1:123456789012:no-such-topic",
                    "Protocol": "email",
                    "Endpoint": "a@example.com",
                },
            }
        },
    )
    assert described["StackStatus"] == "CREATE_FAILED"
    assert "Pager" in described["StackStatusReason"]
    events = stacks.cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    assert ("Pager", "CREATE_FAILED") in [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events]


def test_change_sets_are_found_per_stack_and_missing_ones_are_not_found(stacks: Stacks) -> None:
    first, second = stacks.unique_name(), stacks.unique_name()
    cloudformation = stacks.cloudformation
    for name in (first, second):
        stacks.deploy(name, {"Topic": {"Type": "AWS::SNS::Topic"}})
        cloudformation.create_change_set(
            StackName=name,
            ChangeSetName="pending",
            ChangeSetType="UPDATE",
            TemplateBody=json.dumps(
                {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "Other": {"Type": "AWS::SNS::Topic"}}}
            ),
        )
    assert cloudformation.describe_change_set(ChangeSetName="pending", StackName=second)["StackName"] == second

    cloudformation.delete_change_set(ChangeSetName="pending", StackName=first)
    cloudformation.delete_change_set(ChangeSetName="pending", StackName=first)  # gone already: AWS accepts it
    with pytest.raises(ClientError) as missing:
        cloudformation.describe_change_set(ChangeSetName="pending", StackName=first)
    assert missing.value.response["Error"]["Code"] == "ChangeSetNotFound"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert cloudformation.describe_change_set(ChangeSetName="pending", StackName=second)["Status"] == "CREATE_COMPLETE"


def test_an_update_keeps_an_ssm_typed_parameter_by_its_previous_value(stacks: Stacks) -> None:
    name = stacks.unique_name()
    stacks.client("ssm").put_parameter(Name=f"/{name}/version", Value="30", Type="String")
    parameters = {"Version": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": f"/{name}/version"}}
    stacks.deploy(name, {"Topic": {"Type": "AWS::SNS::Topic"}}, Parameters=parameters)
    change_set = stacks.cloudformation.create_change_set(
        StackName=name,
        ChangeSetName="update",
        ChangeSetType="UPDATE",
        TemplateBody=json.dumps(
            {
                "Parameters": parameters,
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "More": {"Type": "AWS::SNS::Topic"}},
            }
        ),
        Parameters=[{"ParameterKey": "Version", "UsePreviousValue": True}],
    )
    stacks.cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
    described = stacks.cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    assert described["StackStatus"] == "UPDATE_COMPLETE"
    assert described["Parameters"][0]["ParameterValue"] == "30"


def test_get_stack_output_resolves_another_stacks_output(stacks: Stacks) -> None:
    producer, consumer = stacks.unique_name(), stacks.unique_name()
    stacks.deploy(
        producer,
        {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": []}}}},
        Outputs={"KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}},
    )
    stacks.deploy(
        consumer,
        {
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "KmsKeyId": {
                        "Fn::GetStackOutput": {"StackName": producer, "Region": "eu-west-1", "OutputName": "KeyArn"}
                    }
                },
            }
        },
    )
    key_arn = stacks.cloudformation.describe_stacks(StackName=producer)["Stacks"][0]["Outputs"][0]["OutputValue"]
    group = stacks.client("logs").describe_log_groups(logGroupNamePrefix=stacks.physical_ids(consumer)["Logs"])[
        "logGroups"
    ][0]
    assert group["kmsKeyId"] == key_arn


def test_an_update_moto_cannot_apply_fails_instead_of_dropping_the_resource(stacks: Stacks) -> None:
    name = stacks.unique_name()
    stacks.deploy(name, {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16"}}})
    described = stacks.deploy(name, {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.2.0.0/16"}}})
    assert described["StackStatus"] == "UPDATE_FAILED"
    assert "cannot update AWS::EC2::VPC in place" in described["StackStatusReason"]
    assert "Vpc" in stacks.physical_ids(name)


def _model_and_config(image: str) -> dict:
    return {
        "Model": {
            "Type": "AWS::SageMaker::Model",
            "Properties": {"ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": image}},
        },
        "Config": {
            "Type": "AWS::SageMaker::EndpointConfig",
            "Properties": {
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
                        "InstanceType": "ml.m5.large",
                        "InitialInstanceCount": 1,
                        "InitialVariantWeight": 1,
                    }
                ]
            },
        },
        "Endpoint": {
            "Type": "AWS::SageMaker::Endpoint",
            "Properties": {"EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]}},
        },
    }


def test_replacing_a_resource_updates_what_refers_to_it(stacks: Stacks) -> None:
    name, sagemaker = stacks.unique_name(), stacks.client("sagemaker")
    stacks.deploy(name, _model_and_config("registry.example/model:1"))
    stacks.deploy(name, _model_and_config("registry.example/model:2"))
    ids = stacks.physical_ids(name)
    model_name, config_name = ids["Model"].rsplit("/", 1)[1], ids["Config"].rsplit("/", 1)[1]
    assert sagemaker.describe_model(ModelName=model_name)["PrimaryContainer"]["Image"] == "registry.example/model:2"
    config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    assert config["ProductionVariants"][0]["ModelName"] == model_name
    assert (
        sagemaker.describe_endpoint(EndpointName=ids["Endpoint"].rsplit("/", 1)[1])["EndpointConfigName"] == config_name
    )


def test_an_unchanged_resource_without_properties_is_not_replaced(stacks: Stacks) -> None:
    name = stacks.unique_name()
    stacks.deploy(name, {"Topic": {"Type": "AWS::SNS::Topic"}})
    before = stacks.physical_ids(name)["Topic"]
    stacks.deploy(name, {"Topic": {"Type": "AWS::SNS::Topic"}, "Other": {"Type": "AWS::SNS::Topic"}})
    assert stacks.physical_ids(name)["Topic"] == before


NETWORK = {
    "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.40.0.0/16"}},
    "Subnet": {
        "Type": "AWS::EC2::Subnet",
        "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.40.0.0/20", "AvailabilityZone": "eu-west-1a"},
    },
    "Routes": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
    "Association": {
        "Type": "AWS::EC2::SubnetRouteTableAssociation",
        "Properties": {"RouteTableId": {"Ref": "Routes"}, "SubnetId": {"Ref": "Subnet"}},
    },
    "Group": {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {
            "GroupDescription": "endpoints",
            "VpcId": {"Ref": "Vpc"},
            "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}],
        },
    },
    "S3": {
        "Type": "AWS::EC2::VPCEndpoint",
        "Properties": {
            "VpcId": {"Ref": "Vpc"},
            "ServiceName": "com.amazonaws.eu-west-1.s3",
            "RouteTableIds": [{"Ref": "Routes"}],
        },
    },
    "Sts": {
        "Type": "AWS::EC2::VPCEndpoint",
        "Properties": {
            "VpcId": {"Ref": "Vpc"},
            "ServiceName": "com.amazonaws.eu-west-1.sts",
            "VpcEndpointType": "Interface",
            "SubnetIds": [{"Ref": "Subnet"}],
            "SecurityGroupIds": [{"Fn::GetAtt": ["Group", "GroupId"]}],
            "PrivateDnsEnabled": True,
        },
    },
    "FlowLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}},
    "FlowLog": {
        "Type": "AWS::EC2::FlowLog",
        "Properties": {
            "ResourceId": {"Ref": "Vpc"},
            "ResourceType": "VPC",
            "TrafficType": "ALL",
            "LogDestinationType": "cloud-watch-logs",
            "LogGroupName": {"Ref": "FlowLogs"},
            "DeliverLogsPermissionArn": ROLE,
        },
    },
}


def test_a_network_is_created_as_stated_and_deleted_in_dependency_order(stacks: Stacks) -> None:
    name, ec2 = stacks.unique_name(), stacks.client("ec2")
    stacks.deploy(name, NETWORK)
    ids = stacks.physical_ids(name)
    table = ec2.describe_route_tables(RouteTableIds=[ids["Routes"]])["RouteTables"][0]
    assert [(a["RouteTableAssociationId"], a["SubnetId"]) for a in table["Associations"]] == [
        (ids["Association"], ids["Subnet"])
    ]
    group = ec2.describe_security_groups(GroupIds=[ids["Group"]])["SecurityGroups"][0]
    egress = [
        (p["IpProtocol"], p.get("FromPort"), [r["CidrIp"] for r in p["IpRanges"]]) for p in group["IpPermissionsEgress"]
    ]
    assert egress == [("tcp", 443, ["0.0.0.0/0"])], "stated egress rules replace the default allow-all rule"

    assert stacks.delete(name) == "DELETE_COMPLETE"
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [ids["Vpc"]]}])["Vpcs"] == []
    assert ec2.describe_flow_logs(FlowLogIds=[ids["FlowLog"]])["FlowLogs"] == []
    endpoints = ec2.describe_vpc_endpoints(VpcEndpointIds=[ids["S3"], ids["Sts"]])["VpcEndpoints"]
    assert {e["State"].lower() for e in endpoints} <= {"deleted"}


# S3


def _bucket(noncurrent_days: int) -> dict:
    """As the CDK writes it: the log bucket's delivery grant names the data bucket, so it comes after it."""
    return {
        "Logs": {"Type": "AWS::S3::Bucket"},
        "LogsPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "Logs"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "logging.s3.amazonaws.com"},
                            "Action": "s3:PutObject",
                            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Logs", "Arn"]}, "/data/*"]]},
                            "Condition": {"ArnLike": {"aws:SourceArn": {"Fn::GetAtt": ["Bucket", "Arn"]}}},
                        }
                    ],
                },
            },
        },
        "Key": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "KeyPolicy": {"Version": "2012-10-17", "Statement": []},
                "Tags": [{"Key": "project", "Value": "ml-platform"}],
            },
        },
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "BucketKeyEnabled": True,
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": {"Fn::GetAtt": ["Key", "Arn"]},
                            },
                        }
                    ]
                },
                "VersioningConfiguration": {"Status": "Enabled"},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LoggingConfiguration": {"DestinationBucketName": {"Ref": "Logs"}, "LogFilePrefix": "data/"},
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "Noncurrent",
                            "Status": "Enabled",
                            "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent_days},
                        }
                    ]
                },
                "Tags": [{"Key": "project", "Value": "ml-platform"}],
            },
        },
        "Policy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "Bucket"},
                "PolicyDocument": {"Version": "2012-10-17", "Statement": SSL_ONLY},
            },
        },
    }


def test_bucket_properties_are_applied_and_updated(stacks: Stacks) -> None:
    name, s3 = stacks.unique_name(), stacks.client("s3")
    stacks.deploy(name, _bucket(90))
    ids = stacks.physical_ids(name)
    bucket = ids["Bucket"]
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == {
        "TargetBucket": ids["Logs"],
        "TargetPrefix": "data/",
    }
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert stacks.client("kms").list_resource_tags(KeyId=ids["Key"])["Tags"] == [
        {"TagKey": "project", "TagValue": "ml-platform"}
    ]

    assert stacks.deploy(name, _bucket(30))["StackStatus"] == "UPDATE_COMPLETE"
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30


def test_an_ssl_only_bucket_admits_requests_over_tls(stacks: Stacks) -> None:
    name, s3 = stacks.unique_name(), stacks.client("s3")
    stacks.deploy(name, _bucket(90))
    bucket = stacks.physical_ids(name)["Bucket"]
    s3.put_object(Bucket=bucket, Key="datasets/a.csv", Body=b"x")
    assert s3.get_object(Bucket=bucket, Key="datasets/a.csv")["Body"].read() == b"x"


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"aws:securetransport": "true", "s3:tlsversion": "1.3"}, PermissionResult.NEUTRAL),
        ({"aws:securetransport": "false"}, PermissionResult.DENIED),
        ({"aws:securetransport": "true", "s3:tlsversion": "1.1"}, PermissionResult.DENIED),
    ],
)
def test_bucket_policy_conditions_are_evaluated_against_the_request(context: dict, expected: PermissionResult) -> None:
    policy = {"Statement": SSL_ONLY}
    assert evaluate_bucket_policy(policy, "s3:PutObject", "arn:aws:s3:::b/k", context) == expected


def test_bucket_policy_statements_apply_only_when_every_condition_holds() -> None:
    def deny(condition: dict) -> dict:
        return {
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:Put*",
                    "Resource": "arn:aws:s3:::b/*",
                    "Condition": condition,
                }
            ]
        }

    secure = {"aws:securetransport": "true"}
    assert evaluate_bucket_policy(deny({}), "s3:PutObject", "arn:aws:s3:::b/k", secure) == PermissionResult.DENIED
    assert evaluate_bucket_policy(deny({}), "s3:GetObject", "arn:aws:s3:::b/k", secure) == PermissionResult.NEUTRAL
    assert evaluate_bucket_policy(
        deny({"StringEquals": {"aws:SourceVpce": "vpce-1"}}), "s3:PutObject", "arn:aws:s3:::b/k", secure
    ) == (PermissionResult.NEUTRAL), "a key the request does not carry fails its condition"
    assert evaluate_bucket_policy(
        deny({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}), "s3:PutObject", "arn:aws:s3:::b/k", secure
    ) == (PermissionResult.DENIED)
    assert evaluate_bucket_policy(
        deny({"DateLessThan": {"aws:CurrentTime": "2000-01-01"}}), "s3:PutObject", "arn:aws:s3:::b/k", secure
    ) == (PermissionResult.NEUTRAL), "an operator the emulator cannot evaluate never applies its statement"


# CloudWatch Logs


def test_log_group_key_arn_and_retention_update(stacks: Stacks) -> None:
    name, logs = stacks.unique_name(), stacks.client("logs")
    key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"

    def group(days: int) -> dict:
        return {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": days, "KmsKeyId": key_arn}}}

    described = stacks.deploy(name, group(365), Outputs={"Arn": {"Value": {"Fn::GetAtt": ["Logs", "Arn"]}}})
    log_group = stacks.physical_ids(name)["Logs"]
    assert described["Outputs"][0]["OutputValue"].endswith(f":log-group:{log_group}:*")
    assert logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"][0]["kmsKeyId"] == key_arn
    stacks.deploy(name, group(731), Outputs={"Arn": {"Value": {"Fn::GetAtt": ["Logs", "Arn"]}}})
    assert logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"][0]["retentionInDays"] == 731
