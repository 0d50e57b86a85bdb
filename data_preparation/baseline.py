"""Model Monitor baseline files from the training features, in the format its data-quality baselining writes.

Formats: "Schema for Statistics (statistics.json file)",
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-statistics.html, and
"Schema for Constraints (constraints.json file)",
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-constraints.html.

Features are numeric (the training container requires it), so every feature has numerical_statistics
and none has string_statistics. Three passes over the training rows: moments and extremes; the 10
distribution buckets between each feature's minimum and maximum; the quantiles of the sketch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from data_preparation.quality import quoted

# "By default, the distribution is materialized in 10 buckets. You can't change this." (statistics page)
DISTRIBUTION_BUCKETS = 10
# The KLL parameters Model Monitor's analyzer writes into its sketches.
KLL_PARAMETERS = {"c": 0.64, "k": 2048.0}
# Most quantiles kept per feature, as many as a KLL sketch with k = 2048 holds on one level.
SKETCH_ITEMS = 2048
# Relative rank error of the quantiles (approxQuantile's relativeError).
QUANTILE_ERROR = 1e-4
# What the baselining job writes when no constraint is overridden (constraints page, monitoring_config).
MONITORING_CONFIG: dict[str, Any] = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


def baseline_files(train: DataFrame, features: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(statistics.json, constraints.json) of the features of ``train``, whose columns are doubles
    (null where missing)."""
    first: dict[str, Any] = {"rows": F.count(F.lit(1))}
    for index, name in enumerate(features):
        value = F.col(quoted(name))
        first |= {
            f"present_{index}": F.count(value),
            f"sum_{index}": F.sum(value),
            f"mean_{index}": F.mean(value),
            f"std_{index}": F.stddev_pop(value),
            f"min_{index}": F.min(value),
            f"max_{index}": F.max(value),
            f"fractional_{index}": F.sum(F.when(value != F.floor(value), 1).otherwise(0)),
        }
    moments = train.agg(*[expression.alias(key) for key, expression in first.items()]).first()
    assert moments is not None  # a global aggregation always yields one row
    rows = moments["rows"]

    present = {name: moments[f"present_{index}"] for index, name in enumerate(features)}
    bounds = {name: (moments[f"min_{index}"], moments[f"max_{index}"]) for index, name in enumerate(features)}
    counts = _bucket_counts(train, {name: bounds[name] for name in features if present[name]})
    items = min(max(present.values(), default=0), SKETCH_ITEMS)
    # approxQuantile ignores missing values and takes all features in one pass.
    quantiles = (
        train.approxQuantile(list(features), [(rank + 0.5) / items for rank in range(items)], QUANTILE_ERROR)
        if items
        else []
    )

    statistics_features = []
    constraints_features = []
    for index, name in enumerate(features):
        inferred = "Fractional" if moments[f"fractional_{index}"] else "Integral"
        count = present[name]
        low, high = bounds[name] if count else (0.0, 0.0)
        if count:
            width = (high - low) / DISTRIBUTION_BUCKETS
            buckets = [
                {
                    "lower_bound": low + number * width,
                    "upper_bound": high if number == DISTRIBUTION_BUCKETS - 1 else low + (number + 1) * width,
                    "count": float(counts.get((name, number), 0)),
                }
                for number in range(DISTRIBUTION_BUCKETS)
            ]
            sketch_data = _sketch_levels(quantiles[index], count)
        else:
            buckets, sketch_data = [], [[]]
        statistics_features.append(
            {
                "name": name,
                "inferred_type": inferred,
                "numerical_statistics": {
                    "common": {"num_present": count, "num_missing": rows - count},
                    "mean": moments[f"mean_{index}"] or 0.0,
                    "sum": moments[f"sum_{index}"] or 0.0,
                    "std_dev": moments[f"std_{index}"] or 0.0,
                    "min": low,
                    "max": high,
                    "distribution": {
                        "kll": {"buckets": buckets, "sketch": {"parameters": dict(KLL_PARAMETERS), "data": sketch_data}}
                    },
                },
            }
        )
        constraints_features.append(
            {
                "name": name,
                "inferred_type": inferred,
                "completeness": count / rows if rows else 0.0,
                "num_constraints": {"is_non_negative": bool(count) and low >= 0},
            }
        )
    statistics = {"version": 0, "dataset": {"item_count": rows}, "features": statistics_features}
    constraints = {"version": 0, "features": constraints_features, "monitoring_config": MONITORING_CONFIG}
    return statistics, constraints


def _bucket_counts(train: DataFrame, bounds: dict[str, tuple[float, float]]) -> dict[tuple[str, int], int]:
    """(feature, bucket number) → rows, for the 10 equal-width buckets between each feature's minimum and
    maximum; one grouped count over the features stacked into (feature, value) rows."""
    if not bounds:
        return {}
    stacked = train.select(
        F.explode(
            F.array(*[F.struct(F.lit(name).alias("feature"), F.col(quoted(name)).alias("value")) for name in bounds])
        ).alias("cell")
    ).select("cell.feature", "cell.value")
    bucket = F.lit(0)
    for name, (low, high) in bounds.items():
        width = (high - low) / DISTRIBUTION_BUCKETS
        # The maximum belongs to the last bucket; a constant feature has all its rows in the first.
        position = (
            F.least(F.floor((F.col("value") - low) / width), F.lit(DISTRIBUTION_BUCKETS - 1)) if width else F.lit(0)
        )
        bucket = F.when(F.col("feature") == name, position).otherwise(bucket)
    rows = stacked.where(F.col("value").isNotNull()).groupBy("feature", bucket.alias("bucket")).count().collect()
    return {(row["feature"], int(row["bucket"])): row["count"] for row in rows}


def _sketch_levels(quantiles: list[float], present: int) -> list[list[float]]:
    """The sketch's levels: evenly spaced quantiles on the level whose item weight 2^level makes them
    stand for all ``present`` values, lower levels empty, as a compacted KLL sketch holds them."""
    level = max(0, round(math.log2(present / len(quantiles))))
    return [[] for _ in range(level)] + [quantiles]
