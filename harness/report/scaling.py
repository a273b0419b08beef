"""The report's capacity over time and scaling gap, from events (harness.analysis.scaling).

Profile settings come from the typed profile run.json's JSON reads back into
(harness.analysis.orderings.recorded_profile), timings at the run's scale by `Timing.at`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from harness.analysis.scaling import (
    capacity_points,
    desired_changes,
    overload_windows,
    scaling_gap,
)
from harness.analysis.series import ArchData
from harness.model.profile import Profile
from harness.model.scaling import TargetTracking
from harness.report import plot
from harness.report.record import RunRecord, ScalingRecord
from harness.report.text import fmt, fmt_ratio, marked


def _tracking(profile: Profile | None) -> TargetTracking | None:
    return profile.scaling.target_tracking if profile and profile.scaling else None


def cpu_target(profile: Profile | None) -> float | None:
    """The CPU target of the profile's target tracking policy (None: none, or not CPU)."""
    policy = _tracking(profile)
    if policy is None or policy.metric.value != "CPUUtilization":
        return None
    return policy.target_value.value


def decision_lookback_s(profile: Profile | None, time_scale: float) -> float | None:
    """How far back the data of a scale-out decision reaches, in run seconds.

    The high alarm acts on its newest `scale_out_datapoints` published datapoints: the
    newest ended at least the publication delay ago, and periods are aligned, so the
    oldest began less than (datapoints + 1) periods before that. The timings are the
    run's, as the live policy has them (`Timing.at`, floors included).
    """
    policy = _tracking(profile)
    if profile is None or policy is None:
        return None
    metrics = profile.metrics
    delay = metrics.publication_delay_s.at(time_scale) if metrics is not None else 0.0
    return (policy.scale_out_datapoints.value + 1) * policy.period_s.at(time_scale) + delay


def overload_episodes(events: Sequence[Mapping[str, Any]], arch: str,
                      profile: Profile | None) -> list[tuple[float, float]]:
    """The architecture's overload episodes; none without a CPU target (a fixed fleet)."""
    target = cpu_target(profile)
    return [] if target is None else overload_windows(capacity_points(events, arch), target)


def scaling_record(events: Sequence[Mapping[str, Any]], arch: str,
                   profile: Profile | None, data: ArchData | None,
                   time_scale: float = 1.0) -> ScalingRecord | None:
    """The architecture's scaling record; None for a fixed fleet (no `scaling:` section) or
    a profile that was not recorded or does not read back (`recorded_profile`)."""
    if profile is None or profile.scaling is None:
        return None
    points = capacity_points(events, arch)
    changes = desired_changes(events, arch)
    target = cpu_target(profile)
    gap = scaling_gap(points, changes, target, decision_lookback_s(profile, time_scale))
    error_rate = p99 = None
    if data is not None and gap.demand_s is not None and gap.gap_s is not None:
        start = int(gap.demand_s)
        stats = data.stats(start, max(start + 1, int(gap.demand_s + gap.gap_s) + 1))
        if stats.attempts():
            error_rate = round(stats.error_rate, 6)
            p99 = stats.latency_ms.get("p99")
    return ScalingRecord(target_pct=target, timeline=points, desired_changes=changes, gap=gap,
                         gap_error_rate=error_rate, gap_p99_ms=p99)


def overload_unjudged(rec: ScalingRecord | None) -> str | None:
    """Why no alarm could be put down to an overload; None when they could."""
    if rec is None or rec.target_pct is None:
        return "no CPU scaling target to judge an overload by"
    if not rec.timeline:
        return "no capacity samples were recorded"
    return None


def gap_text(rec: ScalingRecord) -> str:
    """`scaling gap 21 s (3 -> 5 in service; errors 4.1 %, p99 820 ms)`, or why there is none."""
    gap = rec.gap
    if gap.status == "not_measurable":
        return f"scaling gap not measurable: {gap.reason}"
    during = []
    if rec.gap_error_rate is not None:
        during.append(f"errors {fmt_ratio(rec.gap_error_rate)}")
    if rec.gap_p99_ms is not None:
        during.append(f"p99 {fmt(rec.gap_p99_ms, 'ms')}")
    counts = f"{gap.in_service_at_demand} -> {gap.needed} in service"
    figure = (f"{fmt(gap.gap_s, 's')}" if gap.status == "measured"
              else f">= {fmt(gap.gap_s, 's')} (not reached: {gap.reason})")
    return f"scaling gap {figure} ({counts}" + (f"; {', '.join(during)}" if during else "") + ")"


def changes_text(rec: ScalingRecord) -> str:
    return ", ".join(f"{fmt(c.t_s, 's')}: {c.old} -> {c.new} ({c.cause.replace('_', ' ')})"
                     for c in rec.desired_changes) or "none"


def chart(record: RunRecord, colors: Mapping[str, str]) -> str:
    """Desired, launching and in-service count per architecture; "" without scaling."""
    fig = go.Figure()
    drawn = False
    for a in record.architectures:
        if a.scaling is None or not a.scaling.timeline:
            continue
        drawn = True
        t = [p.t_s for p in a.scaling.timeline]
        for key, label, dash in (("in_service", "in service", "solid"),
                                 ("desired", "desired", "dash"),
                                 ("launching", "launching", "dot")):
            fig.add_scatter(x=t, y=[getattr(p, key) for p in a.scaling.timeline],
                            name=f"{a.arch} {label}", legendgroup=a.arch,
                            line={"color": colors[a.arch], "dash": dash, "shape": "hv"})
        # demand: the members' CPU over the in-service count, against the policy's target
        fig.add_scatter(
            x=t, y=[round(p.cpu_sum_pct / p.in_service, 1)
                    if p.cpu_sum_pct is not None and p.in_service else None
                    for p in a.scaling.timeline],
            name=f"{a.arch} CPU per member in service (%)", legendgroup=a.arch, yaxis="y2",
            line={"color": colors[a.arch], "width": 1}, opacity=0.5)
        if a.scaling.target_pct is not None:
            fig.add_hline(y=a.scaling.target_pct, yref="y2", line={"color": colors[a.arch],
                          "width": 1, "dash": "dashdot"})
        gap = a.scaling.gap
        if gap.demand_s is not None and gap.gap_s is not None:
            fig.add_vrect(x0=gap.demand_s, x1=gap.demand_s + gap.gap_s,
                          fillcolor=colors[a.arch], opacity=0.12, line_width=0)
    if not drawn:
        return ""
    return plot.div(
        fig, "capacity-over-time", height=360, right=60,
        legend={"orientation": "h", "y": -0.25},
        xaxis_title="seconds since the load started", yaxis_title="instances / tasks",
        yaxis2={"title": "CPU % (target dash-dot)", "overlaying": "y", "side": "right",
                "rangemode": "tozero", "showgrid": False},
    )


def summary_rows(record: RunRecord) -> list[list[str]]:
    """The summary's table: one row per architecture that scales."""
    return [[a.arch, f"{a.scaling.target_pct:g} % CPU" if a.scaling.target_pct else "—",
             marked(gap_text(a.scaling), bool(a.inverted(None, "scaling"))),
             changes_text(a.scaling),
             str(max((p.in_service for p in a.scaling.timeline), default=0))]
            for a in record.architectures if a.scaling is not None]
