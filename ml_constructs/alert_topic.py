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
_BUDGETS = "budgets.amazonaws.com"


class AlertTopic(Construct):
    """A KMS-encrypted, TLS-only SNS topic that CloudWatch alarms and EventBridge rules publish to.

    :param key: encrypts messages at rest. The key's policy is extended so that CloudWatch and
        EventBridge of this account can publish (and AWS Budgets, once ``allow_budget_notifications`` is called).
        Required.
    :param email: address subscribed to the topic (it must confirm the subscription). Default: no subscription.
    """

    def __init__(self, scope: Construct, id: str, *, key: kms.IKey, email: str | None = None) -> None:
        super().__init__(scope, id)
        account = Stack.of(self).account
        self._key = key
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

    def allow_budget_notifications(self) -> None:
        """Lets AWS Budgets of this account publish to the topic and use its key, as the Budgets user guide's topic
        policy states it ("Creating an Amazon SNS topic for budget notifications": aws:SourceAccount and an
        aws:SourceArn of this account's budgets); SNS's guide on encrypted topics adds the key statement. Budgets
        is global: its budgets' ARNs have no Region (arn:<partition>:budgets::<account>:budget/<name>)."""
        stack = Stack.of(self)
        conditions = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:budgets::{stack.account}:*"},
        }
        self._key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBudgetNotificationsOfThisAccount",
                principals=[iam.ServicePrincipal(_BUDGETS)],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions=conditions,
            )
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBudgetNotificationsOfThisAccount",
                principals=[iam.ServicePrincipal(_BUDGETS)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=conditions,
            )
        )

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        """Lets ``grantee`` publish to the topic."""
        return self.topic.grant_publish(grantee)
