"""How a blue/green update of a SageMaker endpoint shifts traffic from the old fleet to the new one.

Field names are the keys of ``serving.traffic_shifting`` in cdk.json. Standard library and ``platform_contract``
only, so that the config reads the defaults and rules without starting aws-cdk-lib.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal, get_args

from platform_contract.problems import Problem

ShiftMode = Literal["canary", "linear", "all_at_once"]
SHIFT_MODES: tuple[str, ...] = get_args(ShiftMode)
# SageMaker's limits: a canary is at most half the variant's instance count, a linear step 10-50 % of it
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html).
STEP_PERCENT_RANGES = {"canary": (1, 50), "linear": (10, 50)}
# A step is at least one instance and at most half the fleet, so a fleet must have two instances to be split.
SPLITTABLE_FLEET = 2
MAXIMUM_WAIT_SECONDS = 3600
"""The longest baking step and termination wait SageMaker accepts (BlueGreenUpdatePolicy)."""


@dataclass(frozen=True)
class TrafficShifting:
    """How a blue/green update moves traffic from the old fleet to the new one; the rollback alarms watch every step.

    ``canary``: ``step_percent`` of the capacity first, the rest after ``wait_seconds``. ``linear``:
    ``step_percent`` per step, ``wait_seconds`` between steps. ``all_at_once``: every request moves to the new fleet
    at once, which then bakes for ``wait_seconds`` before the old fleet goes (``step_percent`` does not apply).
    """

    mode: ShiftMode = "canary"
    """canary, linear or all_at_once. Default: canary."""
    step_percent: int = 10
    """Capacity share moved first (canary, 1-50) or per step (linear, 10-50). Default: 10."""
    wait_seconds: int = 300
    """Baking time after each step while the rollback alarms watch, at most 3600. Default: 300."""
    termination_wait_seconds: int = 120
    """Time the old fleet is kept after the last shift, 0-3600. Default: 120."""

    @property
    def splits_the_fleet(self) -> bool:
        """Whether a share of the new fleet takes traffic while the old fleet serves the rest."""
        return self.mode != "all_at_once"

    def for_fleet(self, smallest_instance_count: int) -> TrafficShifting:
        """This shifting, or all at once with the same baking where the fleet may be too small to split.

        SageMaker sizes a canary or linear step in instances, at most half of the variant's instance count, so a
        one-instance fleet cannot be split; all at once keeps the baking and the rollback alarms.
        """
        if self.splits_the_fleet and smallest_instance_count < SPLITTABLE_FLEET:
            return dataclasses.replace(self, mode="all_at_once")
        return self

    @property
    def steps(self) -> int:
        """Traffic shifts that are each followed by a baking time of ``wait_seconds``."""
        return math.ceil(100 / self.step_percent) if self.mode == "linear" else 1

    @property
    def baking_seconds(self) -> int:
        """How long a deployment bakes and waits in all: every step's wait and the termination wait."""
        return self.wait_seconds * self.steps + self.termination_wait_seconds

    def problems(self) -> list[Problem]:
        """What SageMaker would reject, each keyed by its field."""
        if self.mode not in SHIFT_MODES:
            return [Problem("mode", self.mode, ", ".join(SHIFT_MODES))]
        problems = []
        if self.mode in STEP_PERCENT_RANGES:
            low, high = STEP_PERCENT_RANGES[self.mode]
            if not low <= self.step_percent <= high:
                problems.append(
                    Problem(
                        "step_percent", self.step_percent, f"{low}-{high} for {self.mode} steps (SageMaker's limit)"
                    )
                )
        for key, value in (
            ("wait_seconds", self.wait_seconds),
            ("termination_wait_seconds", self.termination_wait_seconds),
        ):
            if not 0 <= value <= MAXIMUM_WAIT_SECONDS:
                problems.append(Problem(key, value, f"0-{MAXIMUM_WAIT_SECONDS}"))
        return problems
