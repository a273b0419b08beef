"""Unit tests keep off the machine's real state.

A unit test that calls the CLI in-process would otherwise run the every-command
clean-up on the machine's state dir and Docker engine, where integration tests
(side by side, under xdist) have live runs: each unit test gets a state dir of its
own and a Docker address nothing answers on. A test that needs either sets its own.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # short: a stack's Unix sockets live under the state dir (harness/settings.py)
    state = Path(tempfile.mkdtemp(prefix="hu-", dir="/tmp"))
    monkeypatch.setenv("HARNESS_STATE_DIR", str(state))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{state}/no-docker.sock")
    yield
    shutil.rmtree(state, ignore_errors=True)


UNIT_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `unit`: scripts/test.sh runs these first, in a pass of their own, before (and in CI
    # while) the Docker side is installed; a hook of this conftest sees every item
    for item in items:
        if UNIT_DIR in item.path.parents:
            item.add_marker(pytest.mark.unit)
