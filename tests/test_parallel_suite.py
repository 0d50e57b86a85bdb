"""make test's parallel run: the tests that share an expensive fixture run in one worker, the longest start first.

A copy of the project's conftest.py and pytest settings runs a small suite with make test's own pytest-xdist options
(two workers): a regression in either (or a pytest that breaks pytest-xdist's grouping, as 9.2 does) builds the model
image in every worker, or leaves the deploy rehearsal to start minutes in.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

SUITE = {
    "test_rehearsal_like.py": """
import pytest

@pytest.mark.starts_first
def test_long(record):
    record("long")
""",
    "test_image_like.py": """
import pytest

pytestmark = pytest.mark.container

@pytest.mark.parametrize("number", range(4))
def test_image(record, number):
    record(f"image-{number}")
""",
    "test_short.py": """
import pytest

@pytest.mark.parametrize("number", range(8))
def test_short(record, number):
    record(f"short-{number}")
""",
}
RECORDER = """
import os
import pytest

@pytest.fixture
def record():
    def write(name):
        with open(os.environ["RUN_LOG"], "a") as log:
            log.write(f"{os.getpid()} {name}\\n")
    return write
"""


def _make_test_options() -> list[str]:
    """PYTEST_PARALLEL from the Makefile, with two workers whatever this machine's cores."""
    (options,) = re.findall(r"^PYTEST_PARALLEL := (.+)$", (PROJECT_ROOT / "Makefile").read_text(), re.MULTILINE)
    return ["2" if word == "auto" else word for word in shlex.split(options)]


def test_grouped_tests_share_a_worker_and_the_starts_first_test_leads_its_worker(tmp_path: Path) -> None:
    settings = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    markers = "".join(f"    {json.dumps(marker)},\n" for marker in settings["markers"])  # a TOML string too
    (tmp_path / "pyproject.toml").write_text(f"[tool.pytest.ini_options]\nmarkers = [\n{markers}]\n")
    (tmp_path / "conftest.py").write_text((PROJECT_ROOT / "conftest.py").read_text())
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(RECORDER)
    for name, text in SUITE.items():
        (suite / name).write_text(text)
    log = tmp_path / "run.log"

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *_make_test_options(), "suite"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "RUN_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    runs = [line.split() for line in log.read_text().splitlines()]
    assert len(runs) == 13
    workers = {pid: [name for run_pid, name in runs if run_pid == pid] for pid, _ in runs}
    assert len(workers) == 2, workers
    image_workers = {pid for pid, name in runs if name.startswith("image-")}
    assert len(image_workers) == 1, f"the grouped tests ran in {len(image_workers)} workers: {workers}"
    (image_worker,) = image_workers
    (long_worker,) = {pid for pid, name in runs if name == "long"}
    assert image_worker != long_worker, workers
    assert workers[long_worker][0] == "long", workers
    assert workers[image_worker][:4] == [f"image-{number}" for number in range(4)], workers
