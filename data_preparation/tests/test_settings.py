"""Settings, their problems and the command-line contract; no Spark."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from data_preparation import contract
from data_preparation.settings import PreparationError, PreparationSettings, QualityRules, ValueRange


def keys(problems) -> list[str]:
    return [problem.key for problem in problems]


def test_the_defaults_are_valid():
    assert PreparationSettings(dataset="churn", label_column="churned", task="regression").problems() == []


@pytest.mark.parametrize("cls", [PreparationSettings, QualityRules])
def test_every_setting_documents_its_default(cls):
    """Each field is followed by a docstring that says its default, or that it is required."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    documented = {
        statement.target.id: body[index + 1].value.value
        for index, statement in enumerate(body[:-1])
        if isinstance(statement, ast.AnnAssign) and isinstance(body[index + 1], ast.Expr)
    }
    for field in dataclasses.fields(cls):
        assert "Default" in documented.get(field.name, "") or "Required" in documented.get(field.name, ""), field.name


def test_every_problem_is_listed_with_its_key_value_and_what_is_allowed():
    settings = PreparationSettings(
        dataset="a/b",
        label_column="",
        task="ranking",
        feature_columns=("x", "x"),
        train_fraction=0.0,
        seed=2**31,
        rows_per_file=0,
        rules=QualityRules(
            required_columns={"x": "Text"},
            max_null_fraction={"x": 1.5},
            value_ranges={"x": ValueRange(5, 1), "y": ValueRange()},
            min_rows=0,
            min_class_fraction=0.2,
        ),
    )
    problems = settings.problems()
    assert keys(problems) == [
        "dataset",
        "label_column",
        "task",
        "feature_columns",
        "train_fraction",
        "train_fraction, validation_fraction, test_fraction",
        "seed",
        "rows_per_file",
        "rules.required_columns.x",
        "rules.max_null_fraction.x",
        "rules.value_ranges.x",
        "rules.value_ranges.y",
        "rules.min_rows",
        "rules.min_class_fraction",
    ]
    assert str(problems[2]) == "task: 'ranking' is not allowed; allowed: classification or regression"
    assert (
        str(problems[13])
        == "rules.min_class_fraction: is set for task=ranking; allowed: null unless task=classification"
    )


def test_from_mapping_reports_unknown_keys_and_wrong_shapes_at_once():
    with pytest.raises(PreparationError) as raised:
        PreparationSettings.from_mapping(
            {"dataset": "d", "task": "regression", "seeds": 1, "rules": {"value_ranges": {"x": 3}, "min_row": 1}}
        )
    assert keys(raised.value.problems) == ["seeds", "rules.min_row", "rules.value_ranges.x", "label_column"]


def test_settings_survive_the_round_trip_through_json():
    settings = PreparationSettings.from_mapping(
        {
            "dataset": "churn",
            "label_column": "churned",
            "task": "classification",
            "feature_columns": ["age"],
            "rules": {"value_ranges": {"age": {"minimum": 0}}, "min_class_fraction": 0.1},
        }
    )
    assert PreparationSettings.from_mapping(settings.to_mapping()) == settings


def test_the_settings_argument_passes_a_shell_unchanged_in_pieces_sagemaker_accepts():
    # smspark-submit joins the command line with spaces and runs it with a shell.
    settings = {
        "dataset": "churn data",
        "label_column": 'it\'s "quoted"',
        "task": "classification",
        "feature_columns": [f"feature_{index}" for index in range(40)],
    }
    arguments = contract.job_arguments(settings)
    assert len(arguments) > 2 and all(len(piece) <= contract.MAX_ARGUMENT_LENGTH for piece in arguments)
    command = " ".join([sys.executable, "-c", "'import sys; print(\"\".join(sys.argv[2:]))'", *arguments])
    printed = subprocess.run(command, shell=True, capture_output=True, text=True, check=True).stdout.strip()
    assert contract.decode_settings(printed) == settings


def test_input_file_kinds_are_those_the_training_container_reads():
    from tabular_xgboost import datasets

    from data_preparation import storage

    assert storage.CSV_SUFFIXES == datasets.CSV_SUFFIXES
    assert storage.PARQUET_SUFFIXES == datasets.PARQUET_SUFFIXES
    assert storage.IGNORED_PREFIXES == datasets._IGNORED_PREFIXES


def test_the_contract_and_settings_import_without_pyspark():
    code = "import sys; sys.modules['pyspark'] = None; import data_preparation.contract, data_preparation.settings"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_documentation_lists_every_setting_with_its_default():
    table = (Path(__file__).resolve().parents[2] / "docs" / "data-preparation.md").read_text()
    rows = {
        line.split("|")[1].strip().strip("`"): line.split("|")[2].strip()
        for line in table.splitlines()
        if line.startswith("| `")
    }
    defaults = PreparationSettings(dataset="d", label_column="l", task="regression")
    for field in dataclasses.fields(PreparationSettings):
        if field.name != "rules":
            assert field.name in rows, field.name
    for field in dataclasses.fields(QualityRules):
        assert f"rules.{field.name}" in rows, field.name
    for name in ("train_fraction", "validation_fraction", "test_fraction", "seed", "rows_per_file"):
        value = getattr(defaults, name)
        assert rows[name] == (f"{value:g}" if isinstance(value, float) else str(value)), name
    assert rows["rules.min_rows"] == str(defaults.rules.min_rows)
