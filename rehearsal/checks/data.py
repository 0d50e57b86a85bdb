"""The Data stack: the Region's key encrypts its data; buckets take TLS only; alarms have somewhere to go."""

from __future__ import annotations

import json
from collections.abc import Mapping

from platform_config.naming import platform_tag
from platform_contract.names import Output
from rehearsal.aws import ACCOUNT
from rehearsal.checks.base import DeployedStack, Verifier


def region_key_arn(data: DeployedStack) -> str:
    key_id, _ = data.only("AWS::KMS::Key")
    return data.resolve({"Fn::GetAtt": [key_id, "Arn"]})


def alert_topic_arn(data: DeployedStack) -> str:
    topic_id, _ = data.only("AWS::SNS::Topic")
    return data.physical_id(topic_id)


def data_bucket_name(data: DeployedStack) -> str:
    """The bucket encrypted with the Region's key (the other one holds access logs)."""
    s3 = data.client("s3")
    for logical_id, _ in data.of_type("AWS::S3::Bucket"):
        name = data.physical_id(logical_id)
        rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        if rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms":
            return name
    raise AssertionError(f"{data.name} has no KMS-encrypted bucket")


def verify(data: DeployedStack, stage: Mapping[str, DeployedStack], verify: Verifier) -> None:
    s3, key_arn = data.client("s3"), region_key_arn(data)
    bucket = data_bucket_name(data)
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    verify.equal(
        encryption["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID"),
        key_arn,
        "data bucket encrypted with the Region's key",
    )
    verify.true(encryption.get("BucketKeyEnabled", False), "data bucket uses S3 Bucket Keys")
    verify.equal(s3.get_bucket_versioning(Bucket=bucket).get("Status"), "Enabled", "data bucket versioned")
    verify.true(bool(s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled")), "data bucket access-logged")
    for logical_id, _ in data.of_type("AWS::S3::Bucket"):
        name = data.physical_id(logical_id)
        statements = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
        conditions = [s.get("Condition", {}) for s in statements if s["Effect"] == "Deny"]
        verify.true(
            {"Bool": {"aws:SecureTransport": "false"}} in conditions, f"bucket {name} denies requests without TLS"
        )
        verify.true(
            {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions, f"bucket {name} denies TLS older than 1.2"
        )
        verify.equal(
            s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"],
            {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
            f"bucket {name} blocks public access",
        )
    sns, topic = data.client("sns"), alert_topic_arn(data)
    verify.equal(
        sns.get_topic_attributes(TopicArn=topic)["Attributes"].get("KmsMasterKeyId"),
        key_arn,
        "alert topic encrypted with the Region's key",
    )
    protocols = [s["Protocol"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]
    verify.true("email" in protocols, "alert topic has an e-mail subscription")
    verify.true(key_arn in data.outputs.values(), "the Region's key ARN is published for the other stacks")
    for logical_id, _ in data.of_type("AWS::Budgets::Budget"):
        _verify_budget(data, data.physical_id(logical_id), topic, verify)


def _verify_budget(data: DeployedStack, name: str, topic: str, verify: Verifier) -> None:
    """The Region's budget exists under the name its output gives, and every notification reaches the topic."""
    budgets = data.client("budgets")
    verify.equal(data.outputs.get(Output.BUDGET_NAME), name, "the BudgetName output names the Region's budget")
    described = budgets.describe_budget(AccountId=ACCOUNT, BudgetName=name)["Budget"]
    verify.equal(described["BudgetType"], "COST", f"budget {name} is a cost budget")
    key, value = platform_tag(data.region)
    verify.equal(described.get("CostFilters"), {"TagKeyValue": [f"user:{key}${value}"]}, f"budget {name} filter")
    notifications = budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=name)["Notifications"]
    verify.true(bool(notifications), f"budget {name} has notifications")
    for notification in notifications:
        subscribers = budgets.describe_subscribers_for_notification(
            AccountId=ACCOUNT, BudgetName=name, Notification=notification
        )["Subscribers"]
        verify.equal(
            subscribers,
            [{"SubscriptionType": "SNS", "Address": topic}],
            f"budget {name} {notification['NotificationType']} {notification['Threshold']} % notifies the topic",
        )
