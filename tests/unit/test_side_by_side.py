"""The side-by-side plugin's lock: tests of one kind together, never both kinds at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.support.side_by_side import Room

#: how long a holder that should get in may take (a busy machine); never waited in full
#: when the lock works
GETS_IN = 10.0
#: how long a holder that must stay out is watched
STAYS_OUT = 0.5


class _Holder:
    """A thread that enters `hold`, says so, and stays until released."""

    def __init__(self, name: str, hold: Callable[[], AbstractContextManager[None]],
                 order: list[str]) -> None:
        self.name, self.order = name, order
        self.inside = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(hold,), daemon=True)
        self.thread.start()

    def _run(self, hold: Callable[[], AbstractContextManager[None]]) -> None:
        with hold():
            self.order.append(self.name)
            self.inside.set()
            self.release.wait(GETS_IN * 3)

    def leave(self) -> None:
        self.release.set()
        self.thread.join(GETS_IN)


@pytest.mark.parametrize("kind", ["shared", "alone"])
def test_two_tests_of_one_kind_are_inside_together(tmp_path: Path, kind: str) -> None:
    room, order = Room(tmp_path), []
    first = _Holder("first", getattr(room, kind), order)
    assert first.inside.wait(GETS_IN)
    second = _Holder("second", getattr(room, kind), order)
    assert second.inside.wait(GETS_IN), f"a {kind} test waited for another {kind} one"
    first.leave()
    second.leave()


@pytest.mark.parametrize(("kind", "other"), [("shared", "alone"), ("alone", "shared")])
def test_a_test_waits_for_the_other_kind_and_keeps_later_ones_of_it_out(
    tmp_path: Path, kind: str, other: str
) -> None:
    room, order = Room(tmp_path), []
    running = _Holder("running", getattr(room, kind), order)
    assert running.inside.wait(GETS_IN)

    waiting = _Holder("waiting", getattr(room, other), order)
    assert not waiting.inside.wait(STAYS_OUT), f"an {other} test ran beside a {kind} one"
    later = _Holder("later", getattr(room, kind), order)
    assert not later.inside.wait(STAYS_OUT), (
        f"a {kind} test overtook the waiting {other} test (no turnstile)")

    running.leave()
    assert waiting.inside.wait(GETS_IN)
    assert not later.inside.wait(STAYS_OUT), f"a {kind} test ran beside the {other} one"
    waiting.leave()
    assert later.inside.wait(GETS_IN)
    later.leave()
    assert order == ["running", "waiting", "later"]
