"""AWS Budgets in the emulator: the CloudFormation type moto 5.2.5 lacks, and the budgets AWS refuses.

moto has a Budgets backend (CreateBudget, DescribeBudget, notifications) but no CloudFormation type for
``AWS::Budgets::Budget``, so its CloudFormation would skip the platform's budget and report it created; and its
CreateBudget takes any budget. Here the type is registered, backed by moto's backend, and CreateBudget (from the
API or from a template) refuses, with every problem at once, what AWS Budgets refuses (docs/aws-rules.md, Cost):

- BudgetName: 1-100 characters without ``:`` or ``\\`` and without ``/action/``; unique in the account.
- BudgetType and TimeUnit of the documented values; a COST or USAGE budget has a BudgetLimit.
- CostFilters of the documented filter names; a ``TagKeyValue`` is ``user:<key>$<value>`` (or ``aws:...``).
- At most ten notifications, none twice (same type, comparison and threshold); a threshold above 0, as a percentage
  at most 1,000,000; each with one to eleven subscribers, at most one SNS topic and ten e-mail addresses.
- An SNS subscriber is a topic of the budget's account that exists and that Budgets may publish to: its policy
  allows ``budgets.amazonaws.com`` sns:Publish, and, where a customer-managed key encrypts it, the key's policy
  allows that principal kms:GenerateDataKey and kms:Decrypt. (Conditions are not evaluated.)
- moto has no DescribeSubscribersForNotification; it is added, so that a check can see where each notification goes.
- BudgetName and NotificationsWithSubscribers are set on creation only: a change replaces the budget, which
  CloudFormation cannot do while the name stays the same.
"""

from __future__ import annotations

import json
import re
from typing import Any

from moto.budgets.exceptions import NotFoundException
from moto.budgets.models import BudgetsBackend, budgets_backends
from moto.budgets.responses import BudgetsResponse
from moto.core.common_models import CloudFormationModel
from moto.core.exceptions import JsonRESTError
from moto.kms.models import kms_backends
from moto.sns.models import sns_backends
from moto.utilities.utils import get_partition

from platform_contract.limits import MAX_BUDGET_NAME_LENGTH, MAX_BUDGET_NOTIFICATIONS
from rehearsal.emulator.resources import _Resource

PRINCIPAL = "budgets.amazonaws.com"
BUDGET_TYPES = frozenset(
    {"USAGE", "COST", "RI_UTILIZATION", "RI_COVERAGE", "SAVINGS_PLANS_UTILIZATION", "SAVINGS_PLANS_COVERAGE"}
)
TIME_UNITS = frozenset({"DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY", "CUSTOM"})
NOTIFICATION_TYPES = frozenset({"ACTUAL", "FORECASTED"})
COMPARISONS = frozenset({"GREATER_THAN", "LESS_THAN", "EQUAL_TO"})
THRESHOLD_TYPES = frozenset({"PERCENTAGE", "ABSOLUTE_VALUE"})
MAX_PERCENTAGE = 1_000_000
MAX_EMAIL_SUBSCRIBERS = 10
COST_FILTERS = frozenset(
    {
        "AZ",
        "BillingEntity",
        "CacheEngine",
        "CostCategory",
        "DatabaseEngine",
        "DeploymentOption",
        "InstanceType",
        "InstanceTypeFamily",
        "LegalEntityName",
        "LinkedAccount",
        "Operation",
        "OperatingSystem",
        "Platform",
        "PurchaseType",
        "RecordType",
        "Region",
        "ResourceId",
        "SavingsPlanArn",
        "ScopeType",
        "Service",
        "TagKeyValue",
        "Tenancy",
        "UsageType",
        "UsageTypeGroup",
    }
)
"""CostFilters names (AWS Budgets API reference, Budget.CostFilters, and the dimensions Cost Explorer filters by)."""
_NAME = re.compile(r"^(?![^:\\]*/action/)[^:\\]+$")
_TAG_KEY_VALUE = re.compile(r"^(user|aws):[^$]+\$.*$")


class InvalidParameter(JsonRESTError):
    code = 400

    def __init__(self, problems: list[str]) -> None:
        super().__init__("InvalidParameterException", "; ".join(problems))


def _notification_key(notification: dict[str, Any]) -> tuple[Any, ...]:
    return (
        notification.get("NotificationType"),
        notification.get("ComparisonOperator"),
        float(notification.get("Threshold", 0)),
        notification.get("ThresholdType", "PERCENTAGE"),
    )


def _budget_problems(backend: BudgetsBackend, account_id: str, budget: dict[str, Any]) -> list[str]:
    problems = []
    name = budget.get("BudgetName", "")
    if not (1 <= len(name) <= MAX_BUDGET_NAME_LENGTH and _NAME.match(name)):
        problems.append(f"BudgetName {name!r}: 1-{MAX_BUDGET_NAME_LENGTH} characters without ':', '\\' or /action/")
    if budget.get("BudgetType") not in BUDGET_TYPES:
        problems.append(f"BudgetType {budget.get('BudgetType')!r}: one of {', '.join(sorted(BUDGET_TYPES))}")
    if budget.get("TimeUnit") not in TIME_UNITS:
        problems.append(f"TimeUnit {budget.get('TimeUnit')!r}: one of {', '.join(sorted(TIME_UNITS))}")
    limit = budget.get("BudgetLimit")
    if budget.get("BudgetType") in ("COST", "USAGE") and not limit and not budget.get("PlannedBudgetLimits"):
        problems.append("a COST or USAGE budget needs a BudgetLimit")
    if limit and not re.fullmatch(r"([0-9]*\.)?[0-9]+", str(limit.get("Amount", ""))):
        problems.append(f"BudgetLimit.Amount {limit.get('Amount')!r}: a non-negative number")
    for filter_name, values in (budget.get("CostFilters") or {}).items():
        if filter_name not in COST_FILTERS:
            problems.append(f"CostFilters {filter_name!r}: one of {', '.join(sorted(COST_FILTERS))}")
        if filter_name == "TagKeyValue":
            problems += [
                f"CostFilters TagKeyValue {value!r}: user:<key>$<value> for a user-defined cost-allocation tag"
                for value in values
                if not _TAG_KEY_VALUE.match(value)
            ]
    if name in backend.budgets[account_id]:
        problems.append(f"a budget named {name!r} exists in account {account_id}")
    return problems


def _subscriber_problems(account_id: str, subscriber: dict[str, Any]) -> list[str]:
    address, kind = subscriber.get("Address", ""), subscriber.get("SubscriptionType")
    if kind == "EMAIL":
        return [] if "@" in address else [f"subscriber {address!r}: an e-mail address"]
    if kind != "SNS":
        return [f"SubscriptionType {kind!r}: SNS or EMAIL"]
    parts = address.split(":")
    if len(parts) != 6 or parts[2] != "sns" or parts[4] != account_id:
        return [f"SNS subscriber {address!r}: a topic ARN of account {account_id} (cross-account topics are refused)"]
    topic = sns_backends[account_id][parts[3]].topics.get(address)
    if topic is None:
        return [f"SNS subscriber {address!r}: no such topic"]
    problems = []
    if not _allows(json.loads(topic.policy), "sns:publish"):
        problems.append(f"SNS subscriber {address!r}: its topic policy does not allow {PRINCIPAL} sns:Publish")
    key_id = topic.kms_master_key_id
    if key_id and not key_id.startswith("alias/aws/"):
        key = kms_backends[account_id][parts[3]].keys.get(key_id.rsplit("/", 1)[-1])
        policy = json.loads(key.policy) if key is not None else {}
        if not (_allows(policy, "kms:generatedatakey") and _allows(policy, "kms:decrypt")):
            problems.append(
                f"SNS subscriber {address!r}: the key of its topic does not allow {PRINCIPAL} "
                "kms:GenerateDataKey and kms:Decrypt"
            )
    return problems


def _allows(policy: dict[str, Any], action: str) -> bool:
    """Whether an Allow statement for the Budgets service principal grants ``action`` (lower case)."""
    for statement in policy.get("Statement", []):
        principal = statement.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        granted = any(re.fullmatch(a.lower().replace("*", ".*"), action) for a in actions)
        if statement.get("Effect") == "Allow" and PRINCIPAL in services and granted:
            return True
    return False


def _notification_problems(account_id: str, notifications: list[dict[str, Any]]) -> list[str]:
    problems = []
    if len(notifications) > MAX_BUDGET_NOTIFICATIONS:
        problems.append(f"{len(notifications)} notifications: at most {MAX_BUDGET_NOTIFICATIONS} per budget")
    seen: set[tuple[Any, ...]] = set()
    for entry in notifications:
        notification, subscribers = entry.get("Notification", {}), entry.get("Subscribers", [])
        key = _notification_key(notification)
        if key in seen:
            problems.append(f"notification {key} is given twice")
        seen.add(key)
        if notification.get("NotificationType") not in NOTIFICATION_TYPES:
            problems.append(f"NotificationType {notification.get('NotificationType')!r}: ACTUAL or FORECASTED")
        if notification.get("ComparisonOperator") not in COMPARISONS:
            problems.append(f"ComparisonOperator {notification.get('ComparisonOperator')!r}: one of {COMPARISONS}")
        if notification.get("ThresholdType", "PERCENTAGE") not in THRESHOLD_TYPES:
            problems.append(f"ThresholdType {notification.get('ThresholdType')!r}: PERCENTAGE or ABSOLUTE_VALUE")
        threshold = float(notification.get("Threshold", 0))
        percentage = notification.get("ThresholdType", "PERCENTAGE") == "PERCENTAGE"
        if not 0 < threshold <= (MAX_PERCENTAGE if percentage else float("inf")):
            limit = f", at most {MAX_PERCENTAGE} %" if percentage else ""
            problems.append(f"Threshold {threshold:g}: above 0{limit}")
        kinds = [subscriber.get("SubscriptionType") for subscriber in subscribers]
        if not subscribers or kinds.count("SNS") > 1 or kinds.count("EMAIL") > MAX_EMAIL_SUBSCRIBERS:
            problems.append(f"subscribers {kinds}: 1 to 11, at most one SNS topic and {MAX_EMAIL_SUBSCRIBERS} e-mails")
        for subscriber in subscribers:
            problems += _subscriber_problems(account_id, subscriber)
    return problems


def refusals(backend: BudgetsBackend, account_id: str, budget: dict[str, Any], notifications: list[Any]) -> list[str]:
    """Why AWS Budgets refuses to create ``budget`` with ``notifications`` (as CreateBudget takes them)."""
    return _budget_problems(backend, account_id, budget) + _notification_problems(account_id, notifications)


class BudgetsBudget(_Resource, CloudFormationModel):
    TYPE = "AWS::Budgets::Budget"
    ATTRIBUTES = frozenset({"Id"})

    @property
    def _backend(self) -> BudgetsBackend:
        return budgets_backends[self.account_id][get_partition(self.region_name)]

    @property
    def physical_resource_id(self) -> str:
        return self.properties["Budget"]["BudgetName"]

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Id":
            return self.physical_resource_id
        return super().get_cfn_attribute(attribute_name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: _Resource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> _Resource:
        properties, previous = cloudformation_json["Properties"], original_resource.properties
        name, previous_name = properties["Budget"]["BudgetName"], previous["Budget"]["BudgetName"]
        replaced = name != previous_name or properties.get("NotificationsWithSubscribers") != previous.get(
            "NotificationsWithSubscribers"
        )
        if not replaced:
            original_resource.properties = properties
            original_resource.update(previous)
            return original_resource
        if name == previous_name:
            raise ValueError(
                f"CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename "
                f"{name} and update the stack again (NotificationsWithSubscribers can only be set on creation)."
            )
        resource = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        original_resource.remove()
        return resource

    def _request(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The CreateBudget request that CloudFormation makes of the properties."""
        budget = json.loads(json.dumps(self.properties["Budget"]))
        if "BudgetLimit" in budget:
            budget["BudgetLimit"]["Amount"] = str(float(budget["BudgetLimit"]["Amount"]))
        if isinstance(budget.get("CostFilters"), str):
            budget["CostFilters"] = json.loads(budget["CostFilters"])
        return budget, self.properties.get("NotificationsWithSubscribers", [])

    def create(self) -> None:
        budget, notifications = self._request()
        self._backend.create_budget(account_id=self.account_id, budget=budget, notifications=notifications)

    def update(self, previous: dict[str, Any]) -> None:
        budget, _ = self._request()
        stored = self._backend.budgets[self.account_id][self.physical_resource_id]
        stored.budget.update(budget)

    def remove(self) -> None:
        self._backend.budgets[self.account_id].pop(self.physical_resource_id, None)

    def exists(self) -> bool:
        return self.physical_resource_id in self._backend.budgets[self.account_id]


RESOURCE_TYPES: tuple[type[_Resource], ...] = (BudgetsBudget,)


def apply() -> None:
    """CreateBudget refuses what AWS refuses, from the API and from templates alike."""
    create = BudgetsBackend.create_budget

    def create_budget(
        self: BudgetsBackend, account_id: str, budget: dict[str, Any], notifications: list[dict[str, Any]]
    ) -> None:
        problems = refusals(self, account_id, budget, notifications)
        if problems:
            raise InvalidParameter(problems)
        create(self, account_id=account_id, budget=budget, notifications=notifications)

    def describe_subscribers_for_notification(self: BudgetsResponse) -> str:
        budget = self.backend.budgets[self._get_param("AccountId")].get(self._get_param("BudgetName"))
        wanted = _notification_key(self._get_param("Notification"))
        for notification in budget.notifications if budget else []:
            if _notification_key(notification.details) == wanted:
                return json.dumps({"Subscribers": notification.subscribers})
        raise NotFoundException("Unable to get subscribers: the budget or its notification doesn't exist.")

    BudgetsBackend.create_budget = create_budget
    BudgetsResponse.describe_subscribers_for_notification = describe_subscribers_for_notification  # type: ignore[attr-defined]
