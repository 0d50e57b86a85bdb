"""What a RegionBudget watches: one frozen props object, its defaults and the rules AWS Budgets enforces.

Field names are the keys of the ``cost`` section of cdk.json, so a problem's key is the config path below it.
Standard library and ``platform_contract`` only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from platform_contract.limits import BUDGET_CURRENCIES, MAX_BUDGET_NOTIFICATIONS
from platform_contract.problems import Problem

ALERT_PERCENT_RANGE = (1.0, 1000.0)
"""Alert thresholds in percent of the budget: from 1 % (a warning earlier than that says nothing) to 1000 % (the
forecast is ten times the budget). AWS accepts more; a threshold outside these is a typo, not a plan."""


class NotificationType(StrEnum):
    """Budgets' NotificationType: what the threshold is compared with."""

    ACTUAL = "ACTUAL"
    """The month's costs so far."""
    FORECASTED = "FORECASTED"
    """The month's costs as AWS forecasts them; AWS needs about five weeks of cost history to forecast."""


@dataclass(frozen=True)
class RegionBudgetProps:
    """A monthly COST budget of the Region's costs, with alerts at percentages of it; every default is here."""

    monthly_budget: float
    """The month's budget in ``currency``, above 0. Required."""
    currency: str = "USD"
    """The budget's unit; only USD, the unit AWS reports costs in. Default: USD."""
    actual_alert_percentages: tuple[float, ...] = (80.0, 100.0)
    """Alert when the month's costs so far pass these percentages of the budget, each 1-1000 and once. Default: 80
    and 100."""
    forecast_alert_percentages: tuple[float, ...] = (100.0,)
    """Alert when the month's forecast passes these percentages of the budget, each 1-1000 and once. Default: 100."""

    @property
    def alerts(self) -> tuple[tuple[NotificationType, float], ...]:
        """Every alert: (what is compared, threshold in percent)."""
        return tuple(
            (kind, percent)
            for kind, percentages in (
                (NotificationType.ACTUAL, self.actual_alert_percentages),
                (NotificationType.FORECASTED, self.forecast_alert_percentages),
            )
            for percent in percentages
        )

    def problems(self) -> list[Problem]:
        """Every value AWS Budgets (or the platform's rule for alert thresholds) would refuse, keyed by field."""
        problems = []
        if not (math.isfinite(self.monthly_budget) and self.monthly_budget > 0):
            problems.append(Problem("monthly_budget", self.monthly_budget, f"an amount above 0 in {self.currency}"))
        if self.currency not in BUDGET_CURRENCIES:
            problems.append(
                Problem(
                    "currency",
                    self.currency,
                    ", ".join(BUDGET_CURRENCIES),
                    "AWS reports costs, and compares budgets with them, in USD",
                )
            )
        low, high = ALERT_PERCENT_RANGE
        for key, percentages in (
            ("actual_alert_percentages", self.actual_alert_percentages),
            ("forecast_alert_percentages", self.forecast_alert_percentages),
        ):
            for index, percent in enumerate(percentages):
                if not low <= percent <= high:
                    problems.append(Problem(f"{key}[{index}]", percent, f"{low:g} to {high:g} (percent of the budget)"))
            for percent in sorted({p for p in percentages if percentages.count(p) > 1}):
                problems.append(Problem(key, percent, "each threshold once", "listed twice; AWS refuses duplicates"))
        if not self.alerts:
            problems.append(
                Problem("actual_alert_percentages", [], "at least one alert threshold", "a budget no one hears of")
            )
        if len(self.alerts) > MAX_BUDGET_NOTIFICATIONS:
            problems.append(
                Problem(
                    "actual_alert_percentages",
                    f"<{len(self.alerts)} thresholds in all>",
                    f"at most {MAX_BUDGET_NOTIFICATIONS} actual and forecast thresholds together (AWS's limit)",
                )
            )
        return problems
