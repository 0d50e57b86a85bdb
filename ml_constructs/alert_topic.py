"""The Region's notification topic: alarms and pipeline events reach people through it."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

# Services that publish to the topic on their own behalf and so need the key policy's consent.
_PUBLISHING_SERVICES = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


class AlertTopic(Construct):
    """A KMS-encrypted, TLS-only SNS topic that CloudWatch alarms and EventBridge rules publish to.

    :param key: encrypts messages at rest. The key's policy is extended so that CloudWatch and
        EventBridge of this account can publish. Required.
    :param email: address subscribed to the topic (it must confirm the subscription). Default: no subscription.
    """

    def __init__(self, scope: Construct, id: str, *, key: kms.IKey, email: str | None = None) -> None:
        super().__init__(scope, id)
        account = Stack.of(self).account
        self.topic: sns.ITopic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmAndEventPublishingOfThisAccount",
                principals=[iam.ServicePrincipal(service) for service in _PUBLISHING_SERVICES],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
        # CloudWatch alarms publish as the service principal; the topic policy must admit it.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmPublishingOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        """Lets ``grantee`` publish to the topic."""
        return self.topic.grant_publish(grantee)
