"""The `INCOMPLETE` marker of a results folder, and writing a file atomically.

While a run is in progress its folder holds `INCOMPLETE`; it says how the run ended as
soon as that is known: `interrupted at <time> by SIGTERM: ...`, `crashed at <time>: ...`,
`incomplete at <time>: ...`. A run whose harness was killed outright still says
`running since ... (pid N)` until its watchdog or the next harness command finds the
owner gone (`mark_owner_gone`). Here, not in the report, so the watchdog and the CLI's
clean-up write it without importing the analysis stack.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

MARKER = "INCOMPLETE"


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write to a temporary file next to `path`, fsync, then rename over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file private; results are for everyone on the machine to read
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    atomic_write(marker, f"ended: owner pid {pid} gone, found at {_now()} ({before}){note}\n")
    return True
