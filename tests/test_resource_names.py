"""Constructs whose resources tools find by name default that name from the stack's, in lower case, and refuse a
stack whose name is a token (a nested stack's): the name would be unknown until deploy time."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from ml_constructs import DataStore, ExperimentTracking
from ml_constructs.resource_names import synth_time_name
from platform_contract.problems import InvalidInput, Problem
from tests.conftest import shipped_context
from tests.test_studio_stack import data_scientists_domain

ENV = cdk.Environment(account="111122223333", region="eu-west-1")


def _tracking(scope: cdk.Stack) -> str:
    return ExperimentTracking(scope, "Tracking", data_store=DataStore(scope, "Data")).tracking_server_name


def _domain(scope: cdk.Stack) -> str:
    return data_scientists_domain(scope).domain_name


CONSTRUCTS = {
    "tracking_server_name": (_tracking, "mlplatform-eu-west-1-data-mlflow"),
    "domain_name": (_domain, "mlplatform-eu-west-1-data-studio"),
}


@pytest.mark.parametrize("key", CONSTRUCTS)
def test_the_default_name_is_the_stacks_in_lower_case(key):
    build, expected = CONSTRUCTS[key]
    assert build(cdk.Stack(cdk.App(context=shipped_context()), "MlPlatform-eu-west-1-Data", env=ENV)) == expected


@pytest.mark.parametrize("key", CONSTRUCTS)
def test_a_stack_whose_name_is_a_token_is_refused_with_the_props_key(key):
    build, _ = CONSTRUCTS[key]
    nested = cdk.NestedStack(cdk.Stack(cdk.App(context=shipped_context()), "Parent", env=ENV), "Nested")
    with pytest.raises(InvalidInput) as raised:
        build(nested)
    assert [str(problem) for problem in raised.value.problems] == [
        f"{key}: <token> is not allowed (the stack name is a token here; give the name explicitly); "
        "allowed: a name known at synth time"
    ]


def test_a_given_name_is_kept_as_given_and_only_the_default_is_checked_here():
    stack = cdk.Stack(cdk.App(context=shipped_context()), "Upper-Case", env=ENV)
    too_long = [Problem("name", "x", "short")]
    assert synth_time_name(stack, "Given-Name", "suffix", "name", lambda name: too_long) == ("Given-Name", [])
    assert synth_time_name(stack, None, "Suffix", "name", lambda name: too_long) == ("upper-case-suffix", too_long)
