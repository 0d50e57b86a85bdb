"""Reads a training channel (CSV with a header row, or Parquet) into a numeric feature matrix."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from tabular_xgboost.errors import UserError
from tabular_xgboost.hyperparameters import Task

LOG = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES
# Files tools leave next to data (Spark's _SUCCESS, .crc, editor and OS files) are not data.
_IGNORED_PREFIXES = ("_", ".")


@dataclass(frozen=True)
class Dataset:
    """Rows of float32 features (NaN = missing) and their target values."""

    features: np.ndarray
    target: np.ndarray
    feature_names: tuple[str, ...]

    @property
    def row_count(self) -> int:
        return len(self.target)

    def take(self, rows: np.ndarray) -> Dataset:
        return Dataset(self.features[rows], self.target[rows], self.feature_names)


def data_files(channel: str, directory: Path) -> list[Path]:
    """The channel's data files in a stable order, or UserError if there are none or some are
    of an unsupported kind."""
    if not directory.is_dir():
        raise UserError(
            f"The '{channel}' channel is missing: expected data files under {directory}. "
            f"Give the training job a '{channel}' input channel."
        )
    files, unsupported = [], []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        if path.name.startswith(_IGNORED_PREFIXES):
            continue
        (files if path.name.lower().endswith(SUPPORTED_SUFFIXES) else unsupported).append(path)
    if unsupported:
        names = ", ".join(str(p.relative_to(directory)) for p in unsupported[:5])
        raise UserError(
            f"The '{channel}' channel has files of an unsupported kind ({names}); "
            f"allowed: {', '.join(SUPPORTED_SUFFIXES)}."
        )
    if not files:
        raise UserError(
            f"The '{channel}' channel has no data files; expected {', '.join(SUPPORTED_SUFFIXES)} "
            f"files under {directory}."
        )
    return files


def _read_table(path: Path) -> pa.Table:
    try:
        if path.name.lower().endswith(PARQUET_SUFFIXES):
            return pq.read_table(path)
        return pa_csv.read_csv(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise UserError(f"Cannot read {path.name}: {error}") from error


def _is_numeric(data_type: pa.DataType) -> bool:
    return (
        pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or pa.types.is_boolean(data_type)
        or pa.types.is_decimal(data_type)
        # A column with no values at all reads as null: all missing, which XGBoost handles.
        or pa.types.is_null(data_type)
    )


def _as_float32(column: pa.ChunkedArray) -> np.ndarray:
    # Through float64, as the server reads request values, so a feature is rounded the same way in
    # training and serving; large integers (IDs, amounts in cents) are rounded, not refused.
    return pc.cast(column, pa.float64(), safe=False).to_numpy(zero_copy_only=False).astype(np.float32)


def read_channel(channel: str, directory: Path, *, target_column: str, task: Task) -> Dataset:
    """All rows of a channel. Every file must have the same columns; features must be numeric."""
    paths = data_files(channel, directory)
    feature_names: tuple[str, ...] = ()
    feature_blocks: list[np.ndarray] = []
    target_blocks: list[np.ndarray] = []
    for path in paths:
        table = _read_table(path)
        if path == paths[0]:
            _check_columns(channel, path, table, target_column)
            feature_names = tuple(name for name in table.column_names if name != target_column)
        elif set(table.column_names) != {target_column, *feature_names}:
            raise UserError(
                f"{path.name} in the '{channel}' channel has columns {table.column_names}, but "
                f"{paths[0].name} has {[target_column, *feature_names]}; all files of a channel "
                "need the same columns."
            )
        _check_numeric(channel, path, table)
        feature_blocks.append(np.column_stack([_as_float32(table.column(name)) for name in feature_names]))
        target_blocks.append(_as_float32(table.column(target_column)))

    target = np.concatenate(target_blocks)
    if target.size == 0:
        raise UserError(f"The '{channel}' channel has no rows (its files hold only a header or nothing).")
    _check_target(channel, target_column, target, task)
    LOG.info("Read %d rows with %d features from the '%s' channel.", target.size, len(feature_names), channel)
    return Dataset(np.concatenate(feature_blocks), target, feature_names)


def _check_columns(channel: str, path: Path, table: pa.Table, target_column: str) -> None:
    columns = table.column_names
    duplicates = sorted({name for name in columns if columns.count(name) > 1})
    if duplicates:
        raise UserError(f"{path.name} in the '{channel}' channel has duplicate column names: {duplicates}.")
    if target_column not in columns:
        raise UserError(
            f"Target column '{target_column}' (hyperparameter target_column) is not in the "
            f"'{channel}' channel; {path.name} has the columns {columns}."
        )
    if len(columns) == 1:
        raise UserError(f"The '{channel}' channel has no feature columns besides '{target_column}'.")


def _check_numeric(channel: str, path: Path, table: pa.Table) -> None:
    non_numeric = [f"'{field.name}' ({field.type})" for field in table.schema if not _is_numeric(field.type)]
    if non_numeric:
        raise UserError(
            f"Columns of the '{channel}' channel must be numeric (integer, floating point or boolean; "
            f"empty means missing); in {path.name} these are not: {', '.join(non_numeric)}. "
            "Encode categories and dates as numbers before training."
        )


def _check_target(channel: str, target_column: str, target: np.ndarray, task: Task) -> None:
    missing = int(np.isnan(target).sum())
    if missing:
        raise UserError(
            f"Target column '{target_column}' in the '{channel}' channel has {missing} missing "
            "values; every row needs a target."
        )
    if task == "classification":
        unexpected = np.setdiff1d(np.unique(target), [0.0, 1.0])
        if unexpected.size:
            shown = ", ".join(f"{value:g}" for value in unexpected[:5])
            raise UserError(
                f"Target column '{target_column}' in the '{channel}' channel must hold 0 and 1 "
                f"for task=classification (binary); it also holds: {shown}."
            )
    elif not np.isfinite(target).all():
        raise UserError(f"Target column '{target_column}' in the '{channel}' channel has infinite values.")
