"""The extended emulator on loopback, once per session, for the extension's tests."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from rehearsal.tests.support import REGION, Stacks

# The emulator's modules and boto3 are imported where they are used: pytest's main process loads this file too
# (see tests/conftest.py).
if TYPE_CHECKING:
    import boto3
    import botocore.loaders

    from rehearsal.aws import Emulator


@functools.cache
def _service_models() -> botocore.loaders.Loader:
    """The service models of every session ``aws`` makes, read once: each new session would read megabytes of JSON
    again."""
    import botocore.loaders

    return botocore.loaders.create_loader()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    from rehearsal.driver import running_emulator

    with running_emulator(tmp_path_factory.mktemp("emulator")) as running:
        yield running


@pytest.fixture
def stacks(emulator: Emulator) -> Stacks:
    return Stacks(emulator)


@pytest.fixture
def aws(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> boto3.Session:
    """The session mlp makes, configured by the environment that points it at the emulator."""
    for name, value in emulator.client_environment(REGION).items():
        monkeypatch.setenv(name, value)
    import boto3
    import botocore.session

    session = botocore.session.get_session()
    session.register_component("data_loader", _service_models())
    return boto3.Session(region_name=REGION, botocore_session=session)
