"""The side-by-side plugin's lock: shared tests together, an `alone` test by itself."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

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


def test_two_shared_tests_are_inside_together(tmp_path: Path) -> None:
    room, order = Room(tmp_path), []
    first = _Holder("first", room.shared, order)
    assert first.inside.wait(GETS_IN)
    second = _Holder("second", room.shared, order)
    assert second.inside.wait(GETS_IN), "a shared test waited for another shared one"
    first.leave()
    second.leave()


def test_an_alone_test_waits_for_the_room_and_keeps_later_tests_out(tmp_path: Path) -> None:
    room, order = Room(tmp_path), []
    running = _Holder("running", room.shared, order)
    assert running.inside.wait(GETS_IN)

    alone = _Holder("alone", room.alone, order)
    assert not alone.inside.wait(STAYS_OUT), "an alone test ran beside a shared one"
    later = _Holder("later", room.shared, order)
    assert not later.inside.wait(STAYS_OUT), (
        "a shared test overtook the waiting alone test (no turnstile)")

    running.leave()
    assert alone.inside.wait(GETS_IN)
    assert not later.inside.wait(STAYS_OUT), "a shared test ran beside the alone one"
    alone.leave()
    assert later.inside.wait(GETS_IN)
    later.leave()
    assert order == ["running", "alone", "later"]


def test_two_alone_tests_take_turns(tmp_path: Path) -> None:
    room, order = Room(tmp_path), []
    first = _Holder("first", room.alone, order)
    assert first.inside.wait(GETS_IN)
    second = _Holder("second", room.alone, order)
    assert not second.inside.wait(STAYS_OUT), "two alone tests ran together"
    first.leave()
    assert second.inside.wait(GETS_IN)
    second.leave()
