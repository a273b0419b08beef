"""Ctrl-C and SIGTERM during a long command: one way to notice them, whatever swallows them."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


@contextlib.contextmanager
def interrupts() -> Iterator[threading.Event]:
    """Turn Ctrl-C and SIGTERM into KeyboardInterrupt, and remember that one came.

    A layer below may swallow the KeyboardInterrupt on purpose (run_load turns
    Ctrl-C into an early, incomplete result); the caller still has to stop
    instead of going on to its next architecture or search step, so it checks
    the returned event.
    """
    seen = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
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
