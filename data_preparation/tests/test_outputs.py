"""A successful run: the split, its determinism, and an output the pipeline's later steps read as they are."""

from __future__ import annotations

import csv
import io
import math
import random
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_preparation.settings import PreparationSettings
from data_preparation.tests.conftest import FEATURES, LABEL, ROWS, base_settings, write_csv

SETTINGS = base_settings()
FRACTIONS = {
    split: getattr(PreparationSettings.from_mapping(SETTINGS), f"{split}_fraction")
    for split in ("train", "validation", "test")
}


def as_numbers(row: dict) -> tuple[float | None, ...]:
    """A raw row as the job writes it: label first, then the features, as numbers."""
    return tuple(None if row[c] == "" else float(row[c]) for c in (LABEL, *FEATURES))


def csv_rows(text: str, header: bool) -> list[tuple[float | None, ...]]:
    lines = list(csv.reader(io.StringIO(text)))
    return [tuple(None if value == "" else float(value) for value in line) for line in lines[1 if header else 0 :]]


@pytest.fixture(scope="module")
def several_files(run_job, rows):
    """The same rows, shuffled over four files."""
    shuffled = random.Random(3).sample(rows, len(rows))
    run = run_job(lambda folder: write_csv(folder, shuffled, files=4))
    assert run.status == 0, run.message
    return run


def test_the_split_has_the_configured_proportions(one_file):
    counts = {
        split: sum(len(csv_rows(text, True)) for text in one_file.files(split).values())
        for split in ("train", "validation")
    }
    counts["test"] = sum(len(text.splitlines()) for text in one_file.files("test").values())
    assert sum(counts.values()) == ROWS
    for split, fraction in FRACTIONS.items():
        # Within four standard deviations of a binomial draw.
        tolerance = 4 * (ROWS * fraction * (1 - fraction)) ** 0.5
        assert abs(counts[split] - ROWS * fraction) < tolerance, (split, counts)


def test_every_row_lands_in_exactly_one_split(one_file, rows):
    train = [r for text in one_file.files("train").values() for r in csv_rows(text, True)]
    validation = [r for text in one_file.files("validation").values() for r in csv_rows(text, True)]
    features = [r for text in one_file.files("test").values() for r in csv_rows(text, False)]
    labels = [r for text in one_file.files("test-labels").values() for r in csv_rows(text, False)]
    test = [label + row for label, row in zip(labels, features, strict=True)]
    assert Counter(train + validation + test) == Counter(as_numbers(row) for row in rows)


def test_train_and_validation_have_a_header_with_the_label_first(one_file):
    for split in ("train", "validation"):
        for text in one_file.files(split).values():
            assert text.splitlines()[0] == ",".join((LABEL, *FEATURES))


@pytest.mark.slow
def test_the_same_seed_gives_the_same_files_whatever_the_input_files_and_partitions(
    one_file, several_files, spark, rows
):
    # Four input files are four partitions on two cores.
    assert spark.read.csv(str(several_files.root / "raw" / "churn"), header=True).rdd.getNumPartitions() > 1
    for folder in ("train", "validation", "test", "test-labels"):
        assert several_files.files(folder) == one_file.files(folder)


@pytest.mark.slow
def test_another_seed_gives_another_split(run_job, rows, one_file):
    other = run_job(lambda folder: write_csv(folder, rows), base_settings(seed=1))
    assert other.status == 0, other.message
    assert other.files("test-labels") != one_file.files("test-labels")


def test_the_training_container_reads_train_and_validation(one_file):
    from tabular_xgboost.datasets import read_channel

    for split in ("train", "validation"):
        dataset = read_channel(split, one_file.folder(split), target_column=LABEL, task="classification")
        assert dataset.feature_names == FEATURES
        assert set(dataset.target) == {0.0, 1.0}


def test_batch_transform_rows_are_what_the_model_server_decodes(one_file):
    from tabular_xgboost.serving.codecs import CSV, FeatureDecoder

    decoder = FeatureDecoder(FEATURES)
    for text in one_file.files("test").values():
        matrix = decoder.decode(CSV, text.encode())
        assert matrix.shape == (len(text.splitlines()), len(FEATURES))


def test_the_evaluation_pairs_each_test_file_with_its_labels(one_file, tmp_path):
    from tabular_xgboost.evaluation import _paired_columns

    # Batch transform answers <file>.out with one prediction per test row.
    predictions = tmp_path / "predictions"
    predictions.mkdir()
    for name, text in one_file.files("test").items():
        (predictions / f"{name}.out").write_text("0.5\n" * len(text.splitlines()))
    scores, labels = _paired_columns(predictions, one_file.folder("test-labels"))
    assert len(scores) == len(labels) > 0


@pytest.fixture(scope="module")
def parquet_files(run_job, rows):
    """Typed Parquet input in three files, small output files: each split over several files."""

    def write(folder: Path) -> None:
        folder.mkdir(parents=True)
        for number in range(3):
            part = rows[number::3]
            table = pa.table(
                {
                    "age": pa.array([r["age"] for r in part], pa.int64()),
                    "income": pa.array([r["income"] for r in part], pa.float64()),
                    "score": pa.array([None if r["score"] == "" else r["score"] for r in part], pa.float64()),
                    LABEL: pa.array([r[LABEL] for r in part], pa.int32()),
                }
            )
            pq.write_table(table, folder / f"data-{number}.parquet")

    run = run_job(write, base_settings(rows_per_file=100))
    assert run.status == 0, run.message
    return run


@pytest.mark.slow
def test_parquet_input_and_test_files_that_pair_by_name_and_line(parquet_files):
    test, labels = parquet_files.files("test"), parquet_files.files("test-labels")
    assert len(test) > 1
    assert test.keys() == labels.keys()
    for name in test:
        assert len(test[name].splitlines()) == len(labels[name].splitlines())
    train = parquet_files.files("train")
    assert len(train) == math.ceil(sum(len(text.splitlines()) - 1 for text in train.values()) / 100)
    assert not list(parquet_files.paths.datasets_output.rglob(".*")), "no hidden files (checksums) in the output"
