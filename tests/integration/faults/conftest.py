"""Fixtures of the fault tests: one modern stack per module, helpers to look from outside."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.faults.base import FaultContext
from harness.runtime.events import EventLog
from harness.settings import Settings
from harness.stacks.profile import load_profile
from harness.stacks.seed import SeedPlan
from harness.stacks.stack import Stack

#: health checks every 3 s, timeout 500 ms: a 200 ms toxic does not fail them
TIME_SCALE = 0.1


@pytest.fixture(scope="module")
def modern(state_dir: Path) -> Iterator[Stack]:
    settings = Settings.from_env(
        {**os.environ, "HARNESS_STATE_DIR": str(state_dir)}, time_scale=TIME_SCALE
    )
    with Stack(
        load_profile("modern"), settings, seed_plan=SeedPlan(seed=5, products=20, events=2)
    ) as running:
        yield running


@pytest.fixture
def ctx(modern: Stack, tmp_path: Path) -> FaultContext:
    assert modern.runtime is not None
    return FaultContext(modern.info, modern.runtime, EventLog(tmp_path / "events.jsonl"))
