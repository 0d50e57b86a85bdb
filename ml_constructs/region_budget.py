"""The Region's monthly cost budget: AWS Budgets warns the Region's alert topic before and when it is spent."""

from __future__ import annotations

import hashlib
import json

from aws_cdk import Stack, Token
from aws_cdk import aws_budgets as budgets
from constructs import Construct

from ml_constructs.alert_topic import AlertTopic
from ml_constructs.region_budget_props import RegionBudgetProps
from platform_contract.limits import MAX_BUDGET_NAME_LENGTH
from platform_contract.problems import raise_if_any

_DIGEST_LENGTH = 8


class RegionBudget(Construct):
    """A monthly COST budget of the costs that carry ``cost_tag``, with ACTUAL and FORECASTED notifications at the
    props' percentages to the Region's alert topic.

    Budgets is a global service billed to the account (its costs are the account's, not a Region's), and budget
    names are unique per account; so the name holds the stack's name, which holds the Region. BudgetName and the
    notifications can only be set when a budget is created: the name also holds a digest of the notifications, so
    that changed thresholds replace the budget under a new name (CloudFormation cannot replace a resource whose
    name stays the same) and a changed amount updates it in place.

    :param props: amount, currency and alert thresholds. Required; raises ``InvalidInput`` with every problem.
    :param alerts: the Region's alert topic; its topic and key policies are extended so that AWS Budgets of this
        account can publish to it. Required.
    :param cost_tag: (key, value) of the activated cost-allocation tag that selects the Region's costs. Required.
    """

    def __init__(
        self, scope: Construct, id: str, *, props: RegionBudgetProps, alerts: AlertTopic, cost_tag: tuple[str, str]
    ) -> None:
        super().__init__(scope, id)
        raise_if_any(f"RegionBudget {self.node.path}", props.problems())
        key, value = cost_tag
        notifications = [
            budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=kind.value,
                    comparison_operator="GREATER_THAN",
                    threshold=percent,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=[
                    budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=alerts.topic.topic_arn)
                ],
            )
            for kind, percent in props.alerts
        ]
        self.budget_name = self._name(props)
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=self.budget_name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=props.monthly_budget, unit=props.currency),
                # The Budgets API's format for a user-defined cost-allocation tag: user:<key>$<value>.
                cost_filters={"TagKeyValue": [f"user:{key}${value}"]},
            ),
            notifications_with_subscribers=notifications,
        )
        alerts.allow_budget_notifications()
        # Budgets checks that it may publish when the notifications are created: the topic's policy comes first.
        self.budget.node.add_dependency(alerts.topic)

    def _name(self, props: RegionBudgetProps) -> str:
        stack_name = Stack.of(self).stack_name
        if Token.is_unresolved(stack_name):
            raise ValueError(f"RegionBudget {self.node.path}: its stack needs a concrete name; budget names are global")
        digest = hashlib.sha256(json.dumps([[k.value, p] for k, p in props.alerts]).encode()).hexdigest()
        prefix = f"{stack_name}-{self.node.id}"[: MAX_BUDGET_NAME_LENGTH - _DIGEST_LENGTH - 1]
        return f"{prefix}-{digest[:_DIGEST_LENGTH]}"
