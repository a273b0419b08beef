"""Tests side by side, except those whose assertion a busy machine could flip.

`make test` runs the suite on two pytest-xdist workers: most of the time a rehearsal
waits on a scaled AWS timeline and one core is idle. A test marked
`@pytest.mark.alone` (a recovery time, an ordering of two timings, a latency bound,
an SLO that must pass) never runs beside a shared test; scripts/test.sh runs the
alone tests in a pass of their own, two at a time, as two alone tests were measured
to leave each other's assertions alone (it halves that pass).

It is a lock with two kinds of holder over each test's whole protocol (setup, call,
teardown): any number of one kind inside together, never both kinds at once. A
turnstile comes first, so a test waiting for the other kind to leave keeps later
tests of that kind out instead of being starved by them. flock, not a lock from
xdist: xdist has no cross-worker lock, and flock is released by the kernel if a
worker dies holding it. Without xdist nothing is locked.

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
    """The cross-process lock: `shared()` for most tests, `alone()` for the others."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.turnstile = folder / "turnstile"
        self.shared_file = folder / "shared"
        self.alone_file = folder / "alone"

    def shared(self) -> AbstractContextManager[None]:
        return self._hold(self.shared_file, leaving=self.alone_file)

    def alone(self) -> AbstractContextManager[None]:
        return self._hold(self.alone_file, leaving=self.shared_file)

    @contextmanager
    def _hold(self, mine: Path, *, leaving: Path) -> Generator[None, None, None]:
        """Inside with any holder of `mine`, once every holder of the other kind has left.

        Each holder keeps its kind's file shared. Through the turnstile one at a time,
        a newcomer takes the other kind's file exclusively (so waits until that kind
        is gone), then its own shared: no newcomer of the other kind can slip in
        between, it would need the turnstile.
        """
        with open(self.turnstile, "ab") as gate, open(mine, "ab") as own, \
                open(leaving, "ab") as other:
            fcntl.flock(gate, fcntl.LOCK_EX)
            try:
                fcntl.flock(other, fcntl.LOCK_EX)
                fcntl.flock(own, fcntl.LOCK_SH)
                fcntl.flock(other, fcntl.LOCK_UN)
            finally:
                fcntl.flock(gate, fcntl.LOCK_UN)
            try:
                yield
            finally:
                fcntl.flock(own, fcntl.LOCK_UN)


def _room(config: pytest.Config) -> Room | None:
    if getattr(config, "workerinput", None) is None or not config.option.basetemp:
        return None  # not under xdist: one test at a time anyway
    # xdist gives each worker `<the run's basetemp>/popen-gwN`: the parent is the run's
    # own, and pytest removes it with its other old temp folders
    return Room(Path(config.option.basetemp).parent / "side-by-side")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: runs with no shared test beside it, at most another alone one (its "
        "assertion a busy machine could flip: a recovery time, an ordering of timings, a "
        "latency bound)",
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
