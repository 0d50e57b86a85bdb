"""Data-quality checks: one Spark aggregation measures everything the rules need, then Python judges it.

Types are judged by value (does every present value parse as a number, a whole number), so a CSV
column of text and a Parquet column of numbers with the same values pass or fail alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from data_preparation.settings import CLASS_LABELS, SPLIT_BUCKETS, PreparationSettings, Problem

SPLITS = ("train", "validation", "test")


def quoted(column: str) -> str:
    """The column's name as a SQL identifier (names may hold spaces, dots, backticks)."""
    return "`" + column.replace("`", "``") + "`"


def missing(frame: DataFrame, column: str) -> Column:
    """True where a value is missing: null, NaN, or empty text."""
    value = F.col(quoted(column))
    data_type = frame.schema[column].dataType
    if isinstance(data_type, T.StringType):
        return value.isNull() | (F.trim(value) == "")
    if isinstance(data_type, T.FloatType | T.DoubleType):
        return value.isNull() | F.isnan(value)
    return value.isNull()


def as_double(column: str) -> Column:
    """The column's value as a double, null where it is missing or not a number (NaN becomes null)."""
    value = F.expr(f"try_cast({quoted(column)} AS DOUBLE)")
    return F.nanvl(value, F.lit(None).cast("double"))


def row_hash(frame: DataFrame, seed: int) -> Column:
    """A seeded 64-bit hash of all of a row's values, taken in column-name order: the same row gets the
    same hash in any file, partition or column order."""
    return F.xxhash64(F.lit(seed), *[F.col(quoted(column)) for column in sorted(frame.columns)])


def split_of(hash_value: Column, settings: PreparationSettings) -> Column:
    """train, validation or test, by the row hash's bucket and the split fractions."""
    bucket = F.pmod(hash_value, F.lit(SPLIT_BUCKETS))
    train_end = round(settings.train_fraction * SPLIT_BUCKETS)
    validation_end = train_end + round(settings.validation_fraction * SPLIT_BUCKETS)
    return F.when(bucket < train_end, "train").when(bucket < validation_end, "validation").otherwise("test")


@dataclass(frozen=True)
class Measurements:
    """What the aggregation found; keys of the dicts are column names."""

    rows: int
    missing: dict[str, int]
    non_numeric: dict[str, int]
    non_integral: dict[str, int]
    out_of_range: dict[str, int]
    minimum: dict[str, float | None]
    maximum: dict[str, float | None]
    class_rows: dict[float, int]
    split_rows: dict[str, int]


def measure(frame: DataFrame, settings: PreparationSettings, features: Sequence[str]) -> Measurements:
    """Every number the checks need, in one pass over ``frame``."""
    rules = settings.rules
    label = settings.label_column
    numeric = [label, *features]
    numeric += [c for c, kind in rules.required_columns.items() if kind != "String" and c not in numeric]
    numeric += [c for c in rules.value_ranges if c not in numeric]
    counted_missing = list(dict.fromkeys([label, *rules.max_null_fraction]))
    integral = [c for c, kind in rules.required_columns.items() if kind == "Integral"]

    def count(condition: Column) -> Column:
        return F.sum(F.when(condition, 1).otherwise(0))

    expressions: dict[str, Column] = {"rows": F.count(F.lit(1))}
    for index, column in enumerate(counted_missing):
        expressions[f"missing_{index}"] = count(missing(frame, column))
    for index, column in enumerate(numeric):
        expressions[f"non_numeric_{index}"] = count(~missing(frame, column) & as_double(column).isNull())
    for index, column in enumerate(integral):
        value = as_double(column)
        expressions[f"non_integral_{index}"] = count(value.isNotNull() & (value != F.floor(value)))
    ranged = list(rules.value_ranges.items())
    for index, (column, bounds) in enumerate(ranged):
        value = as_double(column)
        outside = F.lit(False)
        if bounds.minimum is not None:
            outside = outside | (value < bounds.minimum)
        if bounds.maximum is not None:
            outside = outside | (value > bounds.maximum)
        expressions[f"out_of_range_{index}"] = count(outside)
        expressions[f"min_{index}"] = F.min(value)
        expressions[f"max_{index}"] = F.max(value)
    if settings.task == "classification":
        for index, label_value in enumerate(CLASS_LABELS):
            expressions[f"class_{index}"] = count(as_double(label) == label_value)
    split = split_of(row_hash(frame, settings.seed), settings)
    for name in SPLITS:
        expressions[f"split_{name}"] = count(split == name)

    row = frame.agg(*[expression.alias(name) for name, expression in expressions.items()]).first()
    assert row is not None  # a global aggregation always yields one row
    return Measurements(
        rows=row["rows"],
        missing={c: row[f"missing_{i}"] or 0 for i, c in enumerate(counted_missing)},
        non_numeric={c: row[f"non_numeric_{i}"] or 0 for i, c in enumerate(numeric)},
        non_integral={c: row[f"non_integral_{i}"] or 0 for i, c in enumerate(integral)},
        out_of_range={c: row[f"out_of_range_{i}"] or 0 for i, (c, _) in enumerate(ranged)},
        minimum={c: row[f"min_{i}"] for i, (c, _) in enumerate(ranged)},
        maximum={c: row[f"max_{i}"] for i, (c, _) in enumerate(ranged)},
        class_rows={v: row[f"class_{i}"] or 0 for i, v in enumerate(CLASS_LABELS)} if "class_0" in expressions else {},
        split_rows={name: row[f"split_{name}"] or 0 for name in SPLITS},
    )


def judge(measured: Measurements, settings: PreparationSettings, features: Sequence[str]) -> list[Problem]:
    """Every rule the measurements break."""
    rules = settings.rules
    rows = measured.rows
    label = settings.label_column
    problems: list[Problem] = []

    def share(count: int) -> str:
        return f"{count / rows:.4g} ({count} of {rows} rows)" if rows else f"{count} of 0 rows"

    if rows < rules.min_rows:
        problems.append(Problem("rules.min_rows", f"the dataset has {rows} rows", f"at least {rules.min_rows} rows"))
    if measured.missing[label]:
        problems.append(
            Problem(f"label_column {label}", f"missing in {share(measured.missing[label])}", "a label in every row")
        )
    for column, count in measured.non_numeric.items():
        if not count:
            continue
        if column == label or column in features:
            key = f"label_column {label}" if column == label else f"feature {column}"
            problems.append(
                Problem(key, f"not a number in {share(count)}", "numbers; an empty field is a missing value")
            )
        else:
            kind = rules.required_columns.get(column, "Fractional")
            key = (
                f"rules.required_columns.{column}"
                if column in rules.required_columns
                else f"rules.value_ranges.{column}"
            )
            problems.append(Problem(key, f"not a number in {share(count)}", f"{kind} values"))
    for column, count in measured.non_integral.items():
        if count:
            problems.append(
                Problem(f"rules.required_columns.{column}", f"not a whole number in {share(count)}", "Integral values")
            )
    for column, fraction in rules.max_null_fraction.items():
        count = measured.missing[column]
        if rows and count / rows > fraction:
            problems.append(
                Problem(
                    f"rules.max_null_fraction.{column}", f"missing in {share(count)}", f"at most {fraction:g} missing"
                )
            )
    for column, bounds in rules.value_ranges.items():
        count = measured.out_of_range[column]
        if count:
            seen = f"[{measured.minimum[column]:g}, {measured.maximum[column]:g}]"
            problems.append(
                Problem(
                    f"rules.value_ranges.{column}", f"{share(count)} outside, values seen in {seen}", bounds.describe()
                )
            )
    if settings.task == "classification" and rows:
        others = rows - measured.missing[label] - sum(measured.class_rows.values())
        if others:
            problems.append(
                Problem(
                    f"label_column {label}", f"neither 0 nor 1 in {share(others)}", "0 and 1 for task=classification"
                )
            )
        minimum = rules.min_class_fraction
        for value, count in measured.class_rows.items():
            if minimum is not None and count / rows < minimum:
                problems.append(
                    Problem(
                        "rules.min_class_fraction",
                        f"class {value:g} has {share(count)}",
                        f"at least {minimum:g} per class",
                    )
                )
    if rows:
        for name, count in measured.split_rows.items():
            if not count:
                problems.append(
                    Problem(
                        f"{name}_fraction",
                        f"the {name} split gets no rows of {rows}",
                        "rows in every split (more rows)",
                    )
                )
    return problems
