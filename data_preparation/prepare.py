"""The data-preparation job: reads raw/<dataset>/, checks its quality, splits it, writes the datasets and baseline.

Run by spark-submit (in SageMaker: ``smspark-submit --py-files data_preparation.zip
data_preparation/prepare.py --settings-base64 …``; locally: ``python -m data_preparation.prepare
--settings-file settings.json --input raw --datasets-output out/datasets --baseline-output out/baseline
--staging /tmp/staging --failure-message-file out/message``). Arguments and container paths:
``data_preparation.contract``.

Order of work, so that a failed run publishes nothing:

1. settings (``PreparationSettings.problems``) and the input files and columns;
2. one aggregation over all rows for every data-quality rule; any violation fails the job here, with
   every violation listed;
3. the splits are written to the staging location (HDFS in the container), each split spread over
   ``ceil(rows / rows_per_file)`` files by row hash and sorted by it, so the output depends only on the
   rows and the seed, never on the input's files or partitions; test and test-labels come from the same
   partitioning and order, so their files pair up by name and line;
4. only then does the driver copy the staged files into the local output folders, under a temporary
   name that it renames into place, and write the baseline files.

On failure the job writes every problem to the failure-message file (SageMaker's FailureReason), removes
what it put into the output folders and exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from data_preparation import contract
from data_preparation.baseline import baseline_files
from data_preparation.quality import as_double, judge, measure, quoted, row_hash, split_of
from data_preparation.settings import PreparationError, PreparationSettings, Problem
from data_preparation.storage import HadoopFiles, InputFiles, as_uri

_HASH = "__row_hash"
_SPLIT = "__split"
_PUBLISHING = "_publishing"
# SageMaker keeps the first kilobyte of the failure message; one reason must leave room for others.
_REASON_LENGTH = 400
_READ_ALLOWED = "CSV files with one header row and the same columns, or Parquet files with the same schema"


@dataclass(frozen=True)
class JobPaths:
    """Where the job reads and writes; defaults are the container paths of ``contract``."""

    raw_input: str = contract.RAW_INPUT_PATH
    datasets_output: Path = Path(contract.DATASETS_OUTPUT_PATH)
    baseline_output: Path = Path(contract.BASELINE_OUTPUT_PATH)
    staging: str = contract.STAGING_URI
    failure_message: Path = Path(contract.FAILURE_MESSAGE_PATH)


@dataclass(frozen=True)
class Summary:
    """What a successful run wrote: rows in the dataset and per split, files per output folder."""

    rows: int
    split_rows: dict[str, int]
    files: dict[str, int]


def prepare(spark: SparkSession, settings: PreparationSettings, paths: JobPaths) -> Summary:
    """Checks, splits and publishes the dataset; raises PreparationError with every problem found."""
    problems = settings.problems()
    if problems:
        raise PreparationError(problems)
    problems = [
        Problem(str(output), "is not empty", "an empty output folder")
        for output in (paths.datasets_output, paths.baseline_output)
        if output.exists() and any(output.iterdir())
    ]
    files = HadoopFiles(spark)
    found = files.input_files(as_uri(paths.raw_input).rstrip("/") + "/" + settings.dataset, "dataset")
    if isinstance(found, Problem):
        problems.append(found)
    if problems:
        raise PreparationError(problems)
    assert isinstance(found, InputFiles)

    frame = _read(spark, found.kind, found.uris)
    problems = settings.column_problems(frame.columns, where=found.uris[0])
    if problems:
        raise PreparationError(problems)
    features = settings.features(frame.columns)
    measured = _spark_action(lambda: measure(frame, settings, features))
    problems = judge(measured, settings, features)
    if problems:
        raise PreparationError(problems)

    label = settings.label_column
    prepared = frame.select(
        row_hash(frame, settings.seed).alias(_HASH),
        *[as_double(column).alias(column) for column in (label, *features)],
    ).withColumn(_SPLIT, split_of(F.col(_HASH), settings))
    prepared = prepared.persist()
    staging = f"{paths.staging.rstrip('/')}/{uuid.uuid4().hex}"
    try:
        summary = _publish(files, prepared, settings, features, measured.split_rows, staging, paths)
    finally:
        files.delete(staging)
        prepared.unpersist()
    return Summary(measured.rows, measured.split_rows, summary)


def _read(spark: SparkSession, kind: str, uris: Sequence[str]) -> DataFrame:
    if kind == "parquet":
        return _spark_action(lambda: spark.read.parquet(*uris))
    # Every value as text, judged by value later; enforceSchema=False makes Spark compare each file's
    # header with the first file's and name the file that differs; FAILFAST refuses ragged rows.
    return _spark_action(
        lambda: spark.read.csv(list(uris), header=True, inferSchema=False, enforceSchema=False, mode="FAILFAST")
    )


def _spark_action(action: Any) -> Any:
    try:
        return action()
    except (PySparkException, Py4JJavaError) as error:
        raise PreparationError([Problem("input", _reason(error), _READ_ALLOWED)]) from error


def _reason(error: Exception) -> str:
    """What Spark says went wrong, on one line: the innermost cause, with the file a wrapping error names.

    A failed action surfaces as "An error occurred while calling o391.collectToPython"; the reason and
    the file are in the chain of Java causes below it.
    """
    messages = []
    cause = error.java_exception if isinstance(error, Py4JJavaError) else None
    while cause is not None:
        if cause.getMessage():
            messages.append(" ".join(str(cause.getMessage()).split()))
        cause = cause.getCause()
    if not messages:
        return " ".join(str(error).split("\n\n")[0].split())[:_REASON_LENGTH]
    root = messages[-1]
    naming_a_file = [message for message in messages if "file:" in message or "://" in message]
    if naming_a_file and not ("file:" in root or "://" in root):
        root = f"{naming_a_file[0]} ({root})"
    return root[:_REASON_LENGTH]


def _publish(
    files: HadoopFiles,
    prepared: DataFrame,
    settings: PreparationSettings,
    features: Sequence[str],
    split_rows: dict[str, int],
    staging: str,
    paths: JobPaths,
) -> dict[str, int]:
    label = settings.label_column
    # What each output folder holds: (split, columns, header). Train and validation as the training
    # container reads them (a header, the label first); test as batch transform sends rows to the model
    # (features only, no header); test-labels as the evaluation reads them (one label per line).
    layout = {
        "train": ("train", (label, *features), True),
        "validation": ("validation", (label, *features), True),
        "test": ("test", tuple(features), False),
        "test-labels": ("test", (label,), False),
    }
    assert tuple(layout) == contract.DATASET_FOLDERS

    def write(folder: str) -> None:
        split, columns, header = layout[folder]
        parts = max(1, math.ceil(split_rows[split] / settings.rows_per_file))
        rows = (
            prepared.where(F.col(_SPLIT) == split)
            .repartition(parts, F.col(_HASH))
            .sortWithinPartitions(_HASH, *[quoted(c) for c in (label, *features)])
            .select(*[quoted(c) for c in columns])
        )
        _spark_action(lambda: rows.write.csv(f"{staging}/{folder}", header=header, mode="errorifexists"))

    # The first write fills the cache, the others then read it. Writing all at once keeps every core
    # busy even when a split has fewer files than there are cores.
    write(contract.DATASET_FOLDERS[0])
    with ThreadPoolExecutor(max_workers=len(layout) - 1) as pool:
        list(pool.map(write, contract.DATASET_FOLDERS[1:]))

    publishing = paths.datasets_output / _PUBLISHING
    published: list[Path] = []
    try:
        counts = {folder: files.publish(f"{staging}/{folder}", publishing / folder) for folder in layout}
        train = prepared.where(F.col(_SPLIT) == "train").select(*[quoted(c) for c in features])
        statistics, constraints = _spark_action(lambda: baseline_files(train, features))
        for folder in layout:
            target = paths.datasets_output / folder
            (publishing / folder).rename(target)
            published.append(target)
        paths.baseline_output.mkdir(parents=True, exist_ok=True)
        for name, content in ((contract.STATISTICS_FILE, statistics), (contract.CONSTRAINTS_FILE, constraints)):
            target = paths.baseline_output / name
            published.append(target)
            target.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        for path in published:
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(publishing, ignore_errors=True)
    return counts


def _parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    defaults = JobPaths()
    parser = argparse.ArgumentParser(prog="prepare", description=__doc__.splitlines()[0])
    settings = parser.add_mutually_exclusive_group(required=True)
    settings.add_argument(
        contract.SETTINGS_BASE64_ARGUMENT,
        nargs="+",
        help="the settings as URL-safe base64 of JSON, in one or more pieces that are joined",
    )
    settings.add_argument(contract.SETTINGS_FILE_ARGUMENT, type=Path, help="a JSON file with the settings")
    parser.add_argument(contract.INPUT_ARGUMENT, default=defaults.raw_input, help="raw/ (default: %(default)s)")
    parser.add_argument(contract.DATASETS_OUTPUT_ARGUMENT, type=Path, default=defaults.datasets_output)
    parser.add_argument(contract.BASELINE_OUTPUT_ARGUMENT, type=Path, default=defaults.baseline_output)
    parser.add_argument(contract.STAGING_ARGUMENT, default=defaults.staging, help="(default: %(default)s)")
    parser.add_argument(contract.FAILURE_MESSAGE_ARGUMENT, type=Path, default=defaults.failure_message)
    return parser.parse_args(argv)


def _load_settings(arguments: argparse.Namespace) -> PreparationSettings:
    if arguments.settings_file is not None:
        key = contract.SETTINGS_FILE_ARGUMENT
        try:
            data = json.loads(arguments.settings_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise PreparationError([Problem(key, f"{arguments.settings_file}: {error}", "a JSON file")]) from None
    else:
        key = contract.SETTINGS_BASE64_ARGUMENT
        try:
            data = contract.decode_settings("".join(arguments.settings_base64))
        except ValueError as error:
            raise PreparationError([Problem(key, f"cannot be read: {error}", "URL-safe base64 of JSON")]) from None
    return PreparationSettings.from_mapping(data, key=key)


def main(argv: Sequence[str] | None = None, *, spark: SparkSession | None = None) -> int:
    """Runs the job; 0 on success, 1 on failure (with the reason in the failure-message file).

    ``spark``: a running session to use and leave running (tests); default: the job's own session,
    stopped at the end.
    """
    arguments = _parse_arguments(argv)
    paths = JobPaths(
        raw_input=arguments.input,
        datasets_output=arguments.datasets_output,
        baseline_output=arguments.baseline_output,
        staging=arguments.staging,
        failure_message=arguments.failure_message_file,
    )
    try:
        settings = _load_settings(arguments)
        session = spark or SparkSession.builder.appName("data-preparation").getOrCreate()
        try:
            summary = prepare(session, settings, paths)
        finally:
            if spark is None:
                session.stop()
    except Exception as error:
        message = str(error) if isinstance(error, PreparationError) else f"Data preparation failed: {error!r}"
        paths.failure_message.parent.mkdir(parents=True, exist_ok=True)
        paths.failure_message.write_text(message + "\n", encoding="utf-8")
        print(message, file=sys.stderr, flush=True)
        if not isinstance(error, PreparationError):
            raise
        return 1
    print(f"prepared {summary.rows} rows: {json.dumps(summary.split_rows)} in files {json.dumps(summary.files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
