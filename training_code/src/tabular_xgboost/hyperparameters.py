"""Typed, range-checked hyperparameters from SageMaker's ``hyperparameters.json``.

SageMaker passes every value as a string. Each one is parsed and checked here, and every problem
is reported at once, so a user fixes a job in one round trip instead of one per mistake.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, Literal

from tabular_xgboost.errors import UserError

Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")

# SageMaker adds keys of its own, e.g. `_tuning_objective_metric` in tuning jobs and `sagemaker_*`
# from framework estimators; they are not ours to reject.
_RESERVED_PREFIXES = ("_", "sagemaker_")


@dataclass(frozen=True)
class Rule:
    """What one hyperparameter allows: the parser, the words of error messages and the exported contract all
    follow from these fields."""

    type: Literal["integer", "number", "string"]
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] | None = None
    required: bool = False
    pattern: str | None = None
    """A string must match it whole."""
    description: str | None = None
    """What is allowed, in words, where the type alone does not say it."""

    def parse(self, text: str) -> Any:
        """The typed value, or ValueError when the text is not allowed."""
        if self.type == "string":
            if not text.strip() or (self.choices is not None and text not in self.choices):
                raise ValueError
            if self.pattern is not None and not re.fullmatch(self.pattern, text):
                raise ValueError
            return text
        value = int(text) if self.type == "integer" else float(text)
        above_minimum = value > self.minimum if self.exclusive_minimum else value >= self.minimum
        if not (math.isfinite(value) and above_minimum and value <= self.maximum):
            raise ValueError
        return value

    @property
    def allowed(self) -> str:
        if self.description is not None:
            return self.description
        if self.choices is not None:
            return "one of " + ", ".join(self.choices)
        if self.type == "string":
            return "a column name"
        if self.type == "integer":
            return f"an integer from {self.minimum} to {self.maximum}"
        bracket = "(" if self.exclusive_minimum else "["
        return f"a number in {bracket}{_plain(self.minimum)}, {_plain(self.maximum)}]"


def _integer(low: int, high: int) -> Rule:
    return Rule("integer", low, high)


def _real(low: float, high: float, *, low_exclusive: bool = False) -> Rule:
    return Rule("number", low, high, exclusive_minimum=low_exclusive)


def _plain(number: float) -> str:
    """1000000 rather than 1e+06: the form users type."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _choice(options: tuple[str, ...]) -> Rule:
    return Rule("string", choices=options, required=True)


def _name() -> Rule:
    return Rule("string", required=True)


# MLflow's tracking URIs: a SageMaker managed tracking server by its ARN (with the sagemaker-mlflow plugin), or an
# MLflow server over HTTP(S).
_TRACKING_URI = Rule(
    "string",
    pattern=r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:mlflow-tracking-server/[a-zA-Z0-9-]{1,256}"
    r"|https?://[^\s/]+(/\S*)?",
    description="an MLflow tracking URI: a SageMaker MLflow tracking server ARN, or http(s)://host[:port][/path]",
)
_EXPERIMENT = Rule(
    "string", pattern=r"[a-zA-Z0-9\-_./]{1,256}", description="1-256 letters, digits and -_./ (an MLflow experiment)"
)


# Keys are the names users pass; `lambda` and `alpha` follow XGBoost and SageMaker's built-in
# XGBoost, so the same hyperparameters move between the two.
RULES: dict[str, Rule] = {
    "target_column": _name(),
    "task": _choice(TASKS),
    "num_round": _integer(1, 10_000),
    "max_depth": _integer(1, 20),
    "eta": _real(0, 1, low_exclusive=True),
    "min_child_weight": _real(0, 1e6),
    "subsample": _real(0, 1, low_exclusive=True),
    "colsample_bytree": _real(0, 1, low_exclusive=True),
    "lambda": _real(0, 1e6),
    "alpha": _real(0, 1e6),
    "gamma": _real(0, 1e6),
    "max_bin": _integer(2, 1024),
    "scale_pos_weight": _real(0, 1e6, low_exclusive=True),
    "early_stopping_rounds": _integer(1, 10_000),
    "checkpoint_frequency": _integer(1, 10_000),
    "validation_fraction": _real(0, 0.5, low_exclusive=True),
    "seed": _integer(0, 2**31 - 1),
    "mlflow_tracking_uri": _TRACKING_URI,
    "mlflow_experiment": _EXPERIMENT,
}

_FIELD_FOR_KEY = {"lambda": "reg_lambda", "alpha": "reg_alpha"}


@dataclass(frozen=True)
class Hyperparameters:
    """Training settings. Defaults apply to keys that are absent."""

    target_column: str
    task: Task
    num_round: int = 100
    max_depth: int = 6
    eta: float = 0.3
    min_child_weight: float = 1.0
    subsample: float = 1.0
    colsample_bytree: float = 1.0
    reg_lambda: float = 1.0
    reg_alpha: float = 0.0
    gamma: float = 0.0
    max_bin: int = 256
    scale_pos_weight: float = 1.0
    early_stopping_rounds: int | None = None
    """Stop when the objective metric has not improved for this many rounds; absent: never."""
    checkpoint_frequency: int = 10
    """Write a checkpoint every this many rounds (and after the last one)."""
    validation_fraction: float = 0.2
    """Share of the training rows held out for validation when there is no validation channel."""
    seed: int = 0
    mlflow_tracking_uri: str | None = None
    """Where the run's parameters, per-round metrics and model are logged; absent: nowhere."""
    mlflow_experiment: str = "tabular-xgboost"
    """The MLflow experiment of the run."""

    def by_name(self) -> dict[str, Any]:
        """Every hyperparameter's value by the name users pass (``lambda``, not ``reg_lambda``)."""
        return {key: getattr(self, _FIELD_FOR_KEY.get(key, key)) for key in RULES}

    def booster_params(self, *, threads: int, device: str = "cpu") -> dict[str, Any]:
        """XGBoost parameters for training on ``device`` (``cpu`` or ``cuda``); evaluation metrics are added by the
        trainer."""
        params: dict[str, Any] = {
            "objective": "binary:logistic" if self.task == "classification" else "reg:squarederror",
            "tree_method": "hist",
            "device": device,
            "max_depth": self.max_depth,
            "eta": self.eta,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "lambda": self.reg_lambda,
            "alpha": self.reg_alpha,
            "gamma": self.gamma,
            "max_bin": self.max_bin,
            "seed": self.seed,
            "nthread": threads,
        }
        if self.task == "classification":
            params["scale_pos_weight"] = self.scale_pos_weight
        return params


def defaults() -> dict[str, Any]:
    """The default of every hyperparameter that has one, by the name users pass (None: absent means off)."""
    by_field = {field.name: field.default for field in fields(Hyperparameters) if field.default is not MISSING}
    return {key: by_field[_FIELD_FOR_KEY.get(key, key)] for key in RULES if _FIELD_FOR_KEY.get(key, key) in by_field}


def parse_hyperparameters(raw: Mapping[str, Any]) -> Hyperparameters:
    """Builds Hyperparameters from the JSON object SageMaker wrote, or raises UserError listing
    every unknown, missing and invalid key together with what is allowed."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key in sorted(raw):
        if key.startswith(_RESERVED_PREFIXES):
            continue
        rule = RULES.get(key)
        if rule is None:
            problems.append(f"unknown hyperparameter '{key}'; known ones: {', '.join(sorted(RULES))}")
            continue
        value = raw[key]
        # SageMaker always sends strings; numbers are accepted too for hand-written local files.
        text = value if isinstance(value, str) else json.dumps(value)
        try:
            values[_FIELD_FOR_KEY.get(key, key)] = rule.parse(text.strip())
        except ValueError:
            problems.append(f"{key}={text!r} is invalid: must be {rule.allowed}")
    for key, rule in RULES.items():
        if rule.required and key not in raw:
            problems.append(f"{key} is required: must be {rule.allowed}")
    if problems:
        raise UserError("Invalid hyperparameters: " + "; ".join(problems))
    return Hyperparameters(**values)
