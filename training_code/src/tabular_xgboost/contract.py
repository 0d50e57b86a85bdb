"""The container's contract as data: ``training_code/contract.json``, for tools that check a job's settings before
they start one (the platform's configuration validates hyperparameters from cdk.json with it) without importing
this package or XGBoost.

Generated from the code, and a test fails when the file and the code disagree. Regenerate it with
``PYTHONPATH=training_code/src python -m tabular_xgboost.contract > training_code/contract.json``.
"""

from __future__ import annotations

import json
from typing import Any

from tabular_xgboost.hyperparameters import RULES, defaults

FORMAT_VERSION = 1
ACCELERATORS = ("cpu", "gpu")
"""The image builds (build argument ACCELERATOR, one requirements-<accelerator>.txt each)."""
_DEVICES_BY_BUILD = {"cpu": ("cpu",), "gpu": ("cpu", "cuda")}
"""What ``train`` can run on in each build: the GPU build uses a GPU when the instance has one, else the CPUs."""


def contract() -> dict[str, Any]:
    """The hyperparameters ``train`` accepts (type, range or choices, default, required, what is allowed in words)
    and the devices each image build trains on."""
    default_values = defaults()
    hyperparameters = {}
    for key, rule in RULES.items():
        entry: dict[str, Any] = {"type": rule.type, "required": rule.required, "allowed": rule.allowed}
        if rule.choices is not None:
            entry["choices"] = list(rule.choices)
        if rule.pattern is not None:
            entry["pattern"] = rule.pattern
        if rule.minimum is not None:
            entry["minimum"] = rule.minimum
            entry["exclusive_minimum"] = rule.exclusive_minimum
            entry["maximum"] = rule.maximum
        if key in default_values:
            entry["default"] = default_values[key]
        hyperparameters[key] = entry
    return {
        "format_version": FORMAT_VERSION,
        "hyperparameters": hyperparameters,
        "image_builds": {
            build: {"build_args": {"ACCELERATOR": build}, "devices": list(_DEVICES_BY_BUILD[build])}
            for build in ACCELERATORS
        },
    }


def render() -> str:
    return json.dumps(contract(), indent=2) + "\n"


if __name__ == "__main__":
    print(render(), end="")
