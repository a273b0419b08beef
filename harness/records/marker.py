"""The `INCOMPLETE` marker of a results folder (written atomically, harness.records.files).

While a run is in progress its folder holds `INCOMPLETE`; it says how the run ended as
soon as that is known: `interrupted at <time> by SIGTERM: ...`, `crashed at <time>: ...`,
`incomplete at <time>: ...`. A run in progress says `running since <time> (pid N, boot
<id>)`, and once a signal was caught `stopping since <time> by SIGTERM (pid N, boot <id>):
writing what was measured`. A harness killed outright cannot say anything itself: its
watchdog or the next harness command finds the owner gone (`mark_owner_gone`) and says
what can be known without the dead process (no exit code, no kernel log):

- the boot id changed: the machine restarted;
- the owner's memory cgroup counted an OOM kill as it vanished (the watchdog's reading):
  most likely the kernel's OOM killer;
- it had caught a signal and was writing what was measured: killed before it had;
- otherwise: killed without warning (SIGKILL or the OOM killer; which is not known).

Here, not in the report, so the watchdog and the CLI's clean-up write it without
importing the analysis stack.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from harness.errors import ResultsError

# the one atomic writer lives in harness.records.files; callers import it from here too
from harness.records.files import atomic_write as atomic_write

MARKER = "INCOMPLETE"
#: changes at every boot of the kernel: a marker's id that differs means a restart since
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")

#: "running since <t> (pid N, boot <id>)", "stopping since <t> by SIGTERM (pid N, boot <id>): ..."
#: and the markers of harness versions before boot ids, "running since <t> (pid N)"
_IN_PROGRESS = re.compile(
    r"^(?P<state>running|stopping) since (?P<since>\S+)(?: by (?P<by>[A-Z]+))?"
    r"(?: \(pid (?P<pid>\d+)(?:, boot (?P<boot>[0-9a-fA-F-]+))?\))?")

#: the ending of an owner that vanished while it ran, when nothing says more
KILLED = ("killed without warning (SIGKILL or the kernel's OOM killer; the harness could "
          "not record which)")
#: the ending of an owner that vanished after catching a signal, before its last write
KILLED_STOPPING = "killed before it had written what was measured"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def boot_id() -> str:
    """This boot's id, or "" where the kernel does not tell (not Linux, no /proc)."""
    try:
        return BOOT_ID.read_text().strip().lower()
    except OSError:
        return ""


def _owner(by: str = "") -> str:
    """`(pid N, boot <id>)`: which process, on which boot, owns the folder."""
    boot = boot_id()
    signal = f" by {by}" if by else ""
    return f"{signal} (pid {os.getpid()}{f', boot {boot}' if boot else ''})"


def mark_running(path: Path) -> None:
    """`running since <time> (pid N, boot <id>)`: this process owns the folder."""
    atomic_write(path / MARKER, f"running since {_now()}{_owner()}\n")


def mark_stopping(path: Path, by: str) -> None:
    """`stopping since <time> by SIGTERM (pid N, boot <id>): writing what was measured`.

    Written the moment a signal is caught, so a kill before the run's last write is
    told apart from one while it ran.
    """
    atomic_write(path / MARKER, f"stopping since {_now()}{_owner(by)}: writing what was measured\n")


def mark_ended(path: Path, how: str, reason: str, *, by: str = "") -> None:
    """The marker says how the run ended: `<how> at <time>[ by <signal>]: <reason>`."""
    signal = f" by {by}" if by else ""
    atomic_write(path / MARKER, f"{how} at {_now()}{signal}: {reason}\n")


@dataclass(frozen=True)
class InProgress:
    """What a `running since` or `stopping since` marker recorded about its owner."""

    text: str
    stopping: bool
    #: the UTC time it began, None when unreadable
    since: datetime | None
    #: the boot it was written on; "" in markers from before boot ids were recorded
    boot: str


def read_in_progress(text: str) -> InProgress | None:
    """The marker's record of a run still in progress; None when it says how it ended."""
    text = text.strip()
    found = _IN_PROGRESS.match(text)
    if found is None:
        return None
    try:
        since: datetime | None = datetime.fromisoformat(found["since"])
    except ValueError:
        since = None
    return InProgress(text=text, stopping=found["state"] == "stopping", since=since,
                      boot=(found["boot"] or "").lower())


def ending(found: InProgress, pid: int, at: str, *, oom: str = "",
           boot: str | None = None, booted_at: float | None = None) -> str:
    """The marker of a run whose owner `pid` is gone: `ended: ...` and what is known of how.

    `oom` is the watchdog's reading of the owner's memory cgroup when its oom_kill count
    rose as the owner vanished (`oom_kill in <file> went from X to Y`). `boot` and
    `booted_at` (this boot's id and start, epoch seconds) default to this machine's.
    """
    boot = boot_id() if boot is None else boot
    if found.boot and boot and found.boot != boot:
        return (f"ended: the machine restarted (boot id changed from {found.boot} to {boot}); "
                f"owner pid {pid} gone, found at {at} ({found.text})")
    gone = f"ended: owner pid {pid} gone, found at {at} ({found.text})"
    if not found.boot:
        # a marker from before boot ids: the run's start against this boot's says it
        booted = psutil.boot_time() if booted_at is None else booted_at
        if found.since is None:
            return f"{gone}: how it ended is not known (the marker records no boot id)"
        if found.since.timestamp() < booted:
            started = datetime.fromtimestamp(booted, UTC).isoformat(timespec="seconds")
            return (f"ended: the machine restarted (it booted at {started}, after the run "
                    f"began); owner pid {pid} gone, found at {at} ({found.text})")
    if oom:
        how = KILLED_STOPPING if found.stopping else "killed without warning"
        return f"{gone}: {how}, most likely by the kernel's OOM killer: {oom}"
    return f"{gone}: {KILLED_STOPPING if found.stopping else KILLED}"


def mark_owner_gone(path: Path, pid: int, detail: str = "", *, oom: str = "") -> bool:
    """A folder still marked running (or stopping) whose harness (pid) is gone: say how it
    ended, as far as is known (`ending`); True if it was.

    A marker that already says how the run ended (interrupted, crashed) is left as is.
    """
    marker = path / MARKER
    try:
        found = read_in_progress(marker.read_text())
    except OSError:
        return False
    if found is None:
        return False
    note = f"; {detail}" if detail else ""
    try:
        atomic_write(marker, f"{ending(found, pid, _now(), oom=oom)}{note}\n")
    except ResultsError:
        return False  # a full disk: the marker can say no more than "running"
    return True
