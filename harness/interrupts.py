"""Ctrl-C, SIGTERM and SIGHUP during a long command: one way to notice them, whatever
swallows them."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType


class Seen(threading.Event):
    """Set when an interrupt came; `signal` names it (SIGINT, SIGTERM, SIGHUP)."""

    def __init__(self) -> None:
        super().__init__()
        self.signal = ""


def caught() -> tuple[signal.Signals, ...]:
    """The signals `interrupts()` turns into KeyboardInterrupt here.

    SIGHUP (the terminal closed, an ssh session dropped) ends a run like SIGTERM,
    unless it was ignored on entry: under `nohup` the user asked the run to outlive
    its terminal.
    """
    hup = () if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN else (signal.SIGHUP,)
    return (signal.SIGINT, signal.SIGTERM, *hup)


@contextlib.contextmanager
def interrupts(on_signal: Callable[[str], None] | None = None) -> Iterator[Seen]:
    """Turn Ctrl-C, SIGTERM and SIGHUP into KeyboardInterrupt, and remember that one came.

    A layer below may swallow the KeyboardInterrupt on purpose (run_load turns
    Ctrl-C into an early, incomplete result); the caller still has to stop
    instead of going on to its next architecture or search step, so it checks
    the returned event (and may say which signal it was). `on_signal(name)` runs
    once, at the first signal, before anything unwinds (the rehearsal marks its
    folder "stopping" there).
    """
    seen = Seen()
    previous = {sig: signal.getsignal(sig) for sig in caught()}

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        first = not seen.is_set()
        seen.signal = seen.signal or name
        seen.set()
        if first and on_signal is not None:
            on_signal(name)
        before = previous[signal.Signals(signum)]
        if callable(before):
            before(signum, frame)
        raise KeyboardInterrupt(name)

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield seen
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)
