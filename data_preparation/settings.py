"""What the data-preparation job does with a dataset: its columns, its split and its data-quality rules.

Standard library only, so that the platform's configuration can map its settings onto these classes
1:1 and validate them at synth time with the same ``problems()`` the job runs at start. Every default
and every rule lives here once.

Every problem, whether in the settings or in the data, is a ``Problem``: the key it concerns, the
value found and what is allowed, printed as ``key: found; allowed: what``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

TASKS = ("classification", "regression")
# The types a required column can be checked for, as Model Monitor names them (inferred_type).
COLUMN_TYPES = ("Integral", "Fractional", "String")
# Binary classification, as the training container reads it: the label holds 0 and 1.
CLASS_LABELS = (0.0, 1.0)
# Split fractions are applied with this resolution (a row's split is its hash modulo this).
SPLIT_BUCKETS = 1 << 20
_MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class Problem:
    """One finding: ``key`` names the setting (dotted path) or data column, ``found`` what was found."""

    key: str
    found: str
    allowed: str

    def __str__(self) -> str:
        return f"{self.key}: {self.found}; allowed: {self.allowed}"


class PreparationError(Exception):
    """The job cannot prepare the dataset; ``problems`` lists every finding at once."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        lines = "\n".join(f"- {problem}" for problem in self.problems)
        super().__init__(f"Data preparation failed ({len(self.problems)} problem(s)); nothing was published:\n{lines}")


@dataclass(frozen=True)
class ValueRange:
    """Inclusive bounds of a numeric column; ``None`` leaves that side open (default: both open)."""

    minimum: float | None = None
    maximum: float | None = None

    def describe(self) -> str:
        low = "-inf" if self.minimum is None else f"{self.minimum:g}"
        high = "inf" if self.maximum is None else f"{self.maximum:g}"
        return f"values in [{low}, {high}]"


@dataclass(frozen=True)
class QualityRules:
    """Data-quality rules; the job checks all of them on the whole dataset before it writes anything.

    Besides these, the job always requires: the label in every row, numeric features and label (what
    the training container reads), 0/1 labels for classification, and rows in every split.
    """

    required_columns: Mapping[str, str] = field(default_factory=dict)
    """Column → type (Integral, Fractional or String); each must exist and its values parse as that type.
    Default: none beyond the label and features."""
    max_null_fraction: Mapping[str, float] = field(default_factory=dict)
    """Column → the largest share of missing values (null or empty) allowed, in [0, 1]. Default: none."""
    value_ranges: Mapping[str, ValueRange] = field(default_factory=dict)
    """Column → inclusive bounds every present value must lie in. Default: none."""
    min_rows: int = 100
    """Fewest rows the dataset must have, at least 1. Default 100: fewer leave a test set too small to judge a model."""
    min_class_fraction: float | None = None
    """Classification only: the smallest share of rows each class (0 and 1) must have, in (0, 0.5].
    Default: None (no bound; training still needs both classes)."""

    def __post_init__(self) -> None:
        # Frozen means frozen: mappings from JSON must not change under a validated object.
        for name in ("required_columns", "max_null_fraction", "value_ranges"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def columns(self) -> dict[str, str]:
        """Every column a rule names, with the dotted key of the rule that names it."""
        named: dict[str, str] = {}
        for rule in ("required_columns", "max_null_fraction", "value_ranges"):
            for column in getattr(self, rule):
                named.setdefault(column, f"rules.{rule}.{column}")
        return named


@dataclass(frozen=True)
class PreparationSettings:
    """How one dataset is prepared for training.

    The job reads ``raw/<dataset>/`` (CSV files with a header row, or Parquet files), checks ``rules``,
    splits the rows by a seeded hash of their values and writes train/validation/test/test-labels plus
    Model Monitor baseline files computed from the training features.
    """

    dataset: str
    """Folder name under raw/ that holds the dataset's files. Required."""
    label_column: str
    """The column to predict (the training hyperparameter target_column). Required."""
    task: str
    """classification (binary, labels 0 and 1) or regression, as the training hyperparameter task. Required."""
    feature_columns: tuple[str, ...] = ()
    """Features in the order the model reads them. Default: every column but the label, in file order."""
    train_fraction: float = 0.7
    """Share of rows for training. Default 0.7."""
    validation_fraction: float = 0.15
    """Share of rows for validation (early stopping, the training report). Default 0.15."""
    test_fraction: float = 0.15
    """Share of rows held out for the pipeline's evaluation. Default 0.15. The three fractions sum to 1."""
    seed: int = 0
    """Seed of the split, 0 to 2147483647: the same seed and rows give the same split. Default 0."""
    rows_per_file: int = 1_000_000
    """Rows per output file on average (files = ceil(rows / this)); more files let batch transform and training
    read in parallel. Default 1000000."""
    rules: QualityRules = QualityRules()
    """Data-quality rules. Default: only min_rows (100)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "feature_columns", tuple(self.feature_columns))

    def problems(self) -> list[Problem]:
        """Every problem with these settings (empty when valid); each names its key, value and what is allowed."""
        problems: list[Problem] = []

        def check(key: str, ok: bool, value: Any, allowed: str) -> None:
            if not ok:
                problems.append(Problem(key, f"{value!r} is not allowed", allowed))

        check("dataset", _is_folder_name(self.dataset), self.dataset, "a folder name under raw/ (no '/', not empty)")
        check("label_column", _is_name(self.label_column), self.label_column, "a column name")
        check("task", self.task in TASKS, self.task, " or ".join(TASKS))
        for index, column in enumerate(self.feature_columns):
            check(f"feature_columns[{index}]", _is_name(column), column, "a column name")
        if self.label_column in self.feature_columns:
            problems.append(
                Problem("feature_columns", f"holds the label column {self.label_column!r}", "feature columns only")
            )
        duplicates = sorted({c for c in self.feature_columns if self.feature_columns.count(c) > 1})
        if duplicates:
            problems.append(Problem("feature_columns", f"{', '.join(duplicates)} listed twice", "each column once"))
        fractions = {name: getattr(self, f"{name}_fraction") for name in ("train", "validation", "test")}
        for name, value in fractions.items():
            check(f"{name}_fraction", _is_number(value) and 0 < value < 1, value, "a number in (0, 1)")
        if all(_is_number(value) for value in fractions.values()) and not math.isclose(
            sum(fractions.values()), 1.0, abs_tol=1e-9
        ):
            found = " + ".join(f"{value:g}" for value in fractions.values())
            problems.append(
                Problem("train_fraction, validation_fraction, test_fraction", f"sum to {found}", "a sum of 1")
            )
        check(
            "seed", _is_int(self.seed) and 0 <= self.seed <= _MAX_SEED, self.seed, f"an integer from 0 to {_MAX_SEED}"
        )
        check(
            "rows_per_file",
            _is_int(self.rows_per_file) and self.rows_per_file >= 1,
            self.rows_per_file,
            "an integer ≥ 1",
        )
        problems += self._rule_problems()
        return problems

    def _rule_problems(self) -> list[Problem]:
        rules = self.rules
        problems: list[Problem] = []
        for column, kind in rules.required_columns.items():
            if kind not in COLUMN_TYPES:
                problems.append(
                    Problem(f"rules.required_columns.{column}", f"{kind!r} is not allowed", ", ".join(COLUMN_TYPES))
                )
        for column, fraction in rules.max_null_fraction.items():
            if not (_is_number(fraction) and 0 <= fraction <= 1):
                problems.append(
                    Problem(f"rules.max_null_fraction.{column}", f"{fraction!r} is not allowed", "a number in [0, 1]")
                )
        for column, bounds in rules.value_ranges.items():
            key = f"rules.value_ranges.{column}"
            if not isinstance(bounds, ValueRange):
                problems.append(Problem(key, f"{bounds!r} is not allowed", "an object with minimum and/or maximum"))
                continue
            sides = [value for value in (bounds.minimum, bounds.maximum) if value is not None]
            if not all(_is_number(value) and math.isfinite(value) for value in sides):
                problems.append(Problem(key, f"{bounds!r} is not allowed", "finite numbers or null"))
            elif not sides:
                problems.append(Problem(key, "neither minimum nor maximum is set", "at least one bound"))
            elif len(sides) == 2 and bounds.minimum > bounds.maximum:  # type: ignore[operator]
                problems.append(
                    Problem(key, f"minimum {bounds.minimum:g} > maximum {bounds.maximum:g}", "minimum ≤ maximum")
                )
        if not (_is_int(rules.min_rows) and rules.min_rows >= 1):
            problems.append(Problem("rules.min_rows", f"{rules.min_rows!r} is not allowed", "an integer ≥ 1"))
        if rules.min_class_fraction is not None:
            if self.task != "classification":
                problems.append(
                    Problem(
                        "rules.min_class_fraction", f"is set for task={self.task}", "null unless task=classification"
                    )
                )
            elif not (_is_number(rules.min_class_fraction) and 0 < rules.min_class_fraction <= 0.5):
                problems.append(
                    Problem(
                        "rules.min_class_fraction",
                        f"{rules.min_class_fraction!r} is not allowed",
                        "a number in (0, 0.5]",
                    )
                )
        return problems

    def features(self, columns: Sequence[str]) -> tuple[str, ...]:
        """The feature columns for a dataset with ``columns``: the configured ones, or all but the label."""
        return self.feature_columns or tuple(column for column in columns if column != self.label_column)

    def column_problems(self, columns: Sequence[str], where: str) -> list[Problem]:
        """Problems of these settings with a dataset whose columns are ``columns`` (read from ``where``)."""
        available = set(columns)
        shown = ", ".join(columns)
        problems = []
        duplicates = sorted({c for c in columns if list(columns).count(c) > 1})
        if duplicates:
            problems.append(
                Problem(where, f"has duplicate column names {', '.join(duplicates)}", "unique column names")
            )
        if self.label_column not in available:
            problems.append(
                Problem(
                    "label_column",
                    f"{self.label_column!r} is not a column of {where} ({shown})",
                    "a column of the dataset",
                )
            )
        for index, column in enumerate(self.feature_columns):
            if column not in available:
                problems.append(
                    Problem(
                        f"feature_columns[{index}]",
                        f"{column!r} is not a column of {where} ({shown})",
                        "a column of the dataset",
                    )
                )
        if not self.features(columns):
            problems.append(
                Problem("feature_columns", f"{where} has no column besides the label", "at least one feature")
            )
        for column, key in self.rules.columns().items():
            if column not in available:
                problems.append(
                    Problem(key, f"{column!r} is not a column of {where} ({shown})", "a column of the dataset")
                )
        return problems

    @classmethod
    def from_mapping(cls, data: Any, key: str = "settings") -> PreparationSettings:
        """Settings from parsed JSON; raises PreparationError with every problem (unknown keys, types, values)."""
        if not isinstance(data, Mapping):
            raise PreparationError([Problem(key, f"{data!r} is not allowed", "a JSON object")])
        problems = _unknown_keys(data, cls, "")
        rules_data = data.get("rules", {})
        if not isinstance(rules_data, Mapping):
            problems.append(Problem("rules", f"{rules_data!r} is not allowed", "a JSON object"))
            rules_data = {}
        problems += _unknown_keys(rules_data, QualityRules, "rules.")
        mappings = {}
        for name in ("required_columns", "max_null_fraction", "value_ranges"):
            value = rules_data.get(name, {})
            if not isinstance(value, Mapping):
                problems.append(Problem(f"rules.{name}", f"{value!r} is not allowed", "a JSON object of column → rule"))
                value = {}
            mappings[name] = value
        ranges = {}
        for column, bounds in mappings["value_ranges"].items():
            extra = set(bounds) - {"minimum", "maximum"} if isinstance(bounds, Mapping) else set()
            if isinstance(bounds, Mapping) and not extra:
                ranges[column] = ValueRange(bounds.get("minimum"), bounds.get("maximum"))
            else:
                problems.append(
                    Problem(
                        f"rules.value_ranges.{column}",
                        f"{bounds!r} is not allowed",
                        "an object with minimum and/or maximum",
                    )
                )
        for name in ("dataset", "label_column", "task"):
            if name not in data:
                problems.append(Problem(name, "missing", "a value (required)"))
        features = data.get("feature_columns", ())
        if not isinstance(features, list | tuple):
            problems.append(Problem("feature_columns", f"{features!r} is not allowed", "a list of column names"))
            features = ()
        if problems:
            raise PreparationError(problems)
        rule_fields = {name: rules_data[name] for name in ("min_rows", "min_class_fraction") if name in rules_data}
        rules = QualityRules(
            required_columns=mappings["required_columns"],
            max_null_fraction=mappings["max_null_fraction"],
            value_ranges=ranges,
            **rule_fields,
        )
        top = {name: value for name, value in data.items() if name not in ("rules", "feature_columns")}
        settings = cls(**top, feature_columns=tuple(features), rules=rules)
        problems = settings.problems()
        if problems:
            raise PreparationError(problems)
        return settings

    def to_mapping(self) -> dict[str, Any]:
        """The settings as JSON-ready data, the inverse of ``from_mapping``."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["feature_columns"] = list(self.feature_columns)
        data["rules"] = {
            "required_columns": dict(self.rules.required_columns),
            "max_null_fraction": dict(self.rules.max_null_fraction),
            "value_ranges": {column: dataclasses.asdict(bounds) for column, bounds in self.rules.value_ranges.items()},
            "min_rows": self.rules.min_rows,
            "min_class_fraction": self.rules.min_class_fraction,
        }
        return data


def _unknown_keys(data: Mapping[str, Any], cls: type, prefix: str) -> list[Problem]:
    known = [f.name for f in dataclasses.fields(cls)]
    return [Problem(f"{prefix}{name}", "unknown key", ", ".join(known)) for name in data if name not in known]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_folder_name(value: Any) -> bool:
    return _is_name(value) and "/" not in value and value not in (".", "..")
