"""The emulator's AWS::Budgets::Budget: backed by moto's Budgets backend, refusing what AWS Budgets refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError

from rehearsal.tests.support import REGION, Stacks

ACCOUNT = "123456789012"
ROOT = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
BUDGETS = {"Service": "budgets.amazonaws.com"}


def _statement(principal: dict[str, Any], actions: list[str], resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": resource}


def _resources(
    *, key_admits_budgets: bool = True, topic_admits_budgets: bool = True, **budget: Any
) -> dict[str, dict[str, Any]]:
    """An encrypted topic, its policy and a monthly cost budget that notifies it; ``budget`` overrides BudgetData."""
    key_statements = [_statement(ROOT, ["kms:*"])]
    if key_admits_budgets:
        key_statements.append(_statement(BUDGETS, ["kms:Decrypt", "kms:GenerateDataKey"]))
    topic_statements = [_statement({"Service": "cloudwatch.amazonaws.com"}, ["sns:Publish"], {"Ref": "Topic"})]
    if topic_admits_budgets:
        topic_statements.append(_statement(BUDGETS, ["sns:Publish"], {"Ref": "Topic"}))
    notifications = budget.pop("Notifications", [("ACTUAL", 80), ("FORECASTED", 100)])
    data = {
        "BudgetName": "eu-west-1-monthly",
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": 1000, "Unit": "USD"},
        "CostFilters": {"TagKeyValue": ["user:ml-platform-stage$MlPlatform-eu-west-1"]},
        **budget,
    }
    return {
        "Key": {
            "Type": "AWS::KMS::Key",
            "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": key_statements}},
        },
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}},
        "TopicPolicy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [{"Ref": "Topic"}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": topic_statements},
            },
        },
        "Budget": {
            "Type": "AWS::Budgets::Budget",
            "DependsOn": ["TopicPolicy"],
            "Properties": {
                "Budget": data,
                "NotificationsWithSubscribers": [
                    {
                        "Notification": {
                            "NotificationType": kind,
                            "ComparisonOperator": "GREATER_THAN",
                            "Threshold": threshold,
                            "ThresholdType": "PERCENTAGE",
                        },
                        "Subscribers": [{"SubscriptionType": "SNS", "Address": {"Ref": "Topic"}}],
                    }
                    for kind, threshold in notifications
                ],
            },
        },
    }


def _failure(stacks: Stacks, name: str, resources: dict[str, Any]) -> str:
    described = stacks.deploy(name, resources)
    assert described["StackStatus"].endswith("_FAILED"), described["StackStatus"]
    return described["StackStatusReason"]


def _unique(stacks: Stacks, resources: dict[str, Any]) -> dict[str, Any]:
    """The budget named uniquely: budget names are the account's, whatever the stack."""
    resources = copy.deepcopy(resources)
    resources["Budget"]["Properties"]["Budget"]["BudgetName"] = stacks.unique_name("budget")
    return resources


def test_a_budget_is_created_updated_in_place_and_deleted_in_budgets_backend(stacks: Stacks) -> None:
    name, resources = stacks.unique_name(), _unique(stacks, _resources())
    budget_name = resources["Budget"]["Properties"]["Budget"]["BudgetName"]
    assert stacks.deploy(name, resources)["StackStatus"] == "CREATE_COMPLETE"
    assert stacks.physical_ids(name)["Budget"] == budget_name
    assert stacks.backed(name)["Budget"] is True
    budgets = stacks.client("budgets")
    described = budgets.describe_budget(AccountId=ACCOUNT, BudgetName=budget_name)["Budget"]
    assert (described["BudgetType"], described["TimeUnit"]) == ("COST", "MONTHLY")
    assert described["BudgetLimit"] == {"Amount": "1000.0", "Unit": "USD"}
    assert described["CostFilters"] == {"TagKeyValue": ["user:ml-platform-stage$MlPlatform-eu-west-1"]}
    notifications = budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=budget_name)
    assert {(n["NotificationType"], n["Threshold"]) for n in notifications["Notifications"]} == {
        ("ACTUAL", 80),
        ("FORECASTED", 100),
    }

    resources["Budget"]["Properties"]["Budget"]["BudgetLimit"]["Amount"] = 2500
    assert stacks.deploy(name, resources)["StackStatus"] == "UPDATE_COMPLETE"
    described = budgets.describe_budget(AccountId=ACCOUNT, BudgetName=budget_name)["Budget"]
    assert described["BudgetLimit"]["Amount"] == "2500.0"

    assert stacks.delete(name) == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="NotFoundException"):
        budgets.describe_budget(AccountId=ACCOUNT, BudgetName=budget_name)


def test_new_notifications_replace_a_renamed_budget_and_fail_a_budget_that_keeps_its_name(stacks: Stacks) -> None:
    name, resources = stacks.unique_name(), _unique(stacks, _resources())
    assert stacks.deploy(name, resources)["StackStatus"] == "CREATE_COMPLETE"
    kept_name = copy.deepcopy(resources)
    kept_name["Budget"]["Properties"]["NotificationsWithSubscribers"][0]["Notification"]["Threshold"] = 90
    assert "custom-named resource requires replacing" in _failure(stacks, name, kept_name)

    renamed = _unique(stacks, kept_name)
    assert stacks.deploy(name, renamed)["StackStatus"] == "UPDATE_COMPLETE"
    listed = {b["BudgetName"] for b in stacks.client("budgets").describe_budgets(AccountId=ACCOUNT)["Budgets"]}
    assert renamed["Budget"]["Properties"]["Budget"]["BudgetName"] in listed
    assert resources["Budget"]["Properties"]["Budget"]["BudgetName"] not in listed
    assert stacks.delete(name) == "DELETE_COMPLETE"


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ({"topic_admits_budgets": False}, "its topic policy does not allow budgets.amazonaws.com sns:Publish"),
        ({"key_admits_budgets": False}, "the key of its topic does not allow budgets.amazonaws.com"),
    ],
)
def test_a_budget_is_refused_a_topic_that_budgets_may_not_publish_to(stacks: Stacks, setting, reason) -> None:
    assert reason in _failure(stacks, stacks.unique_name(), _unique(stacks, _resources(**setting)))


def test_every_problem_of_a_budget_is_reported_at_once(stacks: Stacks) -> None:
    resources = _resources(
        BudgetName="eu-west-1:monthly",
        TimeUnit="WEEKLY",
        CostFilters={"TagKeyValue": ["ml-platform-stage=MlPlatform-eu-west-1"], "Team": ["ml"]},
        Notifications=[("ACTUAL", 80), ("ACTUAL", 80), *(("FORECASTED", p) for p in range(10, 100, 10))],
    )
    reason = _failure(stacks, stacks.unique_name(), resources)
    for expected in (
        "BudgetName 'eu-west-1:monthly'",
        "TimeUnit 'WEEKLY'",
        "CostFilters TagKeyValue 'ml-platform-stage=MlPlatform-eu-west-1': user:<key>$<value>",
        "CostFilters 'Team'",
        "11 notifications: at most 10",
        "given twice",
    ):
        assert expected in reason, f"{expected!r} not in {reason}"


def test_create_budget_refuses_a_name_the_account_has(stacks: Stacks) -> None:
    budgets = stacks.client("budgets")
    budget = {
        "BudgetName": stacks.unique_name("budget"),
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": "10", "Unit": "USD"},
    }
    budgets.create_budget(AccountId=ACCOUNT, Budget=budget)
    with pytest.raises(ClientError, match="exists in account"):
        budgets.create_budget(AccountId=ACCOUNT, Budget=budget)
    with pytest.raises(ClientError, match="no such topic"):
        budgets.create_budget(
            AccountId=ACCOUNT,
            Budget=budget | {"BudgetName": stacks.unique_name("budget")},
            NotificationsWithSubscribers=[
                {
                    "Notification": {
                        "NotificationType": "ACTUAL",
                        "ComparisonOperator": "GREATER_THAN",
                        "Threshold": 80,
                    },
                    "Subscribers": [
                        {"SubscriptionType": "SNS", "Address": f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic"}
                    ],
                }
            ],
        )
