"""What a Region costs is visible: every billable resource carries the platform's cost-allocation tag, and a Region
with a budget has a monthly cost budget of its tagged costs that warns the Region's alert topic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from ml_constructs import AlertTopic, RegionBudget, RegionBudgetProps
from platform_contract.names import PLATFORM_TAG_KEY
from platform_contract.problems import InvalidInput
from tests.conftest import shipped_context

BUDGET_REGION = "eu-west-1"
"""The shipped cdk.json gives this Region a budget of 1000 USD and the other Region none."""
PLATFORM_TAG = {"Key": PLATFORM_TAG_KEY, "Value": f"MlPlatform-{BUDGET_REGION}"}


def one(template: Template, type_: str) -> tuple[str, Mapping[str, Any]]:
    found = template.find_resources(type_)
    assert len(found) == 1, f"expected one {type_}, found {list(found)}"
    return next(iter(found.items()))


@pytest.mark.parametrize(
    ("stack", "type_"),
    [
        ("serving", "AWS::SageMaker::Endpoint"),
        ("serving", "AWS::SageMaker::EndpointConfig"),
        ("serving", "AWS::SageMaker::Model"),
        ("training", "AWS::SageMaker::Pipeline"),
        ("data", "AWS::S3::Bucket"),
        ("data", "AWS::KMS::Key"),
        ("network", "AWS::EC2::VPCEndpoint"),
        ("data", "AWS::Budgets::Budget"),
    ],
)
def test_billable_resources_carry_the_platform_tag_with_the_regions_stage(platform, stack, type_):
    for logical_id, resource in platform.template(BUDGET_REGION, stack).find_resources(type_).items():
        tags = resource["Properties"].get("Tags", resource["Properties"].get("ResourceTags", []))
        assert PLATFORM_TAG in tags, f"{logical_id} ({type_}) lacks {PLATFORM_TAG}: {tags}"


def test_the_platform_tag_names_each_regions_own_stage(platform):
    buckets = platform.template("us-east-1", "data").find_resources("AWS::S3::Bucket").values()
    for resource in buckets:
        assert {"Key": PLATFORM_TAG_KEY, "Value": "MlPlatform-us-east-1"} in resource["Properties"]["Tags"]


def test_a_region_with_a_monthly_budget_gets_a_cost_budget_of_its_tagged_costs(platform):
    template = platform.template(BUDGET_REGION, "data")
    budget_id, budget = one(template, "AWS::Budgets::Budget")
    data = budget["Properties"]["Budget"]
    assert data["BudgetType"] == "COST"
    assert data["TimeUnit"] == "MONTHLY"
    assert data["BudgetLimit"] == {"Amount": 1000, "Unit": "USD"}
    assert data["CostFilters"] == {"TagKeyValue": [f"user:{PLATFORM_TAG_KEY}$MlPlatform-{BUDGET_REGION}"]}
    topic_id, _ = one(template, "AWS::SNS::Topic")
    notifications = {
        (entry["Notification"]["NotificationType"], entry["Notification"]["Threshold"]): entry
        for entry in budget["Properties"]["NotificationsWithSubscribers"]
    }
    assert set(notifications) == {("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)}
    for entry in notifications.values():
        assert entry["Notification"]["ComparisonOperator"] == "GREATER_THAN"
        assert entry["Notification"]["ThresholdType"] == "PERCENTAGE"
        assert entry["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": topic_id}}]
    policy_id, _ = one(template, "AWS::SNS::TopicPolicy")
    assert policy_id in budget["DependsOn"], "Budgets must be allowed to publish before its notifications exist"
    outputs = platform.template_json(BUDGET_REGION, "data")["Outputs"]
    assert outputs["BudgetName"]["Value"] == data["BudgetName"]
    assert data["BudgetName"].startswith(f"MlPlatform-{BUDGET_REGION}-Data-MonthlyCost-")
    assert budget_id.startswith("MonthlyCostBudget")


def test_a_region_without_a_budget_has_none_and_its_topic_admits_no_budgets(platform):
    template = platform.template("us-east-1", "data")
    assert template.find_resources("AWS::Budgets::Budget") == {}
    assert "BudgetName" not in platform.template_json("us-east-1", "data")["Outputs"]
    assert "budgets.amazonaws.com" not in str(platform.template_json("us-east-1", "data")["Resources"])


def _statement(document: Mapping[str, Any], sid: str) -> Mapping[str, Any]:
    return next(statement for statement in document["Statement"] if statement.get("Sid") == sid)


def test_budgets_of_this_account_alone_may_publish_to_the_encrypted_topic_and_use_its_key(platform):
    template = platform.template(BUDGET_REGION, "data")
    _, key = one(template, "AWS::KMS::Key")
    _, policy = one(template, "AWS::SNS::TopicPolicy")
    topic_id, _ = one(template, "AWS::SNS::Topic")
    conditions = {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:aws:budgets::", {"Ref": "AWS::AccountId"}, ":*"]]}},
    }
    on_key = _statement(key["Properties"]["KeyPolicy"], "AllowBudgetNotificationsOfThisAccount")
    assert on_key["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert sorted(on_key["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert on_key["Condition"] == conditions
    on_topic = _statement(policy["Properties"]["PolicyDocument"], "AllowBudgetNotificationsOfThisAccount")
    assert on_topic["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert on_topic["Action"] == "sns:Publish"
    assert on_topic["Resource"] == {"Ref": topic_id}
    assert on_topic["Condition"] == conditions


def _budget_name(stack_name: str, props: RegionBudgetProps) -> str:
    app = cdk.App(context=shipped_context())
    stack = cdk.Stack(app, stack_name, env=cdk.Environment(region="eu-west-1"))
    alerts = AlertTopic(stack, "Alerts", key=kms.Key(stack, "Key"))
    return RegionBudget(stack, "MonthlyCost", props=props, alerts=alerts, cost_tag=("k", "v")).budget_name


def test_budget_names_are_unique_per_region_and_change_with_the_notifications_alone():
    props = RegionBudgetProps(monthly_budget=100)
    name = _budget_name("MlPlatform-eu-west-1-Data", props)
    assert name != _budget_name("MlPlatform-us-east-1-Data", props), "budgets are global: Regions must not collide"
    # Name and notifications are set on creation only; new thresholds replace the budget, under a new name.
    assert name != _budget_name("MlPlatform-eu-west-1-Data", RegionBudgetProps(100, actual_alert_percentages=(90,)))
    assert name == _budget_name("MlPlatform-eu-west-1-Data", RegionBudgetProps(monthly_budget=250))
    assert len(_budget_name("S" * 120, props)) <= 100


def test_a_budget_its_props_refuse_is_reported_with_every_problem_at_once():
    with pytest.raises(InvalidInput) as raised:
        _budget_name("Stack", RegionBudgetProps(monthly_budget=-1, currency="EUR", forecast_alert_percentages=(0,)))
    assert [problem.key for problem in raised.value.problems] == [
        "monthly_budget",
        "currency",
        "forecast_alert_percentages[0]",
    ]
