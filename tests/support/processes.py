"""Finding the processes a run or a stack left (or has) on the machine."""

from __future__ import annotations

import os
from pathlib import Path

import psutil


def processes_under(path: Path) -> list[psutil.Process]:
    """Processes whose command line or working directory points into `path`."""
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        text = " ".join(proc.info["cmdline"] or []) + " " + (proc.info["cwd"] or "")
        if str(path) in text and proc.pid != os.getpid():
            found.append(proc)
    return found


def still_alive(procs: list[psutil.Process]) -> list[str]:
    """Those of `procs` (captured earlier) that still run, described for an assertion."""
    alive = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
        except psutil.Error:
            continue
    return alive
