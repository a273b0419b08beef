"""The `INCOMPLETE` marker of a results folder (written atomically, harness.records.files).

While a run is in progress its folder holds `INCOMPLETE`; it says how the run ended as
soon as that is known: `interrupted at <time> by SIGTERM: ...`, `crashed at <time>: ...`,
`incomplete at <time>: ...`. A run whose harness was killed outright still says
`running since ... (pid N)` until its watchdog or the next harness command finds the
owner gone (`mark_owner_gone`). Here, not in the report, so the watchdog and the CLI's
clean-up write it without importing the analysis stack.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import ResultsError

# the one atomic writer lives in harness.records.files; callers import it from here too
from harness.records.files import atomic_write as atomic_write

MARKER = "INCOMPLETE"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def mark_running(path: Path) -> None:
    """`running since <time> (pid N)`: this process owns the folder."""
    atomic_write(path / MARKER, f"running since {_now()} (pid {os.getpid()})\n")


def mark_ended(path: Path, how: str, reason: str, *, by: str = "") -> None:
    """The marker says how the run ended: `<how> at <time>[ by <signal>]: <reason>`."""
    signal = f" by {by}" if by else ""
    atomic_write(path / MARKER, f"{how} at {_now()}{signal}: {reason}\n")


def mark_owner_gone(path: Path, pid: int, detail: str = "") -> bool:
    """A folder still marked running whose harness (pid) is gone: say so; True if it was.

    A marker that already says how the run ended (interrupted, crashed) is left as is.
    """
    marker = path / MARKER
    try:
        before = marker.read_text().strip()
    except OSError:
        return False
    if not before.startswith("running since"):
        return False
    note = f"; {detail}" if detail else ""
    try:
        atomic_write(marker, f"ended: owner pid {pid} gone, found at {_now()} ({before}){note}\n")
    except ResultsError:
        return False  # a full disk: the marker can say no more than "running"
    return True
