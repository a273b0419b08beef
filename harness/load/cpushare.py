"""How much of the machine the load generator itself used, and whether it competed with the stack.

On a 2-core machine the generator and the system under test share the CPU. The
self-check (selfcheck.py) catches a generator that could not keep its schedule;
this catches the quieter case: a generator that kept its schedule by taking CPU
the stack's enforced budget entitled it to. Then the stack was measured with less
than its AWS size, and its latency reads worse than the data supports.

A sampler thread in the parent reads, once a second, the CPU seconds of every
generator process (psutil, user + system) and the machine's busy seconds (every
core's non-idle time), so each interval gives the generator's and the machine's
share of all cores. The judgement (`judge`) is pure and works on those intervals.

What counts as "competed", per interval:

- the machine was saturated: busy >= SATURATED_MACHINE of all cores. Below that
  the scheduler had an idle core for anyone who wanted one, so nobody waited for
  the generator; at or above it runnable threads queue for a core.
- and the generator used more than the headroom the stack's limit leaves:
  (cores - stack CPU limit) / cores of the machine, the limit being the fleet's at its
  largest (a fleet that scales, its maximum). The stack can use at most its limit;
  what is left is the generator's fair room. A generator within that room
  took nothing the stack was entitled to even on a saturated machine (then
  others did: reported separately, as "machine saturated by other processes").
  Without a known limit (plain `harness load`, or limits not enforced) the room
  is DEFAULT_HEADROOM_SHARE (see there).

The run is flagged when such seconds are more than MAX_COMPETED_SHARE of the load
(the self-check's tolerance for seconds behind), so one noisy second does not flag.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil

#: machine busy at or above this share of all cores: runnable threads wait for a core
SATURATED_MACHINE = 0.90
#: the generator's room when the stack's CPU limit is unknown: 0.5 of 2 cores. The shipped
#: profiles' fleets at their largest (6 x 0.1125 = 9 x 0.075 = 0.675 vCPU) leave 1.3 of the
#: 2-core machines this runs on; an unknown stack is assumed to take much more (1.5)
DEFAULT_HEADROOM_SHARE = 0.25
#: share of load intervals allowed to be "competed" before the run is flagged
MAX_COMPETED_SHARE = 0.05
SAMPLE_EVERY_S = 1.0


@dataclass(frozen=True)
class Interval:
    """One sampling interval: wall seconds, and CPU seconds of the generator and the machine."""

    start: float
    end: float
    generator_cpu_s: float
    machine_busy_s: float


@dataclass(frozen=True)
class GeneratorCpu:
    """The generator's share of the machine over the load, and whether it competed."""

    cores: int
    wall_s: float
    generator_cpu_s: float
    machine_busy_s: float
    #: the stack's CPU limit the headroom was taken from; None = unknown
    stack_cpus: float | None
    headroom_share: float
    intervals: int
    saturated_intervals: int
    competed_intervals: int
    #: the generator's busiest interval, share of all cores
    generator_peak_share: float
    competed: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def generator_share(self) -> float:
        """Generator CPU / (cores x wall) over the load."""
        return self.generator_cpu_s / (self.cores * self.wall_s) if self.wall_s > 0 else 0.0

    @property
    def machine_share(self) -> float:
        return self.machine_busy_s / (self.cores * self.wall_s) if self.wall_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "generator_share": round(self.generator_share, 4),
            "machine_share": round(self.machine_share, 4),
        }


def headroom(cores: int, stack_cpus: float | None) -> float:
    """The generator's fair share of the machine: what the stack's limit leaves."""
    if stack_cpus is None or cores <= 0:
        return DEFAULT_HEADROOM_SHARE
    return max(cores - stack_cpus, 0.0) / cores


def judge(intervals: Sequence[Interval], *, cores: int, stack_cpus: float | None
          ) -> GeneratorCpu | None:
    """The verdict over the load's intervals; None when there is no interval to judge."""
    usable = [i for i in intervals if i.end > i.start]
    if not usable or cores <= 0:
        return None
    room = headroom(cores, stack_cpus)
    saturated = competed = 0
    peak = 0.0
    for i in usable:
        capacity = cores * (i.end - i.start)
        gen, busy = i.generator_cpu_s / capacity, i.machine_busy_s / capacity
        peak = max(peak, gen)
        if busy >= SATURATED_MACHINE:
            saturated += 1
            competed += gen > room
    wall = sum(i.end - i.start for i in usable)
    gen_s = sum(i.generator_cpu_s for i in usable)
    busy_s = sum(i.machine_busy_s for i in usable)
    flagged = competed > MAX_COMPETED_SHARE * len(usable)
    result = GeneratorCpu(
        cores=cores, wall_s=round(wall, 3), generator_cpu_s=round(gen_s, 3),
        machine_busy_s=round(busy_s, 3), stack_cpus=stack_cpus, headroom_share=round(room, 4),
        intervals=len(usable), saturated_intervals=saturated, competed_intervals=competed,
        generator_peak_share=round(peak, 4), competed=flagged,
    )
    return _with_warnings(result)


def _with_warnings(r: GeneratorCpu) -> GeneratorCpu:
    room = (
        f"room left by the stack's {r.stack_cpus:g} vCPU at most {r.headroom_share:.0%}"
        if r.stack_cpus is not None else f"room {r.headroom_share:.0%}, the stack's limit unknown"
    )
    figures = (
        f"generator {r.generator_share:.0%} of {r.cores} cores on average "
        f"(peak {r.generator_peak_share:.0%}, {room}), machine busy {r.machine_share:.0%}, "
        f"saturated (>= {SATURATED_MACHINE:.0%}) in {r.saturated_intervals} of {r.intervals} s"
    )
    warnings = []
    if r.competed:
        warnings.append(
            f"the load generator competed with the stack for CPU in {r.competed_intervals} of "
            f"{r.intervals} s: {figures}; the stack may have had less than its limit, so its "
            "latency may read worse than its size supports; lower the rate or run the "
            "generator on another machine (--remote-workers)"
        )
    elif r.saturated_intervals > MAX_COMPETED_SHARE * r.intervals:
        warnings.append(
            f"the machine was saturated by other processes (not the generator): {figures}; "
            "the stack may have had less than its limit"
        )
    return GeneratorCpu(**{**asdict(r), "warnings": warnings})


def _busy_seconds() -> float:
    t = psutil.cpu_times()
    # iowait is idle time waiting for disk: a core in iowait is free to run anything
    return float(sum(t)) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) \
        - getattr(t, "guest_nice", 0.0)


class CpuSampler:
    """Samples the generator processes' CPU and the machine's, once a second, in a thread.

    A process that exited keeps its last reading (psutil cannot read a reaped one);
    what it used after that last sample, at most a second, is not counted.
    """

    def __init__(self, pids: Sequence[int], every_s: float = SAMPLE_EVERY_S) -> None:
        self.every_s = every_s
        self._procs: dict[int, psutil.Process] = {}
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                self._procs[pid] = psutil.Process(pid)
        self._last_cpu: dict[int, float] = {}
        self._samples: list[tuple[float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self.cores = psutil.cpu_count() or 1

    def start(self) -> CpuSampler:
        """The first reading now, then one every `every_s` until stop()."""
        self.sample()
        self._thread.start()
        return self

    def __enter__(self) -> CpuSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            if self._thread.is_alive():
                self._thread.join(timeout=2 * self.every_s)
            self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.sample()

    def sample(self) -> None:
        """Take one reading now (also called at the load's start and end)."""
        for pid, proc in self._procs.items():
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                # children: a local-mode generator runs in one process; count any it forks
                self._last_cpu[pid] = t.user + t.system + t.children_user + t.children_system
        self._samples.append((time.time(), sum(self._last_cpu.values()), _busy_seconds()))

    def intervals(self, start: float, end: float) -> list[Interval]:
        """Intervals whose middle lies in [start, end] (wall clock): the load phase."""
        found = []
        for (t0, g0, m0), (t1, g1, m1) in zip(self._samples, self._samples[1:], strict=False):
            if start <= (t0 + t1) / 2 <= end:
                found.append(Interval(t0, t1, max(g1 - g0, 0.0), max(m1 - m0, 0.0)))
        return found

    def result(self, start: float, end: float, *, stack_cpus: float | None
               ) -> GeneratorCpu | None:
        return judge(self.intervals(start, end), cores=self.cores, stack_cpus=stack_cpus)
