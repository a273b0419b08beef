"""Fixtures of the integration tests: real stacks on the process runtime.

Every test uses its own HARNESS_STATE_DIR, so it never touches (or reaps) a
stack that a person or another test run has up on the same machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.model.profile import Profile
from harness.model.profile_file import load_profile
from harness.settings import Settings
from harness.stacks.seed import SeedPlan
from harness.stacks.stack import Stack

# moved to tests/support; re-exported for the tests that import them from here
from tests.support.processes import processes_under as processes_under
from tests.support.processes import still_alive as still_alive

# A shell starts a background job with SIGINT ignored, and an ignored signal stays ignored
# across exec: the Ctrl-C tests' harness processes would never see the SIGINT they are
# sent. Handled in this process, it is back to the default in every child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

#: AWS timings divided by ten: health checks every 3 s instead of 30 s
TIME_SCALE = 0.1


def _short_dir() -> Iterator[Path]:
    # pytest's tmp paths are too deep for the Unix sockets a stack makes (settings.py)
    path = Path(tempfile.mkdtemp(prefix="hs-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A fresh state dir with a short path."""
    yield from _short_dir()


@pytest.fixture(scope="module")
def state_dir() -> Iterator[Path]:
    yield from _short_dir()


@pytest.fixture(scope="module")
def settings(state_dir: Path) -> Settings:
    return Settings.from_env(
        {**os.environ, "HARNESS_STATE_DIR": str(state_dir)}, time_scale=TIME_SCALE
    )


@contextlib.contextmanager
def running_stack(
    arch: str, state_dir: Path, *, time_scale: float = TIME_SCALE, seed: int = 1,
    products: int = 20, events: int = 2, app_bug: str | None = None,
    profile: Profile | None = None,
) -> Iterator[Stack]:
    """A whole stack under `state_dir`, seeded with a small data set, stopped at the end.

    `profile` replaces the architecture's shipped profile (a variant made in the test).
    """
    settings = Settings.from_env(
        {**os.environ, "HARNESS_STATE_DIR": str(state_dir)}, time_scale=time_scale
    )
    seed_plan = SeedPlan(seed=seed, products=products, events=events)
    with Stack(profile or load_profile(arch), settings, seed_plan=seed_plan,
               app_bug=app_bug) as running:
        yield running


@pytest.fixture(scope="module", params=["legacy", "modern"])
def stack(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Stack]:
    """A whole stack of each architecture, seeded with a small data set."""
    with Stack(
        load_profile(request.param), settings, seed_plan=SeedPlan(seed=11, products=20, events=3)
    ) as running:
        yield running
