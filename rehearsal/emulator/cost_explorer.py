"""Cost Explorer's GetCostAndUsage in the emulator, over costs that a test or the rehearsal records.

moto 5.2.5's GetCostAndUsage checks nothing and answers with nothing, or with whole answers queued in advance for a
request body it has to match byte for byte; so it cannot show whether a caller filters and groups as intended. Here
``POST /_rehearsal/ce/costs`` records costs (a day, a service, an amount in USD, the resource's tags) and
GetCostAndUsage answers from them as Cost Explorer does: the request is checked against botocore's model of the
operation and the rules Cost Explorer adds (dates as YYYY-MM-DD, the start before the end, at most two GroupBy
keys), only costs within [Start, End) that match the Filter (Dimensions SERVICE and REGION, Tags, And, Or, Not)
count, and they are summed per DAILY or MONTHLY period and per group (GroupBy DIMENSION SERVICE or TAG).
"""

from __future__ import annotations

import datetime
import json
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.ce.responses import CostExplorerResponse
from moto.core.exceptions import JsonRESTError

from platform_contract.api_shapes import sdk_refusal
from rehearsal.aws import COST_RECORDS_PATH
from rehearsal.emulator.operations import ControlError, required

UNIT = "USD"
METRICS = frozenset(
    {"AmortizedCost", "BlendedCost", "NetAmortizedCost", "NetUnblendedCost", "NormalizedUsageAmount", "UnblendedCost"}
)
"""Cost metrics of GetCostAndUsage (UsageQuantity aside, which costs do not have)."""
MAX_GROUP_BY = 2
_DIMENSIONS: dict[str, Callable[[CostRecord], str]] = {
    "SERVICE": lambda record: record.service,
    "REGION": lambda record: record.region,
}

_lock = threading.Lock()


@dataclass(frozen=True)
class CostRecord:
    day: datetime.date
    service: str
    region: str
    amount: float
    tags: dict[str, str]


_records: dict[str, list[CostRecord]] = defaultdict(list)


class CostExplorerValidation(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


def _day(text: Any, where: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise CostExplorerValidation(f"{where} {text!r} is not a date of the form YYYY-MM-DD") from None


def record_costs(request: dict[str, Any], account_id: str) -> dict[str, Any]:
    """Records ``{"costs": [{"day", "service", "region", "amount", "tags"}]}``; amounts in USD."""
    (costs,) = required(request, "costs")
    try:
        records = [
            CostRecord(
                day=datetime.date.fromisoformat(cost["day"]),
                service=cost["service"],
                region=cost.get("region", "global"),
                amount=float(cost["amount"]),
                tags=dict(cost.get("tags", {})),
            )
            for cost in costs
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise ControlError(400, f"each cost needs day (YYYY-MM-DD), service and amount: {error}") from None
    with _lock:
        _records[account_id].extend(records)
        return {"recorded": len(records)}


def _matches(expression: dict[str, Any], record: CostRecord) -> bool:
    if "And" in expression:
        return all(_matches(part, record) for part in expression["And"])
    if "Or" in expression:
        return any(_matches(part, record) for part in expression["Or"])
    if "Not" in expression:
        return not _matches(expression["Not"], record)
    if "Dimensions" in expression:
        dimension = expression["Dimensions"]
        return _DIMENSIONS[dimension["Key"]](record) in dimension.get("Values", [])
    if "Tags" in expression:
        tag = expression["Tags"]
        if "ABSENT" in tag.get("MatchOptions", []):
            return tag["Key"] not in record.tags
        return record.tags.get(tag["Key"]) in tag.get("Values", [])
    raise CostExplorerValidation(f"unsupported filter expression {sorted(expression)}")


def _expression_problems(expression: dict[str, Any], where: str) -> list[str]:
    kinds = [key for key in ("And", "Or", "Not", "Dimensions", "Tags", "CostCategories") if key in expression]
    if len(kinds) != 1:
        return [f"{where}: an Expression has exactly one of And, Or, Not, Dimensions, Tags, CostCategories"]
    kind = kinds[0]
    if kind in ("And", "Or"):
        parts = expression[kind]
        problems = [] if len(parts) >= 2 else [f"{where}.{kind}: at least two expressions"]
        return problems + [
            p for i, part in enumerate(parts) for p in _expression_problems(part, f"{where}.{kind}[{i}]")
        ]
    if kind == "Not":
        return _expression_problems(expression["Not"], f"{where}.Not")
    if kind == "Dimensions" and expression["Dimensions"].get("Key") not in _DIMENSIONS:
        return [f"{where}.Dimensions.Key {expression['Dimensions'].get('Key')!r}: the emulator knows SERVICE, REGION"]
    if kind == "Tags" and not expression["Tags"].get("Key"):
        return [f"{where}.Tags: needs a Key"]
    return []


def _periods(start: datetime.date, end: datetime.date, granularity: str) -> list[tuple[datetime.date, datetime.date]]:
    periods, current = [], start
    while current < end:
        if granularity == "DAILY":
            following = current + datetime.timedelta(days=1)
        else:
            following = (current.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
        periods.append((current, min(following, end)))
        current = following
    return periods


def get_cost_and_usage(request: dict[str, Any], account_id: str, today: datetime.date) -> dict[str, Any]:
    """The answer to a GetCostAndUsage request (already decoded) from the account's recorded costs."""
    refusal = sdk_refusal("GetCostAndUsage", request, "ce")
    if refusal:
        raise CostExplorerValidation(refusal)
    period = request["TimePeriod"]
    start, end = _day(period["Start"], "TimePeriod.Start"), _day(period["End"], "TimePeriod.End")
    problems = []
    if start >= end:
        problems.append(f"Start date {start} must be before end date {end}")
    if request["Granularity"] not in ("DAILY", "MONTHLY"):
        problems.append(f"Granularity {request['Granularity']}: the emulator answers DAILY and MONTHLY")
    problems += [
        f"Metrics {name!r}: one of {', '.join(sorted(METRICS))}" for name in request["Metrics"] if name not in METRICS
    ]
    groups = request.get("GroupBy", [])
    if len(groups) > MAX_GROUP_BY:
        problems.append(f"GroupBy: at most {MAX_GROUP_BY} keys")
    for group in groups:
        if group.get("Type") == "DIMENSION" and group.get("Key") not in _DIMENSIONS:
            problems.append(f"GroupBy DIMENSION {group.get('Key')!r}: the emulator groups by SERVICE and REGION")
    if "Filter" in request:
        problems += _expression_problems(request["Filter"], "Filter")
    if problems:
        raise CostExplorerValidation("; ".join(problems))

    with _lock:
        records = [r for r in _records[account_id] if start <= r.day < end]
    if "Filter" in request:
        records = [r for r in records if _matches(request["Filter"], r)]

    def keys(record: CostRecord) -> tuple[str, ...]:
        return tuple(
            _DIMENSIONS[g["Key"]](record) if g["Type"] == "DIMENSION" else f"{g['Key']}${record.tags.get(g['Key'], '')}"
            for g in groups
        )

    results = []
    for first, last in _periods(start, end, request["Granularity"]):
        sums: dict[tuple[str, ...], float] = defaultdict(float)
        for record in records:
            if first <= record.day < last:
                sums[keys(record)] += record.amount

        def metrics(amount: float) -> dict[str, Any]:
            return {
                name: {"Amount": f"{amount:.10f}".rstrip("0").rstrip("."), "Unit": UNIT} for name in request["Metrics"]
            }

        entry: dict[str, Any] = {
            "TimePeriod": {"Start": first.isoformat(), "End": last.isoformat()},
            "Estimated": last > today,
        }
        if groups:
            entry |= {
                "Total": {},
                "Groups": [{"Keys": list(k), "Metrics": metrics(v)} for k, v in sorted(sums.items())],
            }
        else:
            entry |= {"Total": metrics(sum(sums.values())), "Groups": []}
        results.append(entry)
    return {"ResultsByTime": results, "DimensionValueAttributes": []}


def apply() -> None:
    def answer(self: CostExplorerResponse) -> str:
        today = datetime.datetime.now(datetime.UTC).date()
        return json.dumps(get_cost_and_usage(json.loads(self.body or "{}"), self.current_account, today))

    CostExplorerResponse.get_cost_and_usage = answer


CONTROLS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {COST_RECORDS_PATH: record_costs}
