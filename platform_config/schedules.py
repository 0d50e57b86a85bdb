"""Schedule expressions as the AWS services that run them accept them, checked at config time.

EventBridge rules (retraining) take ``rate(...)`` and ``cron(...)``; Application Auto Scaling scheduled actions
(capacity windows) also take a one-time ``at(...)``. Both use EventBridge's six-field cron syntax:
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html (EventBridge) and
https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html (Application Auto
Scaling).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

_RATE = re.compile(r"^rate\((?P<value>[0-9]+) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
_AT = re.compile(r"^at\((?P<moment>[^()]*)\)$")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class ScheduleTarget(StrEnum):
    EVENTBRIDGE = "an EventBridge rule"
    APPLICATION_AUTO_SCALING = "an Application Auto Scaling scheduled action"


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    extra: str = ""
    """Characters beyond , - * / that the field accepts (EventBridge's cron reference)."""


_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31, extra="?LW"),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _WEEKDAYS, extra="?L#"),
    _Field("year", 1970, 2199),
)

EXAMPLES = "rate(1 day), rate(6 hours), cron(0 3 ? * SUN *)"


def schedule_problem(expression: str, target: ScheduleTarget) -> str | None:
    """Why ``target`` would refuse ``expression``, or None. The message says what is allowed."""
    allowed = "at(yyyy-mm-ddThh:mm:ss), " if target is ScheduleTarget.APPLICATION_AUTO_SCALING else ""
    allowed += f"rate(N unit) or cron(minutes hours day-of-month month day-of-week year), e.g. {EXAMPLES}"
    if rate := _RATE.match(expression):
        value, unit = int(rate["value"]), rate["unit"]
        if value < 1:
            return f"the rate must be a positive number; allowed: {allowed}"
        # EventBridge: a value of 1 takes the singular unit, any other value the plural.
        if target is ScheduleTarget.EVENTBRIDGE and (value == 1) == unit.endswith("s"):
            fixed = unit.rstrip("s") if value == 1 else unit + "s" if not unit.endswith("s") else unit
            return f"rate({value} {unit}) is refused by {target}; allowed: rate({value} {fixed})"
        return None
    if cron := _CRON.match(expression):
        problem = _cron_problem(cron["fields"].split(" "))
        return f"{problem}; allowed: {allowed}" if problem else None
    if target is ScheduleTarget.APPLICATION_AUTO_SCALING and (at := _AT.match(expression)):
        try:
            datetime.strptime(at["moment"], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return f"'{at['moment']}' is not a moment; allowed: at(yyyy-mm-ddThh:mm:ss), e.g. at(2027-01-31T06:00:00)"
        return None
    return f"not a schedule expression of {target}; allowed: {allowed}"


def _cron_problem(fields: list[str]) -> str | None:
    if len(fields) != len(_FIELDS):
        return f"cron takes {len(_FIELDS)} fields separated by single spaces, found {len(fields)}"
    for field, text in zip(_FIELDS, fields, strict=True):
        problem = _field_problem(field, text)
        if problem:
            return problem
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "exactly one of day-of-month and day-of-week must be ?"
    return None


def _field_problem(field: _Field, text: str) -> str | None:
    if text in ("*", "?") and (text == "*" or "?" in field.extra):
        return None
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            return f"{field.name} step '{step}' must be a positive number"
        if base in ("*", "L") and (base == "*" or "L" in field.extra):
            continue
        if field.name == "day-of-week" and "#" in base:
            day, _, nth = base.partition("#")
            if _value(field, day) is None or nth not in ("1", "2", "3", "4", "5"):
                return f"day-of-week '{base}' must be <day>#<1-5>"
            continue
        if field.name == "day-of-month" and base.endswith("W"):
            base = base[:-1]
        low, _, high = base.partition("-")
        for value in filter(None, (low, high)):
            if _value(field, value) is None:
                names = f" or {field.names[0]}-{field.names[-1]}" if field.names else ""
                return f"{field.name} '{value}' is out of range; allowed: {field.low}-{field.high}{names}"
    return None


def _value(field: _Field, text: str) -> int | None:
    if text.upper() in field.names:
        return field.names.index(text.upper()) + field.low
    if text.isdigit() and field.low <= int(text) <= field.high:
        return int(text)
    return None
