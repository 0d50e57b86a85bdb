"""What the platform's model image accepts, read from the contract it publishes (training_code/contract.json).

The image is the one home of its hyperparameters' rules; the config checks cdk.json's ``training.hyperparameters``
against them so that a typo or an out-of-range value stops synth instead of failing a training job an hour later.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from pathlib import Path
from typing import Any

from platform_contract.instance_types import Accelerator
from platform_contract.problems import Problem

CONTRACT_FILE = Path(__file__).resolve().parent.parent / "training_code" / "contract.json"
DEFAULT_IMAGE_BUILD = "cpu"
"""The image build the platform deploys: the one ``ContainerImage.from_asset`` builds without build arguments."""
# SageMaker adds keys of its own (tuning, framework estimators): they are not the image's to refuse.
_RESERVED_PREFIXES = ("_", "sagemaker_")
_ACCELERATORS = {"cpu": Accelerator.NONE, "cuda": Accelerator.NVIDIA_GPU}


@functools.cache
def contract() -> dict[str, Any]:
    return json.loads(CONTRACT_FILE.read_text())


def image_accelerators(build: str = DEFAULT_IMAGE_BUILD) -> frozenset[Accelerator]:
    """What the instances of ``build`` may carry: an accelerator the build does not use is paid for in vain."""
    return frozenset(_ACCELERATORS[device] for device in contract()["image_builds"][build]["devices"])


def hyperparameter_problems(values: dict[str, str]) -> list[Problem]:
    """Every hyperparameter the image would refuse; keys are the hyperparameters' names."""
    rules: dict[str, dict[str, Any]] = contract()["hyperparameters"]
    problems = []
    for name, text in values.items():
        if name.startswith(_RESERVED_PREFIXES):
            continue
        rule = rules.get(name)
        if rule is None:
            close = difflib.get_close_matches(name, list(rules), n=1)
            reason = f"the image has no such hyperparameter; did you mean {close[0]}?" if close else "unknown"
            problems.append(Problem(name, "<unknown hyperparameter>", ", ".join(rules), reason))
        elif not _accepts(rule, text):
            problems.append(Problem(name, text, rule["allowed"]))
    for name, rule in rules.items():
        if rule["required"] and name not in values:
            problems.append(Problem(name, None, rule["allowed"], "required by the image"))
    return problems


def _accepts(rule: dict[str, Any], text: str) -> bool:
    if rule["type"] == "string":
        pattern = rule.get("pattern")
        return (
            bool(text.strip())
            and text in rule.get("choices", [text])
            and (pattern is None or re.fullmatch(pattern, text) is not None)
        )
    try:
        value: float = int(text) if rule["type"] == "integer" else float(text)
    except ValueError:
        return False
    low, high = rule["minimum"], rule["maximum"]
    above_low = value > low if rule["exclusive_minimum"] else value >= low
    return math.isfinite(value) and above_low and value <= high
