"""Settings for every test suite of the project, loaded before any test module (and so before any library with a
thread pool)."""

from __future__ import annotations

import os

import pytest

# The tests run in parallel workers (pytest-xdist, `make test`), one per core. OpenMP threads (XGBoost's, OpenBLAS's)
# spin while they wait for each other and take the CPU the other workers need: on two cores that cost a fifth of
# make test-fast's time (docs/benchmarks.md). One thread each, unless the caller says otherwise; the container's code
# that sizes its threads from the CPUs it may use (training, serving) still does.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The image tests share one image build: with ``--dist loadgroup`` they run in one worker, which builds it once."""
    for item in items:
        if item.get_closest_marker("container"):
            item.add_marker(pytest.mark.xdist_group("model-image"))
