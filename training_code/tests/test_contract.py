"""contract.json: the container's contract as data, generated from the code and kept equal to it."""

from __future__ import annotations

import json
import math

import pytest
from container_harness import TRAINING_CODE
from tabular_xgboost.contract import contract
from tabular_xgboost.errors import UserError
from tabular_xgboost.hyperparameters import RULES, parse_hyperparameters

CONTRACT_FILE = TRAINING_CODE / "contract.json"
REQUIRED = {"target_column": "label", "task": "classification"}


def test_the_contract_file_is_what_the_code_says():
    assert json.loads(CONTRACT_FILE.read_text()) == contract(), (
        "training_code/contract.json is out of date; regenerate it with "
        "PYTHONPATH=training_code/src python -m tabular_xgboost.contract > training_code/contract.json"
    )


def _just_outside(bound: float, integer: bool, direction: int) -> float:
    return bound + direction if integer else math.nextafter(bound, direction * math.inf)


@pytest.mark.parametrize("key", [key for key, rule in RULES.items() if rule.minimum is not None])
def test_the_range_in_the_contract_is_the_range_train_accepts(key):
    entry = contract()["hyperparameters"][key]
    integer = entry["type"] == "integer"

    def accepted(value: float) -> bool:
        try:
            parse_hyperparameters({**REQUIRED, key: str(value)})
        except UserError:
            return False
        return True

    assert accepted(entry["minimum"]) is not entry["exclusive_minimum"]
    assert not accepted(_just_outside(entry["minimum"], integer, -1))
    assert accepted(entry["maximum"])
    assert not accepted(_just_outside(entry["maximum"], integer, +1))


@pytest.mark.parametrize("key", [key for key, rule in RULES.items() if rule.choices is not None])
def test_the_choices_in_the_contract_are_the_values_train_accepts(key):
    choices = contract()["hyperparameters"][key]["choices"]

    for choice in choices:
        parse_hyperparameters({**REQUIRED, key: choice})
    with pytest.raises(UserError, match=f"{key}='none of them' is invalid"):
        parse_hyperparameters({**REQUIRED, key: "none of them"})


def test_every_default_is_allowed_and_only_required_keys_lack_one():
    entries = contract()["hyperparameters"]

    assert {key for key, entry in entries.items() if "default" not in entry} == {
        key for key, entry in entries.items() if entry["required"]
    }
    given = {key: str(entry["default"]) for key, entry in entries.items() if entry.get("default") is not None}
    parse_hyperparameters({**REQUIRED, **given})


def test_every_image_build_has_its_xgboost_pinned_and_the_dockerfile_builds_the_cpu_one_by_default():
    builds = contract()["image_builds"]

    for build, entry in builds.items():
        requirements = (TRAINING_CODE / f"requirements-{build}.txt").read_text()
        pins = [line for line in requirements.splitlines() if line.startswith("xgboost")]
        assert len(pins) == 1 and "==" in pins[0], build
        assert entry["build_args"] == {"ACCELERATOR": build}
    assert builds["gpu"]["devices"] == ["cpu", "cuda"] and builds["cpu"]["devices"] == ["cpu"]
    assert "ARG ACCELERATOR=cpu\n" in (TRAINING_CODE / "Dockerfile").read_text()
