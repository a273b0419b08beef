"""Steady-state windows: CPU per request over the load phase only, by process role.

A load run starts processes (imports, connection set-up) and ends them (flush,
exit); counting those makes a fixed cost part of "per request" and moves the
figure with the run's length. Here a sampler thread waits until the target has
started counting requests, lets the load settle, then reads, at the start and
the end of a fixed window: the target's request counter (nginx stub_status, the
same for every generator) and the CPU time of every process that takes part,
sorted by role. Only the difference counts.

Roles: `generator` (Locust, or harness's local/worker processes), `master`
(harness's Locust master), `collector` (this process, less the sampler thread:
with harness it merges the recordings, with plain Locust it only waits),
`target` (nginx), `other` (everything else on the machine).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

#: after the first request: imports are done, connections open, the event loop settled
WARM_S = 2.0
#: the measured window
WINDOW_S = 6.0
#: the load runs at least this long after its first request, so the window fits with margin
LOAD_S = WARM_S + WINDOW_S + 2.0


@dataclass
class Window:
    """What happened in one steady window."""

    seconds: float
    requests: int
    #: CPU seconds per role
    cpu: dict[str, float] = field(default_factory=dict)
    #: the machine's busy CPU seconds (all cores) in the window
    busy: float = 0.0

    @property
    def rate(self) -> float:
        """Requests per wall-clock second."""
        return self.requests / self.seconds

    @property
    def generator_cpu(self) -> float:
        """CPU seconds of everything the generator needs: its processes and the collector."""
        return sum(self.cpu.get(role, 0.0) for role in ("generator", "master", "collector"))

    @property
    def per_cpu(self) -> float:
        """Requests per CPU second of the generator."""
        return self.requests / self.generator_cpu

    def share(self, role: str) -> float:
        """A role's share of the machine's cores over the window (1.0 = all of them)."""
        cores = psutil.cpu_count() or 1
        if role == "other":
            mine = sum(self.cpu.values())
            return max(self.busy - mine, 0.0) / (self.seconds * cores)
        return self.cpu.get(role, 0.0) / (self.seconds * cores)


def _role(proc: psutil.Process) -> str | None:
    try:
        cmd = " ".join(proc.cmdline())
        name = proc.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    if "harness.load.worker" in cmd:
        return "master" if "--mode master" in cmd else "generator"
    if "locust" in cmd:
        return "generator"
    if name == "nginx":
        return "target"
    return None


def _cpu_by_pid() -> dict[int, tuple[str, float]]:
    """(role, CPU seconds) of this process's descendants that take part, and of the collector."""
    me = psutil.Process()
    found: dict[int, tuple[str, float]] = {}
    for proc in me.children(recursive=True):
        role = _role(proc)
        if role is None:
            continue
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        found[proc.pid] = (role, t.user + t.system)
    sampler = threading.get_native_id()
    collector = sum(t.user_time + t.system_time for t in me.threads() if t.id != sampler)
    found[os.getpid()] = ("collector", collector)
    return found


def _busy() -> float:
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


class _Sampler(threading.Thread):
    def __init__(self, served: Callable[[], int], finished: threading.Event) -> None:
        super().__init__(daemon=True)
        self.served = served
        self.finished = finished
        self.window: Window | None = None
        self.problem = ""

    def run(self) -> None:
        try:
            self._measure()
        except Exception as exc:  # reported by measure(); a thread cannot raise to its caller
            self.problem = f"sampler failed: {exc!r}"

    def _measure(self) -> None:
        before = self.served()
        while self.served() <= before + 1:  # +1: our own status query
            if self.finished.wait(0.05):
                self.problem = "the load ended before its first request"
                return
        if self.finished.wait(WARM_S):
            self.problem = "the load ended during the warm-up"
            return
        t0, n0, cpu0, busy0 = time.monotonic(), self.served(), _cpu_by_pid(), _busy()
        if self.finished.wait(WINDOW_S):
            self.problem = "the load ended inside the window"
            return
        t1, n1, cpu1, busy1 = time.monotonic(), self.served(), _cpu_by_pid(), _busy()
        cpu: dict[str, float] = {}
        for pid, (role, after) in cpu1.items():
            start = cpu0.get(pid, (role, 0.0))[1]
            cpu[role] = cpu.get(role, 0.0) + after - start
        # two status queries are ours, not the generator's
        self.window = Window(t1 - t0, n1 - n0 - 1, cpu, busy1 - busy0)


def measure(load: Callable[[], Any], served: Callable[[], int]) -> Window:
    """Run `load()` (blocking) and return its steady window; RuntimeError if none fitted."""
    finished = threading.Event()
    sampler = _Sampler(served, finished)
    sampler.start()
    try:
        load()
    finally:
        finished.set()
        sampler.join()
    if sampler.window is None:
        raise RuntimeError(f"no steady window: {sampler.problem or 'unknown'}")
    return sampler.window
