"""Failed runs: every violation is listed, in the failure-message file too, and nothing is published."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_preparation.settings import Problem
from data_preparation.tests.conftest import LABEL, base_settings, generated_rows, write_csv


def assert_failed_with(run, *expected: str) -> None:
    """The run exited 1, published nothing, and its message lists each expected problem."""
    assert run.status == 1
    assert run.published() == []
    message = run.message
    assert message.startswith("Data preparation failed (")
    for text in expected:
        assert text in message, f"{text!r} not in:\n{message}"


@pytest.fixture(scope="module")
def bad_rows() -> list[dict]:
    """Rows that break every data-quality rule at once."""
    rows = generated_rows(40)
    for row in rows[:6]:
        row["score"] = ""  # 6 of 40 missing: over max_null_fraction 0.1
    rows[6]["age"] = "170"  # outside [0, 120]
    rows[7]["age"] = "41.5"  # not a whole number
    rows[8]["income"] = "n/a"  # not a number
    rows[9][LABEL] = "2"  # not a class of binary classification
    rows[10][LABEL] = ""  # no label
    for row in rows:
        row["region"] = "north"
    return rows


def test_every_data_quality_rule_fails_with_its_message(run_job, bad_rows):
    settings = base_settings(
        feature_columns=["age", "income", "score"],
        rules={
            "required_columns": {"age": "Integral", "region": "String"},
            "max_null_fraction": {"score": 0.1},
            "value_ranges": {"age": {"minimum": 0, "maximum": 120}},
            "min_rows": 50,
            "min_class_fraction": 0.45,
        },
    )
    run = run_job(lambda folder: write_csv(folder, bad_rows), settings)
    assert_failed_with(
        run,
        str(Problem("rules.min_rows", "the dataset has 40 rows", "at least 50 rows")),
        f"label_column {LABEL}: missing in 0.025 (1 of 40 rows)",
        f"label_column {LABEL}: neither 0 nor 1 in 0.025 (1 of 40 rows)",
        "feature income: not a number in 0.025 (1 of 40 rows); allowed: numbers",
        "rules.required_columns.age: not a whole number in 0.025 (1 of 40 rows); allowed: Integral values",
        "rules.max_null_fraction.score: missing in 0.15 (6 of 40 rows); allowed: at most 0.1 missing",
        "rules.value_ranges.age: 0.025 (1 of 40 rows) outside, values seen in [",
        "allowed: values in [0, 120]",
        "rules.min_class_fraction: class 1 has",
        "allowed: at least 0.45 per class",
    )


def test_a_missing_dataset_names_the_folder(run_job):
    run = run_job(lambda folder: folder.parent.mkdir(parents=True))
    assert_failed_with(run, "dataset: file:", "/raw/churn does not exist")


def test_an_unreadable_file_is_named(run_job):
    def write(folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "broken.parquet").write_bytes(b"PAR1 this is not parquet")

    assert_failed_with(run_job(write), "input: ", "broken.parquet")


def test_a_file_with_other_columns_is_named(run_job):
    def write(folder: Path) -> None:
        rows = generated_rows(20)
        write_csv(folder, rows)
        with (folder / "other.csv").open("w") as handle:
            handle.write("age,churned,salary,score\n30,1,2000,0.5\n")

    assert_failed_with(run_job(write), "input: ", "other.csv")


def test_a_missing_label_and_rules_on_unknown_columns_are_all_named(run_job):
    settings = base_settings(
        label_column="left",
        feature_columns=["age", "tenure"],
        rules={"max_null_fraction": {"email": 0.1}, "value_ranges": {"height": {"maximum": 3}}},
    )
    run = run_job(lambda folder: write_csv(folder, generated_rows(20)), settings)
    assert_failed_with(
        run,
        "label_column: 'left' is not a column of file:",
        "feature_columns[1]: 'tenure' is not a column of",
        "rules.max_null_fraction.email: 'email' is not a column of",
        "rules.value_ranges.height: 'height' is not a column of",
        "allowed: a column of the dataset",
    )


def test_invalid_settings_are_all_listed_before_any_data_is_read(run_job):
    settings = base_settings(train_fraction=0.8, seed=-1, colour="blue", rules={"min_rows": 0})
    run = run_job(lambda folder: write_csv(folder, generated_rows(20)), settings)
    assert_failed_with(
        run,
        "colour: unknown key; allowed: dataset, label_column, task,",
    )
    fixed = {key: value for key, value in settings.items() if key != "colour"}
    run = run_job(lambda folder: write_csv(folder, generated_rows(20)), fixed)
    assert_failed_with(
        run,
        "train_fraction, validation_fraction, test_fraction: sum to 0.8 + 0.15 + 0.15; allowed: a sum of 1",
        "seed: -1 is not allowed; allowed: an integer from 0 to 2147483647",
        "rules.min_rows: 0 is not allowed; allowed: an integer ≥ 1",
    )
