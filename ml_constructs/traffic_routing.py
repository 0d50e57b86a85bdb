"""How a blue/green update of a SageMaker endpoint moves traffic from the old fleet to the new one."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from aws_cdk import Duration
from aws_cdk import aws_sagemaker as sagemaker

# SageMaker's limits: a canary is at most half the variant's instance count, a linear step 10-50 % of it
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html).
_CANARY_PERCENT_RANGE = (1, 50)
# A step is at least one instance and at most half the fleet, so a fleet must have two instances to be split.
SPLITTABLE_FLEET = 2
_LINEAR_STEP_PERCENT_RANGE = (10, 50)
MAXIMUM_WAIT_SECONDS = 3600
"""The longest baking step and termination wait SageMaker accepts."""


@dataclass(frozen=True)
class TrafficRouting:
    """How a blue/green update moves traffic from the old fleet to the new one.

    ``canary``: ``percent`` of the capacity first, the rest after ``wait``. ``linear``: ``percent`` per step,
    ``wait`` between steps. ``all_at_once``: every request moves to the new fleet at once, which then bakes for
    ``wait`` before the old fleet goes (``percent`` is 100). The rollback alarms watch every step.
    """

    mode: Literal["canary", "linear", "all_at_once"]
    percent: int
    wait: Duration

    @classmethod
    def canary(cls, percent: int, wait: Duration) -> TrafficRouting:
        return cls("canary", percent, wait)

    @classmethod
    def linear(cls, percent: int, wait: Duration) -> TrafficRouting:
        return cls("linear", percent, wait)

    @classmethod
    def all_at_once(cls, wait: Duration) -> TrafficRouting:
        return cls("all_at_once", 100, wait)

    @property
    def splits_the_fleet(self) -> bool:
        """Whether a share of the new fleet takes traffic while the old fleet serves the rest."""
        return self.mode != "all_at_once"

    def for_fleet(self, smallest_instance_count: int) -> TrafficRouting:
        """This routing, or all at once with the same baking where the fleet may be too small to split.

        SageMaker sizes a canary or linear step in instances, at most half of the variant's instance count, so a
        one-instance fleet cannot be split; all at once keeps the baking and the rollback alarms.
        """
        if self.splits_the_fleet and smallest_instance_count < SPLITTABLE_FLEET:
            return TrafficRouting.all_at_once(self.wait)
        return self

    @property
    def steps(self) -> int:
        """Traffic shifts that are each followed by a baking time of ``wait``."""
        return math.ceil(100 / self.percent) if self.mode == "linear" else 1

    def problems(self) -> list[str]:
        """What SageMaker would reject, each with what is allowed."""
        if not self.splits_the_fleet:
            return self._wait_problems()
        low, high = _CANARY_PERCENT_RANGE if self.mode == "canary" else _LINEAR_STEP_PERCENT_RANGE
        found = []
        if not low <= self.percent <= high:
            found.append(
                f"{self.mode} traffic routing moves {self.percent}% of the capacity per step; "
                f"allowed: {low}-{high}% (SageMaker's limit for {self.mode} steps)"
            )
        return found + self._wait_problems()

    def _wait_problems(self) -> list[str]:
        if not 0 <= self.wait.to_seconds() <= MAXIMUM_WAIT_SECONDS:
            return [f"traffic routing wait is {self.wait.to_seconds()} s; allowed: 0-{MAXIMUM_WAIT_SECONDS} s"]
        return []

    def render(self) -> sagemaker.CfnEndpoint.TrafficRoutingConfigProperty:
        """The TrafficRoutingConfiguration of the endpoint's blue/green update policy."""
        size = sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=self.percent)
        return sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
            type=self.mode.upper(),
            wait_interval_in_seconds=int(self.wait.to_seconds()),
            canary_size=size if self.mode == "canary" else None,
            linear_step_size=size if self.mode == "linear" else None,
        )
