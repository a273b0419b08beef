"""Target tracking as AWS evaluates it: pure logic over recorded metric samples.

Each evaluation (every minute, scaled, as CloudWatch evaluates alarms) looks at the
tracked metric's published datapoints (harness.metrics.periods: one statistic per
period, visible `delay_s` after the period ends) through the policy's two alarms
(harness.metrics.alarms: M of N datapoints). While the high alarm is in ALARM the
policy asks for

    desired = ceil(capacity * metric / target)        (bounded by min and max)

where `capacity` is every running member, or, within the scale-out cooldown after
a scale-out, only the members the metric measures (in service and warmed up): the
capacity already added counts towards the next scale-out, so one breach does not
launch twice (Application Auto Scaling guide, "cooldown"; EC2 Auto Scaling guide,
"default instance warmup": warming instances are not counted). It never lowers the
desired count. While the low alarm is in ALARM, no member warms up and the scale-in
cooldown is over, it asks for `ceil(measured * metric / target)` when that is lower.
A cooldown starts at the decision (AWS starts it when the activity completes; the
emulation's activities start at once, so the difference is the launch itself).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from harness.metrics.alarms import lookback_s as alarm_lookback_s
from harness.metrics.alarms import window_at, window_state
from harness.metrics.periods import Datapoint, datapoints
from harness.model.alarmdef import AlarmDef, State
from harness.records.samples import Sample


@dataclass(frozen=True)
class PolicyDef:
    """A target tracking policy as a run applies it: every time at the run's scale."""

    metric: Literal["CPUUtilization", "RequestCountPerTarget"]
    #: percent, or requests per target per (scaled) period
    target: float
    period_s: float
    out_datapoints: int
    in_datapoints: int
    in_ratio: float
    #: a datapoint is visible this long after its period ends
    delay_s: float
    #: how often the alarms are evaluated
    every_s: float
    scale_out_cooldown_s: float
    scale_in_cooldown_s: float
    warmup_s: float
    disable_scale_in: bool

    def lookback_s(self) -> float:
        """How far before an evaluation at `now_s` the tracker reads samples.

        Its two alarms' windows (harness.metrics.alarms.lookback_s). A member's warm-up
        leaves its samples out one by one (by their own time), so it reaches back no
        further; the cooldowns are times of decisions, not samples.
        """
        return max(alarm_lookback_s(self.alarm("high")), alarm_lookback_s(self.alarm("low")))

    def alarm(self, which: Literal["high", "low"]) -> AlarmDef:
        """The CloudWatch alarm AWS creates for the policy (AlarmHigh / AlarmLow)."""
        high = which == "high"
        n = self.out_datapoints if high else self.in_datapoints
        return AlarmDef(
            name=f"TargetTracking-Alarm{'High' if high else 'Low'}", metric=self.metric,
            statistic="Average", period_s=self.period_s, evaluation_periods=n,
            datapoints_to_alarm=n,
            threshold=self.target if high else self.target * self.in_ratio,
            comparison="GreaterThanThreshold" if high else "LessThanThreshold",
            treat_missing_data="missing", delay_s=self.delay_s, every_s=self.every_s,
        )


def _warming(sample: Sample, warmups: Mapping[str, tuple[float, float]]) -> bool:
    span = warmups.get(sample.member or "")
    return span is not None and span[0] <= sample.t_s < span[1]


def metric_points(samples: Iterable[Sample], policy: PolicyDef, until_s: float,
                  warmups: Mapping[str, tuple[float, float]] | None = None,
                  since_s: float = 0.0) -> list[Datapoint]:
    """The tracked metric's datapoints until `until_s`, from the period holding `since_s`.

    CPUUtilization: the Average over every member's samples in the period, leaving out
    a member's samples while it warms up (`warmups`: member -> [from, until)).
    RequestCountPerTarget: the period's requests (Sum over targets) over the Average of
    members in service; no datapoint when either has none (no request, no target).
    A live evaluation at `now_s` reads from `now_s - policy.lookback_s()` (the periods
    its alarms' windows see); the default, the load's start, builds every period.
    """
    rows = list(samples)
    if policy.metric == "CPUUtilization":
        spans = warmups or {}
        kept = [s for s in rows if not _warming(s, spans)]
        return datapoints(kept, "CPUUtilization", period_s=policy.period_s, stat="Average",
                          until_s=until_s, since_s=since_s)
    requests = datapoints(rows, "RequestCount", period_s=policy.period_s, stat="Sum",
                          until_s=until_s, since_s=since_s)
    targets = datapoints(rows, "InServiceCount", period_s=policy.period_s, stat="Average",
                         until_s=until_s, since_s=since_s)
    return [
        Datapoint(r.start_s, r.end_s,
                  r.value / t.value if r.value is not None and t.value else None)
        for r, t in zip(requests, targets, strict=True)
    ]


@dataclass(frozen=True)
class FleetCounts:
    """The group as the policy sees it at one evaluation."""

    desired: int
    #: members started and not terminating (in service, warming up or launching)
    running: int
    #: members the metric measures: in service and past their warm-up
    measured: int
    #: members still warming up (in service or not)
    warming: int = 0


@dataclass(frozen=True)
class Decision:
    at_s: float
    direction: Literal["out", "in"]
    desired: int
    reason: str


class TargetTracker:
    """The policy's state across evaluations: its alarms and its cooldowns."""

    def __init__(self, policy: PolicyDef, *, min_capacity: int, max_capacity: int) -> None:
        self.policy = policy
        self.min_capacity = min_capacity
        self.max_capacity = max_capacity
        self.high: State = "INSUFFICIENT_DATA"
        self.low: State = "INSUFFICIENT_DATA"
        self.last_out_s: float | None = None
        self.last_in_s: float | None = None

    def bounds(self, min_capacity: int, max_capacity: int) -> None:
        """New bounds (a scheduled action changed them)."""
        self.min_capacity, self.max_capacity = min_capacity, max_capacity

    def _clamp(self, n: int) -> int:
        return max(self.min_capacity, min(self.max_capacity, n))

    def evaluate(self, points: list[Datapoint], now_s: float, fleet: FleetCounts
                 ) -> Decision | None:
        """One evaluation at `now_s`: a new desired count, or None."""
        p = self.policy
        high, low = p.alarm("high"), p.alarm("low")
        high_values = window_at(points, high, now_s)
        low_values = window_at(points, low, now_s)
        # A real group's alarms have hours of history; the run's start has none. Until N
        # periods are published the alarm keeps its state (CloudWatch would judge a
        # partial window and could scale on one datapoint, which a live group never does).
        if len(high_values) >= high.evaluation_periods:
            self.high = window_state(high_values, high, self.high)
        if len(low_values) >= low.evaluation_periods:
            self.low = window_state(low_values, low, self.low)
        if self.high == "ALARM":
            latest = next((v for v in reversed(high_values) if v is not None), None)
            if latest is None:
                return None
            cooling = self.last_out_s is not None and now_s - self.last_out_s < (
                p.scale_out_cooldown_s)
            base = fleet.measured if cooling else fleet.running
            wanted = self._clamp(math.ceil(base * latest / p.target - 1e-9))
            if wanted <= fleet.desired:
                return None
            self.last_out_s = now_s
            return Decision(now_s, "out", wanted,
                            f"{p.metric} {latest:.4g} > target {p.target:g} for "
                            f"{p.out_datapoints} datapoints: ceil({base} x {latest:.4g} / "
                            f"{p.target:g}) = {wanted}"
                            + (" (within the scale-out cooldown: measured members only)"
                               if cooling else ""))
        if self.low != "ALARM" or p.disable_scale_in or fleet.warming:
            return None
        if self.last_in_s is not None and now_s - self.last_in_s < p.scale_in_cooldown_s:
            return None
        latest = next((v for v in reversed(low_values) if v is not None), None)
        if latest is None:
            return None
        wanted = self._clamp(math.ceil(fleet.measured * latest / p.target - 1e-9))
        if wanted >= fleet.desired:
            return None
        self.last_in_s = now_s
        return Decision(now_s, "in", wanted,
                        f"{p.metric} {latest:.4g} < {p.target * p.in_ratio:g} for "
                        f"{p.in_datapoints} datapoints: ceil({fleet.measured} x {latest:.4g} / "
                        f"{p.target:g}) = {wanted}")
