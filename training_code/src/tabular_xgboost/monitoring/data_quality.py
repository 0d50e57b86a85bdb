"""``monitor-data-quality``: the captured requests of one period against the served model's baseline.

Baseline and outputs are in Model Monitor's formats ("Schema for Statistics", "Schema for Constraints",
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-statistics.html and
…/model-monitor-byoc-constraints.html; "Schema for Violations",
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-violations.html), as the training
pipeline's Prepare step writes the baseline (``data_preparation/baseline.py``). The features are numeric.

Checks, each a violation of its ``constraint_check_type``:

* ``missing_column_check`` / ``extra_column_check``: records with fewer or more values than the baseline's features;
* ``data_type_check``: the share of a feature's present values that are numbers (and whole numbers, for an
  Integral feature) is below ``monitoring_config.datatype_check_threshold``;
* ``completeness_check``: a feature's share of present values is below its constraint's ``completeness``;
* ``baseline_drift_check``: the distance between the baseline's distribution of a feature and the period's exceeds
  ``monitoring_config.distribution_constraints.comparison_threshold``. The distance is the largest difference of the
  two cumulative distributions (the baseline's from its KLL sketch, each item weighted by its level), which is 0 for
  the same data and 1 for disjoint data.

Metrics per feature, as the prebuilt analyzer names them ("CloudWatch Metrics",
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html):
``feature_data_<name>`` (SampleCount, Sum, Minimum, Maximum of the present values), ``feature_non_null_<name>``
(completeness) and ``feature_baseline_drift_<name>`` (the distance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tabular_xgboost.errors import UserError
from tabular_xgboost.monitoring.capture import Value, input_rows, read_captures
from tabular_xgboost.monitoring.contract import MonitoringJob, format_time, read_json

# "By default, the distribution is materialized in 10 buckets" (statistics schema page), as in the baseline.
DISTRIBUTION_BUCKETS = 10
SKETCH_ITEMS = 2048
KLL_PARAMETERS = {"c": 0.64, "k": 2048.0}
DRIFT_METRIC = "feature_baseline_drift_{}"
COMPLETENESS_METRIC = "feature_non_null_{}"
DATA_METRIC = "feature_data_{}"


def run_data_quality(job: MonitoringJob) -> dict[str, Any]:
    """Analyses the period, writes statistics, violations and metrics; returns the violations file's content."""
    if job.baseline_statistics is None or job.baseline_constraints is None:
        raise UserError(
            "the job names no baseline_statistics or baseline_constraints; allowed: a data quality job definition "
            "with the model package's statistics.json and constraints.json as its baseline"
        )
    baseline = read_json(job.baseline_statistics, "baseline statistics")
    constraints = read_json(job.baseline_constraints, "baseline constraints")
    try:
        features = [feature["name"] for feature in baseline["features"]]
        baseline_by_name = {feature["name"]: feature for feature in baseline["features"]}
        constraint_by_name = {feature["name"]: feature for feature in constraints.get("features", [])}
        config = constraints.get("monitoring_config", {})
    except (KeyError, TypeError, AttributeError):
        raise UserError(
            f"{job.baseline_statistics} is not Model Monitor statistics; allowed: statistics.json with features"
        ) from None

    rows: list[list[Value]] = []
    for record in read_captures(job.dataset_source, job.start_time, job.end_time):
        rows += input_rows(record.input, features)
    statistics, columns, violations = _statistics(rows, features, baseline_by_name, job)
    metrics: list[dict] = []
    for index, name in enumerate(features):
        numbers = columns[index]
        present = numbers[~np.isnan(numbers)]
        count = len(rows)
        completeness = len(present) / count if count else 0.0
        constraint = constraint_by_name.get(name, {})
        if count and completeness < constraint.get("completeness", 0.0) - 1e-12:
            violations.append(
                _violation(
                    name,
                    "completeness_check",
                    f"Data completeness {completeness:.4g} is below the baseline's {constraint['completeness']:.4g}",
                )
            )
        metrics.append(job.metric(COMPLETENESS_METRIC.format(name), completeness))
        if len(present):
            stats = {"SampleCount": float(len(present)), "Sum": float(present.sum())}
            stats |= {"Minimum": float(present.min()), "Maximum": float(present.max())}
            metrics.append(job.metric(DATA_METRIC.format(name), statistics=stats))
            distance = baseline_distance(baseline_by_name[name], present)
            if distance is not None:
                metrics.append(job.metric(DRIFT_METRIC.format(name), distance))
                drift = config.get("distribution_constraints", {})
                threshold = drift.get("comparison_threshold", 0.1)
                if drift.get("perform_comparison", "Enabled") == "Enabled" and distance > threshold:
                    violations.append(
                        _violation(
                            name,
                            "baseline_drift_check",
                            f"Baseline drift distance {distance:.4g} exceeds threshold {threshold:g}",
                        )
                    )
    violations += _type_violations(rows, features, baseline_by_name, config)
    job.write_outputs(statistics, violations, metrics)
    print(
        f"analysed {len(rows)} captured records from {format_time(job.start_time)} to {format_time(job.end_time)}: "
        f"{len(violations)} violation(s)",
        flush=True,
    )
    return {"violations": violations}


def _violation(feature: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": feature, "constraint_check_type": check, "description": description}


def _missing(value: Value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _numeric(values: Sequence[Value]) -> np.ndarray:
    return np.array([value if isinstance(value, float) else math.nan for value in values], dtype=np.float64)


def _statistics(
    rows: list[list[Value]], features: Sequence[str], baseline: dict[str, dict], job: MonitoringJob
) -> tuple[dict, list[np.ndarray], list[dict]]:
    violations = []
    widths = {len(row) for row in rows}
    if any(width < len(features) for width in widths):
        short = sum(len(row) < len(features) for row in rows)
        violations.append(
            _violation(
                "",
                "missing_column_check",
                f"{short} of {len(rows)} records have fewer than the baseline's {len(features)} columns",
            )
        )
    if any(width > len(features) for width in widths):
        wide = sum(len(row) > len(features) for row in rows)
        violations.append(
            _violation(
                "",
                "extra_column_check",
                f"{wide} of {len(rows)} records have more than the baseline's {len(features)} columns",
            )
        )
    columns = [
        _numeric([row[index] if index < len(row) else math.nan for row in rows]) for index in range(len(features))
    ]
    described = []
    for name, numbers in zip(features, columns, strict=True):
        present = numbers[~np.isnan(numbers)]
        described.append(
            {
                "name": name,
                "inferred_type": baseline[name].get("inferred_type", "Fractional"),
                "numerical_statistics": numerical_statistics(present, len(numbers)),
            }
        )
    statistics = {
        "version": 0,
        "dataset": {"item_count": len(rows), "evaluation_time": format_time(job.end_time)},
        "features": described,
    }
    return statistics, columns, violations


def numerical_statistics(present: np.ndarray, rows: int) -> dict[str, Any]:
    """Model Monitor's numerical_statistics of a feature's present values: moments, 10 equal-width buckets between
    minimum and maximum, and a KLL-shaped sketch of up to 2048 evenly spaced quantiles."""
    count = len(present)
    if not count:
        # The zero statistics on one line, as Model Monitor's report groups them (the formatter would split them).
        return {
            "common": {"num_present": 0, "num_missing": rows},
            "mean": 0.0, "sum": 0.0, "std_dev": 0.0, "min": 0.0, "max": 0.0,
            "distribution": {"kll": {"buckets": [], "sketch": {"parameters": dict(KLL_PARAMETERS), "data": [[]]}}},
        }  # fmt: skip
    low, high = float(present.min()), float(present.max())
    edges = np.linspace(low, high, DISTRIBUTION_BUCKETS + 1) if high > low else np.full(DISTRIBUTION_BUCKETS + 1, low)
    counts = np.histogram(present, bins=edges)[0] if high > low else np.eye(DISTRIBUTION_BUCKETS)[0] * count
    items = min(count, SKETCH_ITEMS)
    quantiles = np.quantile(present, (np.arange(items) + 0.5) / items).tolist()
    level = max(0, round(math.log2(count / items)))
    return {
        "common": {"num_present": count, "num_missing": rows - count},
        "mean": float(present.mean()),
        "sum": float(present.sum()),
        "std_dev": float(present.std()),
        "min": low,
        "max": high,
        "distribution": {
            "kll": {
                "buckets": [
                    {"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(counts[i])}
                    for i in range(DISTRIBUTION_BUCKETS)
                ],
                "sketch": {"parameters": dict(KLL_PARAMETERS), "data": [[] for _ in range(level)] + [quantiles]},
            }
        },
    }


def baseline_distance(feature: dict, present: np.ndarray) -> float | None:
    """The largest difference between the baseline's cumulative distribution (its sketch's items, weighted 2^level)
    and that of ``present``; None without a baseline sketch."""
    try:
        levels = feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
    except (KeyError, TypeError):
        return None
    items = [(value, 2.0**level) for level, values in enumerate(levels) for value in values]
    if not items:
        return None
    values = np.array([value for value, _ in items], dtype=np.float64)
    weights = np.array([weight for _, weight in items], dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    values, cumulative = values[order], np.cumsum(weights[order]) / weights.sum()
    current = np.sort(present)
    points = np.union1d(values, current)
    baseline_cdf = np.concatenate([[0.0], cumulative])[np.searchsorted(values, points, side="right")]
    current_cdf = np.searchsorted(current, points, side="right") / len(current)
    return float(np.max(np.abs(baseline_cdf - current_cdf)))


def _type_violations(
    rows: list[list[Value]], features: Sequence[str], baseline: dict[str, dict], config: dict
) -> list[dict]:
    threshold = config.get("datatype_check_threshold", 1.0)
    violations = []
    for index, name in enumerate(features):
        present = [row[index] for row in rows if index < len(row) and not _missing(row[index])]
        if not present:
            continue
        integral = baseline[name].get("inferred_type") == "Integral"
        conforming = sum(isinstance(value, float) and (not integral or value.is_integer()) for value in present)
        share = conforming / len(present)
        if share < threshold:
            expected = baseline[name].get("inferred_type", "Fractional")
            violations.append(
                _violation(
                    name,
                    "data_type_check",
                    f"{len(present) - conforming} of {len(present)} values are not {expected} "
                    f"(share conforming {share:.4g}, threshold {threshold:g})",
                )
            )
    return violations
