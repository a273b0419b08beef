"""Ctrl-C and SIGTERM during a long command: one way to notice them, whatever swallows them."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Seen(threading.Event):
    """Set when an interrupt came; `signal` names it (SIGINT, SIGTERM)."""

    def __init__(self) -> None:
        super().__init__()
        self.signal = ""


@contextlib.contextmanager
def interrupts() -> Iterator[Seen]:
    """Turn Ctrl-C and SIGTERM into KeyboardInterrupt, and remember that one came.

    A layer below may swallow the KeyboardInterrupt on purpose (run_load turns
    Ctrl-C into an early, incomplete result); the caller still has to stop
    instead of going on to its next architecture or search step, so it checks
    the returned event (and may say which signal it was).
    """
    seen = Seen()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        seen.signal = seen.signal or signal.Signals(signum).name
        seen.set()
        before = previous[signal.Signals(signum)]
        if callable(before):
            before(signum, frame)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield seen
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)
