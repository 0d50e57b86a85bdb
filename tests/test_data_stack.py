"""The stateful Data stack of each Region: key, buckets and alert topic."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from ml_constructs import ContainerImage, DataPrefix, DataStore
from ml_constructs.container_image import TRAINING_CODE_DIR
from platform_contract.problems import InvalidInput
from tests.conftest import shipped_context
from tests.test_serving_endpoint import endpoint_and_pipeline, policy_statements

REGIONS = ("eu-west-1", "us-east-1")

# Renaming any of these replaces a resource that holds data: they are part of the platform's interface.
PINNED_LOGICAL_IDS = {
    "AWS::KMS::Key": "DataStoreKey3F7E79DA",
    "AWS::S3::Bucket": {"DataStoreBucket9A81F2E1", "DataStoreAccessLogBucket1888864D"},
}


def resources(template: Template, type_: str) -> Mapping[str, Mapping[str, Any]]:
    return template.find_resources(type_)


def only(template: Template, type_: str, logical_id_fragment: str = "") -> Mapping[str, Any]:
    found = {key: value for key, value in resources(template, type_).items() if logical_id_fragment in key}
    assert len(found) == 1, f"expected one {type_} matching {logical_id_fragment!r}, found {list(found)}"
    return next(iter(found.values()))


@pytest.mark.parametrize("region", REGIONS)
def test_stateful_logical_ids_are_pinned(platform, region):
    template = platform.template(region, "data")
    assert set(resources(template, "AWS::KMS::Key")) == {PINNED_LOGICAL_IDS["AWS::KMS::Key"]}
    assert set(resources(template, "AWS::S3::Bucket")) == PINNED_LOGICAL_IDS["AWS::S3::Bucket"]


@pytest.mark.parametrize("region", REGIONS)
def test_key_rotates_and_is_retained(platform, region):
    template = platform.template(region, "data")
    template.has_resource(
        "AWS::KMS::Key",
        {
            "Properties": Match.object_like({"EnableKeyRotation": True}),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_key_policy_admits_only_this_accounts_logs_and_publishers(platform):
    key = only(platform.template("eu-west-1", "data"), "AWS::KMS::Key")
    statements = {
        statement.get("Sid", "account-admin"): statement for statement in key["Properties"]["KeyPolicy"]["Statement"]
    }
    logs = statements["AllowCloudWatchLogsOfThisAccount"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
    publishers = statements["AllowAlarmAndEventPublishingOfThisAccount"]
    assert sorted(publishers["Principal"]["Service"]) == ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    assert publishers["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    for statement in statements.values():
        assert "*" not in str(statement["Principal"]), f"statement open to anyone: {statement}"


@pytest.mark.parametrize("region", REGIONS)
def test_data_bucket_is_encrypted_with_the_regions_key_and_bucket_keys(platform, region):
    bucket = only(platform.template(region, "data"), "AWS::S3::Bucket", "DataStoreBucket")
    rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": [PINNED_LOGICAL_IDS["AWS::KMS::Key"], "Arn"]
    }


def test_data_bucket_is_private_versioned_logged_and_retained(platform):
    bucket = only(platform.template("eu-west-1", "data"), "AWS::S3::Bucket", "DataStoreBucket")
    properties = bucket["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert properties["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": "DataStoreAccessLogBucket1888864D"},
        "LogFilePrefix": "data-bucket/",
    }
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert "ReplicationConfiguration" not in properties, "data must never leave its Region"


def test_data_bucket_lifecycle(platform):
    bucket = only(platform.template("eu-west-1", "data"), "AWS::S3::Bucket", "DataStoreBucket")
    rules = {rule["Id"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["AbortIncompleteMultipartUploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert rules["ExpireNoncurrentVersions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rules["IntelligentTiering"]["Transitions"] == [
        {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 0}
    ]
    assert all(rule["Status"] == "Enabled" for rule in rules.values())


@pytest.mark.parametrize("bucket_id", ["DataStoreBucket9A81F2E1", "DataStoreAccessLogBucket1888864D"])
def test_bucket_policies_deny_plain_http_and_old_tls(platform, bucket_id):
    template = platform.template("eu-west-1", "data")
    policy = next(
        policy
        for policy in resources(template, "AWS::S3::BucketPolicy").values()
        if policy["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
    denies = [
        statement for statement in policy["Properties"]["PolicyDocument"]["Statement"] if statement["Effect"] == "Deny"
    ]
    conditions = [statement["Condition"] for statement in denies]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions
    assert all(statement["Principal"] == {"AWS": "*"} and statement["Action"] == "s3:*" for statement in denies)


def test_access_log_bucket_uses_encryption_that_access_logging_supports_and_expires(platform):
    bucket = only(platform.template("eu-west-1", "data"), "AWS::S3::Bucket", "AccessLogBucket")
    encryption = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    rule = bucket["Properties"]["LifecycleConfiguration"]["Rules"][0]
    assert rule["ExpirationInDays"] == 365
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_alert_topic_is_encrypted_ssl_only_and_subscribed(platform):
    template = platform.template("eu-west-1", "data")
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {
            "KmsMasterKeyId": {"Fn::GetAtt": [PINNED_LOGICAL_IDS["AWS::KMS::Key"], "Arn"]},
        },
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "email",
            "Endpoint": "ml-platform-alerts@example.com",
        },
    )
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sns:Publish",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_configured_tags_reach_every_taggable_resource(platform):
    bucket = only(platform.template("us-east-1", "data"), "AWS::S3::Bucket", "DataStoreBucket")
    assert {"Key": "project", "Value": "ml-platform"} in bucket["Properties"]["Tags"]


def test_prod_turns_on_termination_protection(platform, prod_platform):
    assert prod_platform.stages["eu-west-1"].data.termination_protection is True
    assert platform.stages["eu-west-1"].data.termination_protection is False


def _grant_statements(grant) -> list[dict]:
    stack = cdk.Stack(cdk.App(context=shipped_context()), "GrantTest", env=cdk.Environment(region="eu-west-1"))
    store = DataStore(stack, "Store")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    grant(store, role)
    policy = only(Template.from_stack(stack), "AWS::IAM::Policy")
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_grants_are_scoped_to_prefixes_with_exact_actions():
    statements = _grant_statements(lambda store, role: store.grant_read(role, DataPrefix.DATASETS))
    by_action = {str(statement["Action"]): statement for statement in statements}
    assert by_action["s3:ListBucket"]["Condition"] == {"StringLike": {"s3:prefix": ["datasets/*"]}}
    assert by_action["s3:GetObject"]["Resource"]["Fn::Join"][1][1] == "/datasets/*"
    assert by_action["kms:Decrypt"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any("*" in action for action in actions), f"wildcard action in {statement}"


def test_write_grants_cannot_read_or_list():
    statements = _grant_statements(
        lambda store, role: store.grant_write(role, DataPrefix.MODELS, DataPrefix.EVALUATION)
    )
    actions = {
        action
        for statement in statements
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    }
    assert actions == {"s3:PutObject", "s3:AbortMultipartUpload", "kms:GenerateDataKey", "kms:Decrypt"}
    object_statement = next(statement for statement in statements if "s3:PutObject" in statement["Action"])
    assert "models/*" in str(object_statement["Resource"]) and "evaluation/*" in str(object_statement["Resource"])


def test_the_whole_bucket_is_never_granted():
    with pytest.raises(
        ValueError, match="DataStore grants need at least one DataPrefix; the whole bucket is never granted"
    ):
        _grant_statements(lambda store, role: store.grant_read(role))


def test_outputs_name_the_regions_data_resources(platform):
    outputs = platform.template_json("eu-west-1", "data")["Outputs"]
    assert outputs["DataBucketName"]["Value"] == {"Ref": "DataStoreBucket9A81F2E1"}
    assert outputs["KeyArn"]["Value"] == {"Fn::GetAtt": ["DataStoreKey3F7E79DA", "Arn"]}
    assert outputs["AlertTopicArn"]["Value"] == {"Ref": "AlertsTopicCF7C81C9"}


IMPORTED_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    "bucket", [{"bucket_name": "corp-ml-data"}, {"bucket_arn": "arn:aws:s3:::corp-ml-data"}], ids=["name", "arn"]
)
def test_an_imported_store_serves_and_trains_with_grants_on_the_imported_bucket_and_key(bucket):
    stack, endpoint, pipeline = endpoint_and_pipeline(
        lambda stack: ContainerImage.from_asset(TRAINING_CODE_DIR),
        lambda stack: DataStore.from_bucket_attributes(stack, "Imported", key_arn=IMPORTED_KEY_ARN, **bucket),
    )
    template = Template.from_stack(stack)
    assert resources(template, "AWS::S3::Bucket") == {} and resources(template, "AWS::KMS::Key") == {}

    def granted(role: iam.IRole) -> dict[str, set[str]]:
        """Actions by the imported bucket's objects or the imported key they are granted on."""
        found: dict[str, set[str]] = {}
        for statement in policy_statements(stack, role):
            resources_ = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for resource in map(json.dumps, resources_):
                if "corp-ml-data" in resource or IMPORTED_KEY_ARN in resource:
                    target = (
                        resource.split("corp-ml-data", 1)[-1].strip('"]} ') if "corp-ml-data" in resource else "key"
                    )
                    found.setdefault(target, set()).update(actions)
        return found

    assert granted(endpoint.role) == {
        "": {"s3:ListBucket"},
        "/models/*": {"s3:GetObject"},
        "/capture/*": {"s3:PutObject", "s3:AbortMultipartUpload"},
        "key": {"kms:Decrypt", "kms:GenerateDataKey"},
    }
    execution = granted(pipeline.execution_role)
    assert {"/datasets/*", "/models/*", "/checkpoints/*", "/evaluation/*", "key"} <= set(execution)
    assert "kms:CreateGrant" in execution["key"]
    _, config = next(iter(resources(template, "AWS::SageMaker::EndpointConfig").items()))
    assert config["Properties"]["KmsKeyId"] == IMPORTED_KEY_ARN
    assert "s3://corp-ml-data/capture/" in json.dumps(stack.resolve(config["Properties"]["DataCaptureConfig"]))


@pytest.mark.parametrize(
    "bucket", [{}, {"bucket_name": "corp-ml-data", "bucket_arn": "arn:aws:s3:::corp-ml-data"}], ids=["none", "both"]
)
def test_an_import_names_exactly_one_bucket(bucket):
    stack = cdk.Stack(cdk.App(context=shipped_context()), "Import", env=cdk.Environment(region="eu-west-1"))
    with pytest.raises(InvalidInput, match=r"DataStore.from_bucket_attributes Import/Store \(1 problem\(s\)\):"):
        DataStore.from_bucket_attributes(stack, "Store", key_arn=IMPORTED_KEY_ARN, **bucket)
