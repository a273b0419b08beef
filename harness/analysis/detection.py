"""Time to detect per fault, and the alarms no fault explains, from alarm state changes.

A fault is detected by the first alarm that went to ALARM after the fault started and
before the next fault started, as long as the fault could still explain it: until the
fault ended or the service recovered (whichever is later; the end of the run if it never
recovered), plus the alarm's own lag (its N periods, publication delay and one
evaluation), since an alarm reports data that old. A fault also reaches as long as the
orchestrators are still repairing what it broke (a replacement instance below its
healthy threshold is an unhealthy host, whatever the traffic says): until the last
repair of its targets is back in service, or the end of the run if one never was.

An alarm that went to ALARM outside every fault's reach is unexplained. When the data it
evaluated (its N periods up to its evaluation time less the publication delay) overlaps
an overload episode (demand above the in-service capacity at the scaling policy's
target, harness.analysis.scaling.overload_windows), it is an alarm of that overload: it
warned, rightly, of a fleet short of capacity. Otherwise it is a false alarm: it would
have paged someone for nothing. A fixed fleet has no target, so no overload episodes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.analysis.recovery import FaultRecovery, FaultWindow
from harness.model.alarmdef import AlarmDef
from harness.records.events import FaultEvent, OrchestratorEvent, Source, StackEvent


@dataclass(frozen=True)
class FaultDetection:
    fault: str
    start_s: float
    #: the first alarm to go to ALARM for this fault; None = not detected
    alarm: str | None
    #: seconds from the fault's start to that alarm's state change
    detect_s: float | None
    #: alarms already in ALARM when the fault started (they could not signal it anew)
    already_alarming: list[str] = field(default_factory=list)
    #: every alarm that went to ALARM for this fault, first first
    alarms: list[str] = field(default_factory=list)

    @property
    def detected(self) -> bool:
        return self.detect_s is not None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UnexplainedAlarm:
    """An alarm that went to ALARM with no fault to explain it."""

    alarm: str
    at_s: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FalseAlarm(UnexplainedAlarm):
    """An alarm with neither a fault nor an overload to explain it; `reason`: the alarm's."""


@dataclass(frozen=True)
class OverloadAlarm(UnexplainedAlarm):
    """An alarm whose data saw an overload episode; `reason` names it, then the alarm's."""


@dataclass(frozen=True)
class AlarmChange:
    """One `alarm.state_change` event, as detection needs it."""

    alarm: str
    at_s: float
    old: str
    new: str
    reason: str = ""


def changes_from_events(events: Iterable[Mapping[str, Any]], arch: str) -> list[AlarmChange]:
    """The architecture's alarm state changes, at their evaluation time (`at_s`)."""
    return sorted(
        (AlarmChange(str(e["alarm"]), float(e["at_s"]), str(e["old"]), str(e["new"]),
                     str(e.get("reason", "")))
         for e in events
         if e.get("kind") == StackEvent.ALARM_STATE_CHANGE and e.get("arch", arch) == arch),
        key=lambda c: c.at_s,
    )


#: orchestrator events that end a repair: the member or replica serves again
REPAIRED = frozenset({OrchestratorEvent.INSTANCE_IN_SERVICE, OrchestratorEvent.TASK_IN_SERVICE,
                      OrchestratorEvent.STANDBY_REJOINED, OrchestratorEvent.READER_REJOINED})


def repairs_from_events(events: Iterable[Mapping[str, Any]], arch: str, run_end_s: float
                        ) -> dict[str, float]:
    """Per fault, until when the orchestrators were repairing its targets.

    A target's repair is every orchestrator event on it from the fault's apply until the
    next fault on it; it ends at the last event if that one is a REPAIRED kind, else at
    the end of the run (a replacement still launching or below its healthy threshold,
    also when the next fault came first: that fault owns what follows anyway). A fault
    reaches until its last target is repaired; faults whose targets saw no orchestrator
    event are absent.
    """
    mine = sorted((e for e in events if e.get("arch", arch) == arch),
                  key=lambda e: float(e.get("t_s", 0.0)))
    applied = [(str(e["fault"]), float(e["t_s"]), set(e.get("targets") or [e.get("target")]))
               for e in mine if e.get("kind") == FaultEvent.APPLIED]
    until: dict[str, float] = {}
    for i, (name, start, targets) in enumerate(applied):
        for target in targets:
            nxt = min((s for _n, s, t in applied[i + 1:] if target in t), default=math.inf)
            repair = [e for e in mine if str(e.get("kind", "")).startswith(Source.ORCHESTRATOR)
                      and e.get("component") == target and start <= float(e["t_s"]) < nxt]
            if repair:
                last = repair[-1]
                done = float(last["t_s"]) if last["kind"] in REPAIRED else run_end_s
                until[name] = max(until.get(name, 0.0), done)
    return until


def detect(faults: Sequence[FaultWindow], recoveries: Sequence[FaultRecovery],
           changes: Sequence[AlarmChange], alarms: Mapping[str, AlarmDef], run_end_s: float,
           repairs: Mapping[str, float] | None = None,
           overloads: Sequence[tuple[float, float]] = (),
           ) -> tuple[list[FaultDetection], list[FalseAlarm], list[OverloadAlarm]]:
    """Time to detect each fault, then the false alarms and the alarms of an overload.

    `overloads` are the overload episodes as (start s, end s) (overload_windows).

    A change is owned by the latest fault that started before the newest data the alarm
    saw (its evaluation time less the publication delay): an alarm cannot have seen a
    fault that started after its data ends.
    """
    ordered = sorted(faults, key=lambda f: f.start_s)
    by_fault = {r.fault: r for r in recoveries}
    reach: dict[str, float] = {}
    for f in ordered:
        rec = by_fault.get(f.name)
        # a fault reaches until it recovered; one with no impact no further than its own end;
        # one not recovered (or not measurable) until the end of the run
        if rec is not None and rec.status == "no_impact":
            until = f.start_s
        elif rec is not None and rec.recovery_s is not None:
            until = f.start_s + rec.recovery_s
        else:
            until = run_end_s
        reach[f.name] = max(until, f.end_s if f.end_s is not None else f.start_s,
                            (repairs or {}).get(f.name, f.start_s))
    firing: dict[str, list[tuple[str, float]]] = {f.name: [] for f in ordered}
    false_alarms: list[FalseAlarm] = []
    overload_alarms: list[OverloadAlarm] = []
    for c in changes:
        if c.new != "ALARM":
            continue
        alarm = alarms.get(c.alarm)
        seen_until = c.at_s - (alarm.delay_s if alarm else 0.0)
        lag = alarm.lag_s if alarm else 0.0
        owner = next((f for f in reversed(ordered)
                      if f.start_s < seen_until and c.at_s <= reach[f.name] + lag), None)
        if owner is not None:
            firing[owner.name].append((c.alarm, c.at_s))
            continue
        # the alarm evaluated its N periods up to its newest data
        seen_from = seen_until - (alarm.period_s * alarm.evaluation_periods if alarm else 0.0)
        episode = next(((lo, hi) for lo, hi in reversed(overloads)
                        if lo <= seen_until and hi >= seen_from), None)
        if episode is None:
            false_alarms.append(FalseAlarm(c.alarm, c.at_s, c.reason))
        else:
            overload_alarms.append(OverloadAlarm(c.alarm, c.at_s,
                                                 _overload_reason(*episode, c.reason)))
    detections = []
    for f in ordered:
        hits = firing[f.name]
        detections.append(FaultDetection(
            fault=f.name, start_s=f.start_s,
            alarm=hits[0][0] if hits else None,
            detect_s=round(hits[0][1] - f.start_s, 3) if hits else None,
            already_alarming=_alarming_at(changes, f.start_s),
            alarms=list(dict.fromkeys(a for a, _ in hits)),
        ))
    return detections, false_alarms, overload_alarms


def _overload_reason(start_s: float, end_s: float, own: str) -> str:
    episode = (f"demand above the in-service capacity at the scaling target from "
               f"{start_s:.1f} s to {end_s:.1f} s")
    return f"{episode}; {own}" if own else episode


def _alarming_at(changes: Sequence[AlarmChange], t_s: float) -> list[str]:
    state: dict[str, str] = {}
    for c in changes:
        if c.at_s <= t_s:
            state[c.alarm] = c.new
    return sorted(a for a, s in state.items() if s == "ALARM")
