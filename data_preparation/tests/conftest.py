"""One local Spark session for the whole test run (starting one takes seconds), stopped at the end."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Spark and the job are imported where they are used: pytest's main process loads this file too.
if TYPE_CHECKING:
    from pyspark.sql import SparkSession

FEATURES = ("age", "income", "score")
LABEL = "churned"
# Rows of the successful runs: enough for the split proportions to be judged, few enough to be quick.
ROWS = 1200


@pytest.hookimpl(tryfirst=True)  # before -m deselects by mark
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that runs Spark is slow: the session's JVM alone takes seconds to start. They run in one worker
    (``make test``'s ``--dist loadgroup``), which starts one JVM and runs each session-wide preparation once."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.xdist_group("spark"))


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    from pyspark.sql import SparkSession

    # Two cores, so the runs are really parallel. On test-sized data compiling queries costs more than
    # running them: no whole-stage code generation, no adaptive re-planning, few shuffle partitions
    # (this halves the test time; the job itself keeps Spark's defaults).
    session = (
        SparkSession.builder.master("local[2]")
        .appName("data-preparation-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def generated_rows(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Rows of a churn-like classification dataset: whole-number age, fractional income, some missing scores."""
    generator = random.Random(seed)
    rows = []
    for _ in range(count):
        age = generator.randint(18, 90)
        income = round(generator.uniform(1_000, 9_000), 2)
        score = "" if generator.random() < 0.05 else round(generator.random(), 4)
        churned = int(generator.random() < 0.3)
        rows.append({"age": age, LABEL: churned, "income": income, "score": score})
    return rows


def write_csv(
    folder: Path, rows: Sequence[dict[str, Any]], files: int = 1, columns: Sequence[str] | None = None
) -> Path:
    """``rows`` in ``files`` CSV files under ``folder`` (round robin), each with a header row."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = list(columns or rows[0])
    for number in range(files):
        with (folder / f"part-{number}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows[number::files])
    return folder


def base_settings(**overrides: Any) -> dict[str, Any]:
    return {"dataset": "churn", "label_column": LABEL, "task": "classification", "rules": {"min_rows": 10}} | overrides


class Run:
    """One run of the job's command line in a temporary folder."""

    def __init__(self, root: Path, spark: SparkSession, settings: dict[str, Any]):
        from data_preparation.prepare import JobPaths, main

        self.root = root
        self.paths = JobPaths(
            raw_input=str(root / "raw"),
            datasets_output=root / "out" / "datasets",
            baseline_output=root / "out" / "baseline",
            staging=str(root / "staging"),
            failure_message=root / "out" / "message",
        )
        settings_file = root / "settings.json"
        settings_file.write_text(json.dumps(settings), encoding="utf-8")
        # One option and its value per line, as on the job's command line (the formatter would put one per line).
        self.status = main(
            [
                "--settings-file", str(settings_file),
                "--input", self.paths.raw_input,
                "--datasets-output", str(self.paths.datasets_output),
                "--baseline-output", str(self.paths.baseline_output),
                "--staging", self.paths.staging,
                "--failure-message-file", str(self.paths.failure_message),
            ],
            spark=spark,
        )  # fmt: skip

    @property
    def message(self) -> str:
        return self.paths.failure_message.read_text(encoding="utf-8")

    def folder(self, name: str) -> Path:
        return self.paths.datasets_output / name

    def files(self, name: str) -> dict[str, str]:
        """File name → content of an output folder."""
        return {path.name: path.read_text(encoding="utf-8") for path in sorted(self.folder(name).iterdir())}

    def published(self) -> list[Path]:
        return sorted(
            p
            for out in (self.paths.datasets_output, self.paths.baseline_output)
            if out.exists()
            for p in out.rglob("*")
        )


@pytest.fixture(scope="session")
def run_job(tmp_path_factory: pytest.TempPathFactory, spark: SparkSession):
    """Runs the job on raw files that ``write`` puts into the raw/<dataset>/ folder it is given."""

    def run(write: Callable[[Path], Any], settings: dict[str, Any] | None = None) -> Run:
        root = tmp_path_factory.mktemp("run")
        write(root / "raw" / "churn")
        return Run(root, spark, settings or base_settings())

    return run


@pytest.fixture(scope="session")
def rows() -> list[dict[str, Any]]:
    return generated_rows(ROWS)


@pytest.fixture(scope="session")
def one_file(run_job, rows) -> Run:
    """A successful run on one CSV file with the default settings."""
    run = run_job(lambda folder: write_csv(folder, rows))
    assert run.status == 0, run.message
    return run
