"""The extended emulator on loopback, once per session, for the extension's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rehearsal.aws import Emulator
from rehearsal.driver import running_emulator
from rehearsal.tests.support import Stacks


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with running_emulator(tmp_path_factory.mktemp("emulator")) as running:
        yield running


@pytest.fixture
def stacks(emulator: Emulator) -> Stacks:
    return Stacks(emulator)
