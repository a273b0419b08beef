"""The fault executor: applies and reverts a timeline of faults on schedule.

A plain thread (never gevent) keeps a monotonic clock and hands each action to
a small worker pool at its time, so a slow action (a planned failover) does
not delay the next one. Every action is an event in `events.jsonl` with its lag
behind the schedule; `close()` reverts every fault still in place whatever
ended the run, and records the lag percentiles. A fault that fails to apply is
an event and an error of the run, never a silent skip.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import FaultError
from harness.faults.base import FaultContext, FaultType, build, write_journal
from harness.records.events import FaultEvent
from harness.scenario.faults import FaultSpec, fault_name

#: the executor's goal for |applied - scheduled|; reported next to the measured p99
LAG_GOAL_MS = 50.0


@dataclass
class Planned:
    """One fault with its resolved start and end (seconds from the run's start)."""

    fault: FaultType
    start_s: float
    end_s: float | None
    applied: bool = False
    reverted: bool = False
    apply_future: Future[None] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.fault.name


def plan(
    specs: list[FaultSpec],
    ctx: FaultContext,
    *,
    phases: Mapping[str, float] | Callable[[str], float] | None = None,
) -> list[Planned]:
    """Resolve starts against the phases' start offsets and build each fault on the stack."""
    planned = []
    for i, spec in enumerate(specs):
        start = spec.at.resolve(phases or {})
        end = None if spec.instant or spec.duration_s is None else start + spec.duration_s
        planned.append(Planned(build(spec, fault_name(spec, i), ctx), start, end))
    return planned


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class FaultExecutor:
    """Runs planned faults against the run's clock (`ctx.events.t0`). A context manager."""

    def __init__(
        self, planned: list[Planned], ctx: FaultContext, *, journal_dir: Path | None = None,
        workers: int = 4,
    ) -> None:
        self.planned = planned
        self.ctx = ctx
        self.events = ctx.events
        self.errors: list[FaultError] = []
        self.lags_ms: list[float] = []
        self._journal_dir = journal_dir
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fault")
        self._thread = threading.Thread(target=self._schedule, name="fault-scheduler", daemon=True)
        self._pending: list[Future[None]] = []
        self._closed = False

    def __enter__(self) -> FaultExecutor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the schedule; times count from the event log's t0 (the run's start)."""
        self._thread.start()

    @property
    def active(self) -> list[Planned]:
        with self._lock:
            return [p for p in self.planned if p.applied and not p.reverted]

    def done(self) -> bool:
        """True when every scheduled action has run."""
        return not self._thread.is_alive() and all(f.done() for f in self._pending)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until every scheduled action ran (faults without an end stay in place)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self.done():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    # -- the schedule ------------------------------------------------------------------

    def _actions(self) -> list[tuple[float, int, str, Planned]]:
        actions = []
        for i, p in enumerate(self.planned):
            actions.append((p.start_s, 1, f"{i:06d}", p))
            if p.end_s is not None:
                # at equal times, reverts go first: the older fault ends before a new one starts
                actions.append((p.end_s, 0, f"{i:06d}", p))
        actions.sort(key=lambda a: (a[0], a[1], a[2]))
        return [(t, kind, key, p) for t, kind, key, p in actions]

    def _schedule(self) -> None:
        for at_s, kind, _key, p in self._actions():
            remaining = at_s - self.events.elapsed()
            if remaining > 0 and self._stop.wait(remaining):
                return
            if self._stop.is_set():
                return
            if kind == 1:
                p.apply_future = self._pool.submit(self._apply, p)
                self._pending.append(p.apply_future)
            else:
                self._pending.append(self._pool.submit(self._revert, p, at_s, False))

    def _apply(self, p: Planned) -> None:
        # The fault's clock starts here, not when apply() returns: a slow apply (a planned
        # failover, a reboot) is already doing damage while it runs (harness.analysis.recovery).
        started = self.events.elapsed()
        self.events.emit(FaultEvent.APPLYING, **self._describe(p), scheduled_s=round(p.start_s, 6),
                         lag_ms=round((started - p.start_s) * 1000, 3))
        try:
            p.fault.apply()
        except Exception as exc:
            took = self.events.elapsed() - started
            error = str(exc) if isinstance(exc, FaultError) else f"{type(exc).__name__}: {exc}"
            self.errors.append(
                FaultError(f"fault {p.name} ({p.fault.spec.type}) did not apply: {error}")
            )
            self.events.emit(
                FaultEvent.APPLY_FAILED, **self._describe(p), scheduled_s=round(p.start_s, 6),
                lag_ms=round((started - p.start_s) * 1000, 3), took_ms=round(took * 1000, 3),
                error=str(error),
            )
            # undo a partial apply (a toxic on two of three edges); reverts are tolerant
            try:
                p.fault.revert()
            except Exception as revert_exc:
                self.events.emit(FaultEvent.REVERT_FAILED,
                                 **self._describe(p), error=str(revert_exc))
            p.reverted = True
            return
        took = self.events.elapsed() - started
        lag = started - p.start_s
        with self._lock:
            self.lags_ms.append(abs(lag) * 1000)
            p.applied = True
            p.reverted = p.fault.spec.instant
        self._journal()
        self.events.emit(
            FaultEvent.APPLIED, **self._describe(p), scheduled_s=round(p.start_s, 6),
            lag_ms=round(lag * 1000, 3), took_ms=round(took * 1000, 3),
            **({"ends_s": round(p.end_s, 6)} if p.end_s is not None else {}),
        )

    def _revert(self, p: Planned, scheduled_s: float | None, teardown: bool) -> None:
        if p.apply_future is not None:
            p.apply_future.result()
        with self._lock:
            if not p.applied or p.reverted:
                return
            p.reverted = True
        started = self.events.elapsed()
        try:
            p.fault.revert()
        except Exception as exc:
            with self._lock:
                p.reverted = False
            self.errors.append(FaultError(f"fault {p.name}: revert failed: {exc}"))
            self.events.emit(FaultEvent.REVERT_FAILED, **self._describe(p), error=str(exc))
            return
        took = self.events.elapsed() - started
        extra: dict[str, Any] = {"took_ms": round(took * 1000, 3), "at_teardown": teardown}
        if scheduled_s is not None:
            lag = started - scheduled_s
            extra |= {"scheduled_s": round(scheduled_s, 6), "lag_ms": round(lag * 1000, 3)}
            with self._lock:
                self.lags_ms.append(abs(lag) * 1000)
        self._journal()
        self.events.emit(FaultEvent.REVERTED, **self._describe(p), **extra)

    def _describe(self, p: Planned) -> dict[str, Any]:
        spec = p.fault.spec
        return {
            "fault": p.name, "type": spec.type, "target": spec.target_or_default,
            "targets": p.fault.targets, "params": spec.params(),
        }

    def _journal(self) -> None:
        if self._journal_dir is None:
            return
        active = [
            {"name": p.name, "type": p.fault.spec.type, "targets": p.fault.targets}
            for p in self.active
        ]
        write_journal(self._journal_dir, active)

    # -- teardown ----------------------------------------------------------------------

    def close(self, timeout_s: float = 30) -> None:
        """Stop the schedule, let running actions finish, revert every fault still in place."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        deadline = time.monotonic() + timeout_s
        for fut in list(self._pending):
            # errors of actions are already events
            with contextlib.suppress(Exception):
                fut.result(timeout=max(0.0, deadline - time.monotonic()))
        for p in reversed(self.active):
            self._revert(p, None, True)
        self._pool.shutdown(wait=True)
        self._journal()
        self.events.emit(FaultEvent.SUMMARY, **self.summary())

    def summary(self) -> dict[str, Any]:
        """Apply/revert lag percentiles against the goal, and the count of errors."""
        with self._lock:
            lags = list(self.lags_ms)
        return {
            "actions": len(lags),
            "lag_p50_ms": round(_percentile(lags, 50), 3),
            "lag_p99_ms": round(_percentile(lags, 99), 3),
            "lag_max_ms": round(max(lags, default=0.0), 3),
            "lag_goal_ms": LAG_GOAL_MS,
            "lag_goal_met": _percentile(lags, 99) <= LAG_GOAL_MS,
            "errors": [str(e) for e in self.errors],
            "still_active": [p.name for p in self.active],
        }
