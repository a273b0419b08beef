"""summary.md's deploy table: failed requests, rollback or first alarm, per architecture."""

from __future__ import annotations

from collections.abc import Sequence

from harness.analysis.deploys import DeploySummary
from harness.report.record import RunRecord
from harness.report.text import fmt


def deploys_md(record: RunRecord) -> list[str]:
    """`## Deploys`: one row per deploy and architecture (nothing when there was none)."""
    rows = [(a.arch, d) for a in record.architectures for d in a.deploys]
    if not rows:
        return []
    lines = ["## Deploys", "",
             "| deploy | arch | how | release | outcome | settled after | failed / requests "
             "(until settled) | p95 / p99 (until settled) | p95 before | rolled back after "
             "| first alarm | failed before noticed |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for arch, d in rows:
        lines.append("| " + " | ".join([
            d.deploy, arch, how(d), d.version, d.outcome,
            fmt(d.settled_after_s, "s") if d.settled_after_s is not None else "not settled",
            f"{d.failed_requests} / {d.requests}",
            f"{fmt(d.p95_ms, 'ms')} / {fmt(d.p99_ms, 'ms')}",
            fmt(d.before_p95_ms, "ms"),
            rolled_back(d),
            (f"{d.first_alarm} after {fmt(d.first_alarm_after_s, 's')}"
             if d.first_alarm else "**not detected**"),
            noticed(d),
        ]) + " |")
    return [*lines, ""]


def how(d: DeploySummary) -> str:
    if d.config:
        return f"blue/green {d.config}"
    return "in place, rolling"


def rolled_back(d: DeploySummary) -> str:
    if d.rolled_back_after_s is None:
        return "—" if d.rollback_alarm or d.config else "no automatic rollback"
    alarm = (f" ({d.rollback_alarm} in ALARM after {fmt(d.rollback_alarm_after_s, 's')})"
             if d.rollback_alarm_after_s is not None else "")
    return f"{fmt(d.rolled_back_after_s, 's')}{alarm}"


def noticed(d: DeploySummary) -> str:
    if d.noticed_by is None:
        return f"{d.failed_before_noticed} (not noticed within the run)"
    return f"{d.failed_before_noticed} (by {d.noticed_by}, after {fmt(d.noticed_after_s, 's')})"


def deploys_line(deploys: Sequence[DeploySummary]) -> str:
    """One cell of the terminal's table: per deploy, what failed and who noticed when."""
    parts = []
    for d in deploys:
        text = f"{d.deploy} {d.outcome}, {d.failed_requests} failed until settled"
        if d.rolled_back_after_s is not None:
            text += f", rolled back after {fmt(d.rolled_back_after_s, 's')}"
        elif d.first_alarm_after_s is not None:
            text += f", first alarm after {fmt(d.first_alarm_after_s, 's')} ({d.first_alarm})"
        else:
            text += ", not detected"
        parts.append(text)
    return "; ".join(parts) or "—"
