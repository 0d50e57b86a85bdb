"""The extended emulator on loopback, once per session, for the extension's tests."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import botocore.loaders
import botocore.session
import pytest

from rehearsal.aws import Emulator
from rehearsal.driver import running_emulator
from rehearsal.tests.support import REGION, Stacks

# The service models of every session below, read once: each new session would read megabytes of JSON again.
_SERVICE_MODELS = botocore.loaders.create_loader()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
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
    session = botocore.session.get_session()
    session.register_component("data_loader", _SERVICE_MODELS)
    return boto3.Session(region_name=REGION, botocore_session=session)
