"""Tests side by side, except those whose assertion a busy machine could flip.

`make test` runs the suite on two pytest-xdist workers: most of the time a rehearsal
waits on a scaled AWS timeline and one core is idle. A test marked
`@pytest.mark.alone` (a recovery time, an ordering of two timings, a latency bound,
an SLO that must pass) runs with no other test beside it.

It is a readers/writer lock over each test's whole protocol (setup, call,
teardown), kept in two files every worker of the run opens: every test holds the
room shared, an `alone` test holds it exclusive. A turnstile comes first, so a
waiting `alone` test keeps later shared ones out instead of being starved by them.
flock, not a lock from xdist: xdist has no cross-worker lock, and flock is released
by the kernel if a worker dies holding it. Without xdist nothing is locked.

The wrapper runs before pytest-timeout's (tryfirst), so the wait for the room does
not count against a test's timeout.
"""

from __future__ import annotations

import fcntl
from collections.abc import Generator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

MARKER = "alone"


class Room:
    """The cross-process lock: `shared()` for any test, `alone()` for one that must be alone."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.turnstile = folder / "turnstile"
        self.room = folder / "room"

    def shared(self) -> AbstractContextManager[None]:
        return self._hold(fcntl.LOCK_SH)

    def alone(self) -> AbstractContextManager[None]:
        return self._hold(fcntl.LOCK_EX)

    @contextmanager
    def _hold(self, mode: int) -> Generator[None, None, None]:
        with open(self.turnstile, "ab") as gate, open(self.room, "ab") as room:
            # through the turnstile, one at a time: an alone test waiting in it for the
            # room to empty keeps the shared tests that come after it out
            fcntl.flock(gate, fcntl.LOCK_EX)
            try:
                fcntl.flock(room, mode)
            finally:
                fcntl.flock(gate, fcntl.LOCK_UN)
            try:
                yield
            finally:
                fcntl.flock(room, fcntl.LOCK_UN)


def _room(config: pytest.Config) -> Room | None:
    if getattr(config, "workerinput", None) is None or not config.option.basetemp:
        return None  # not under xdist: one test at a time anyway
    # xdist gives each worker `<the run's basetemp>/popen-gwN`: the parent is the run's
    # own, and pytest removes it with its other old temp folders
    return Room(Path(config.option.basetemp).parent / "side-by-side")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: runs with no other test beside it (its assertion a busy machine could "
        "flip: a recovery time, an ordering of timings, a latency bound)",
    )


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None
                            ) -> Generator[None, None, None]:
    room = _room(item.config)
    if room is None:
        yield
        return
    hold = room.alone() if item.get_closest_marker(MARKER) else room.shared()
    with hold:
        yield
