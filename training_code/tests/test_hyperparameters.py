"""Hyperparameters arrive from SageMaker as strings and are parsed, range-checked and typed."""

from __future__ import annotations

import re

import pytest
from container_harness import TRAINING_CODE
from tabular_xgboost.errors import UserError
from tabular_xgboost.hyperparameters import RULES, Hyperparameters, parse_hyperparameters


def test_strings_become_typed_values_and_absent_keys_take_defaults():
    parsed = parse_hyperparameters(
        {"target_column": "churned", "task": "classification", "num_round": "250", "eta": "0.05", "lambda": "2"}
    )

    assert parsed == Hyperparameters(
        target_column="churned", task="classification", num_round=250, eta=0.05, reg_lambda=2.0
    )


def test_keys_sagemaker_adds_itself_are_ignored():
    parsed = parse_hyperparameters(
        {
            "target_column": "y",
            "task": "regression",
            "_tuning_objective_metric": "validation:rmse",
            "sagemaker_container_log_level": "20",
        }
    )

    assert parsed.task == "regression"


def test_every_problem_is_reported_at_once_with_key_value_and_what_is_allowed():
    with pytest.raises(UserError) as raised:
        parse_hyperparameters(
            {
                "task": "ranking",
                "num_round": "ten",
                "eta": "0",
                "subsample": "1.5",
                "max_depth": "6.5",
                "seed": "-1",
                "learning_rate": "0.1",
            }
        )

    message = str(raised.value)
    for expected in (
        "task='ranking' is invalid: must be one of classification, regression",
        "num_round='ten' is invalid: must be an integer from 1 to 10000",
        "eta='0' is invalid: must be a number in (0, 1]",
        "subsample='1.5' is invalid: must be a number in (0, 1]",
        "max_depth='6.5' is invalid: must be an integer from 1 to 20",
        "seed='-1' is invalid: must be an integer from 0 to 2147483647",
        "unknown hyperparameter 'learning_rate'; known ones: alpha, checkpoint_frequency",
        "target_column is required: must be a column name",
    ):
        assert expected in message


@pytest.mark.parametrize("value", ["nan", "inf", "-0.1", ""])
def test_non_finite_negative_and_empty_numbers_are_rejected(value):
    with pytest.raises(UserError, match=re.escape(f"gamma={value!r} is invalid")):
        parse_hyperparameters({"target_column": "y", "task": "regression", "gamma": value})


def test_the_readme_documents_every_hyperparameter():
    readme = (TRAINING_CODE / "README.md").read_text()

    for key, rule in RULES.items():
        assert re.search(rf"^\| `{key}` \|.*\| {re.escape(rule.allowed)} \|", readme, re.MULTILINE), key
