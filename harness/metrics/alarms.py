"""CloudWatch alarm evaluation over recorded samples: pure, the same live and post hoc.

Semantics as the CloudWatch User Guide ("Using Amazon CloudWatch alarms") documents them:

- the metric is aggregated into periods with a statistic (harness.metrics.periods);
- the alarm is evaluated every minute (every 10 s for a 10 s or 30 s period) on the
  last `evaluation_periods` (N) datapoints already published (period end + delay);
- it goes to ALARM when at least `datapoints_to_alarm` (M) of those N breach;
- missing datapoints ("Configuring how CloudWatch alarms treat missing data"):
  `notBreaching` counts them as good, `breaching` as bad; `missing` judges on the
  datapoints present and goes to INSUFFICIENT_DATA when there are none; `ignore` does
  the same but keeps the current state when there are none. With fewer datapoints
  present than M, `missing` goes to ALARM if every present one breaches, `ignore`
  keeps its state. (CloudWatch may also look back beyond the N periods for datapoints
  when some are missing; this evaluation does not.)

An alarm starts in INSUFFICIENT_DATA, as a new CloudWatch alarm does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.metrics.periods import Datapoint, datapoints
from harness.model.alarmdef import SYMBOL, AlarmDef, State
from harness.records.samples import Sample


@dataclass(frozen=True)
class Transition:
    """An alarm state change at `at_s` (seconds from the start of the load)."""

    alarm: str
    at_s: float
    old: State
    new: State
    reason: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def window_state(values: Sequence[float | None], alarm: AlarmDef, current: State) -> State:
    """The state the last (up to N) datapoints (oldest first, None = missing) put it in."""
    m = alarm.datapoints_to_alarm
    treat = alarm.treat_missing_data
    if treat in ("breaching", "notBreaching"):
        missing_is_bad = treat == "breaching"
        bad = sum(1 for v in values
                  if (missing_is_bad if v is None else alarm.breaches(v)))
        return "ALARM" if bad >= m else "OK"
    present = [v for v in values if v is not None]
    if not present:
        return "INSUFFICIENT_DATA" if treat == "missing" else current
    bad = sum(1 for v in present if alarm.breaches(v))
    if bad >= m:
        return "ALARM"
    if len(present) < m and bad == len(present):
        return "ALARM" if treat == "missing" else current
    return "OK"


def _reason(values: Sequence[float | None], alarm: AlarmDef, new: State) -> str:
    shown = ", ".join("—" if v is None else f"{v:.4g}" for v in values)
    bad = sum(1 for v in values if v is not None and alarm.breaches(v))
    return (f"{bad} of the last {len(values)} datapoints [{shown}] "
            f"{SYMBOL[alarm.comparison]} {alarm.threshold:g} "
            f"(M of N {alarm.datapoints_to_alarm}/{alarm.evaluation_periods}, "
            f"missing data: {alarm.treat_missing_data}) -> {new}")


def window_at(points: Sequence[Datapoint], alarm: AlarmDef, at_s: float) -> list[float | None]:
    """The last N datapoints visible at `at_s`, oldest first (fewer early in the run).

    Periods before the load are not in the window: the alarm has no evidence from
    then, neither good nor bad, whatever its missing-data treatment.
    """
    visible = [p for p in points if p.available_at(alarm.delay_s) <= at_s + 1e-9]
    return [p.value for p in visible[-alarm.evaluation_periods:]]


def evaluate(alarm: AlarmDef, samples: Iterable[Sample], until_s: float,
             state: State = "INSUFFICIENT_DATA") -> list[Transition]:
    """Every state change of the alarm from the start of the load until `until_s`."""
    points = _points(alarm, list(samples), until_s)
    changes: list[Transition] = []
    k = 1
    while _due(alarm, k, until_s):
        state, change = _judge(alarm, points, round(k * alarm.interval_s, 6), state)
        if change is not None:
            changes.append(change)
        k += 1
    return changes


def lookback_s(alarm: AlarmDef) -> float:
    """How far before an evaluation at `now_s` its window can reach (one interval late).

    The last N periods published at `at_s` start after `at_s - delay - (N + 1) x period`;
    the evaluations a tick judges are up to one interval before `now_s` (a tick later than
    that is what a reader's margin, harness.records.samples.MetricsLog.keep_for, is for).
    A metric math alarm's second series is read over the same periods.
    """
    return alarm.delay_s + (alarm.evaluation_periods + 1) * alarm.period_s + alarm.interval_s


def _since_s(alarm: AlarmDef, at_s: float) -> float:
    # one period earlier than the window reaches: a float rounding at a period's
    # boundary must never leave the window's oldest period out
    return at_s - alarm.delay_s - (alarm.evaluation_periods + 2) * alarm.period_s


def _due(alarm: AlarmDef, k: int, until_s: float) -> bool:
    """Whether the alarm's k-th evaluation (at k x interval) is at or before `until_s`."""
    return k * alarm.interval_s <= until_s + 1e-9


def _points(alarm: AlarmDef, samples: Sequence[Sample], until_s: float,
            since_s: float = 0.0) -> list[Datapoint]:
    points = datapoints(samples, alarm.metric, period_s=alarm.period_s, stat=alarm.statistic,
                        until_s=until_s, member=alarm.member, since_s=since_s)
    if alarm.minus_metric is not None:
        points = _minus(points, datapoints(
            samples, alarm.minus_metric, period_s=alarm.period_s, stat=alarm.statistic,
            until_s=until_s, member=alarm.member, since_s=since_s))
    return points


def _judge(alarm: AlarmDef, points: Sequence[Datapoint], at_s: float, state: State
           ) -> tuple[State, Transition | None]:
    """One evaluation at `at_s`: the new state and the transition to it, if any."""
    values = window_at(points, alarm, at_s)
    if not values:
        return state, None  # no period of the run is published yet
    new = window_state(values, alarm, state)
    if new == state:
        return state, None
    return new, Transition(alarm.name, at_s, state, new, _reason(values, alarm, new))


def _minus(points: Sequence[Datapoint], other: Sequence[Datapoint]) -> list[Datapoint]:
    """Metric math `m1 - m2` period by period; missing when either datapoint is."""
    return [dataclasses.replace(p, value=None if p.value is None or q.value is None
                                else p.value - q.value)
            for p, q in zip(points, other, strict=True)]


class AlarmEngine:
    """Evaluates alarms as samples arrive (live, during a run): new transitions only.

    Incremental: each alarm keeps its state and its next evaluation, and `advance`
    judges only the evaluations due since the last call, on the periods their windows
    see. So `samples` needs to hold only the last `lookback_s()` seconds (the collector's
    MetricsLog keeps no more), and a tick costs the same in the run's last hour as in
    its first minute. The transitions are those `evaluate` finds over the whole run.
    """

    def __init__(self, alarms: Sequence[AlarmDef]) -> None:
        self.alarms = list(alarms)
        self._states: list[State] = ["INSUFFICIENT_DATA"] * len(self.alarms)
        #: per alarm, k of its next evaluation (at k x interval)
        self._next: list[int] = [1] * len(self.alarms)

    def lookback_s(self) -> float:
        """How far back from `now_s` any alarm's next evaluations can read samples."""
        return max((lookback_s(a) for a in self.alarms), default=0.0)

    def advance(self, samples: Sequence[Sample], now_s: float) -> list[Transition]:
        """Transitions up to `now_s` not returned before."""
        fresh: list[Transition] = []
        for i, alarm in enumerate(self.alarms):
            k, state = self._next[i], self._states[i]
            if not _due(alarm, k, now_s):
                continue
            points = _points(alarm, samples, now_s,
                             since_s=_since_s(alarm, round(k * alarm.interval_s, 6)))
            while _due(alarm, k, now_s):
                state, change = _judge(alarm, points, round(k * alarm.interval_s, 6), state)
                if change is not None:
                    fresh.append(change)
                k += 1
            self._next[i], self._states[i] = k, state
        return sorted(fresh, key=lambda t: t.at_s)
