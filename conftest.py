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


def _start_rank(item: pytest.Item) -> int:
    """0 for the deploy rehearsal (``starts_first``), 1 for the image tests, 2 for the rest."""
    if item.get_closest_marker("starts_first"):
        return 0
    return 1 if item.get_closest_marker("container") else 2


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Groups the image tests, which share one image build, and puts the longest work first.

    With ``--dist loadgroup`` the tests of one ``xdist_group`` run in one worker, which builds their shared fixture
    once. ``--no-loadscope-reorder`` hands the tests out in the order left here: the deploy rehearsal first, which
    alone takes about half of ``make test``, so that it starts at once on one worker; the image tests to the other
    worker; then the suites as ``testpaths`` lists them, those with long shared fixtures (MLflow, Spark) first, and the
    many short tests last, filling in around the long ones. Started last, a long test decides when the suite ends.
    """
    for item in items:
        if item.get_closest_marker("container"):
            item.add_marker(pytest.mark.xdist_group("model-image"))
    items.sort(key=_start_rank)  # stable: within a rank, collection order
