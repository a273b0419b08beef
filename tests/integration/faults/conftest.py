"""Fixtures of the fault tests: one modern stack per module, helpers to look from outside."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import running_stack

from harness.faults.base import FaultContext
from harness.runtime.events import EventLog
from harness.stacks.stack import Stack

#: health checks every 3 s, timeout 500 ms: a 200 ms toxic does not fail them
TIME_SCALE = 0.1


@pytest.fixture(scope="module")
def modern(state_dir: Path) -> Iterator[Stack]:
    with running_stack("modern", state_dir, time_scale=TIME_SCALE, seed=5) as running:
        yield running


@pytest.fixture
def ctx(modern: Stack, tmp_path: Path) -> FaultContext:
    assert modern.runtime is not None
    return FaultContext(modern.info, modern.runtime, EventLog(tmp_path / "events.jsonl"))
