"""Numbers as people read them, shared by every renderer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.analysis.orderings import ClockOrdering
from harness.analysis.recovery import FaultRecovery

#: beside a figure that an ordering inverted at the run's time scale decides
INVERTED_MARK = "⚠"


def fmt(value: float | None, unit: str) -> str:
    """312.4 ms / 1.25 s / 0.42 % / 12 s; '—' for None."""
    if value is None:
        return "—"
    if unit == "ms":
        if abs(value) >= 1000:
            return f"{value / 1000:.2f} s"
        return f"{value:.1f} ms" if abs(value) < 100 else f"{value:.0f} ms"
    if unit == "ratio":
        return fmt_ratio(value)
    if unit == "s":
        return f"{value:.1f} s" if abs(value) < 100 else f"{value:.0f} s"
    return f"{value:g}"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "—"
    pct = value * 100
    return f"{pct:.2f} %" if abs(pct) < 10 else f"{pct:.1f} %"


def fmt_delta(value: float, unit: str) -> str:
    """A signed difference: +12.0 ms, -0.50 pp."""
    sign = "+" if value >= 0 else "-"
    if unit == "ratio":
        return f"{sign}{abs(value) * 100:.2f} pp"
    return sign + fmt(abs(value), unit)


def recovery_value(r: FaultRecovery) -> str:
    """'12.0 s', 'no impact', 'NOT recovered' or 'not measurable': never a 0 for 'no impact'."""
    if r.status == "recovered":
        return fmt(r.recovery_s, "s")
    return {"no_impact": "no impact", "not_recovered": "NOT recovered"}.get(
        r.status, "not measurable")


def aws_estimate(r: FaultRecovery) -> str | None:
    """The recovery at AWS's own timings (run seconds / time_scale), labelled as an estimate;
    or why there is none: an ordering it hangs on is inverted (harness.analysis.orderings)."""
    if r.aws_estimate_withheld:
        return f"not estimated: {r.aws_estimate_withheld}"
    if r.recovery_aws_s is None or r.time_scale == 1.0:
        return None
    return f"≈ {fmt(r.recovery_aws_s, 's')} at AWS timings, an estimate"


def aws_estimate_cell(r: FaultRecovery) -> str | None:
    """A table's "AWS-equivalent (estimate)" cell: `≈ 40 s`, `not estimated: ...` or None."""
    if r.aws_estimate_withheld:
        return f"not estimated: {r.aws_estimate_withheld}"
    return None if r.recovery_aws_s is None else f"≈ {fmt(r.recovery_aws_s, 's')}"


def recovery_text(r: FaultRecovery) -> str:
    """recovery_value with the AWS estimate and, when not measurable, the reason."""
    text = recovery_value(r)
    estimate = aws_estimate(r)
    if estimate:
        text += f" ({estimate})"
    if r.status == "not_measurable" and r.reason:
        text += f" ({r.reason})"
    return text


def fmt_detect(detect_s: float | None, alarm: str | None) -> str:
    """`12.0 s (alb-target-5xx)` or `not detected`."""
    return "not detected" if detect_s is None else f"{fmt(detect_s, 's')} ({alarm})"


def detected_line(detections: Sequence[Any], alarms: Sequence[Any]) -> str:
    """One cell per architecture: each fault's time to detect, or why there is none."""
    if not alarms:
        return "no alarms"
    return ", ".join(f"{d.fault} {fmt_detect(d.detect_s, d.alarm)}" for d in detections) or "—"


def marked(text: str, inverted: bool) -> str:
    """`text ⚠` when an inverted ordering decides the figure."""
    return f"{text} {INVERTED_MARK}" if inverted else text


def _seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:g} s"


def ordering_text(o: ClockOrdering) -> tuple[str, str]:
    """(at AWS, in this run): `database.failover_s 30 s > app.client.db_query_timeout_s 3 s`,
    `3 s = 3 s`."""
    aws = f"{o.pair[0]} {_seconds(o.aws_s[0])} {o.aws or '?'} {o.pair[1]} {_seconds(o.aws_s[1])}"
    run = f"{_seconds(o.run_s[0])} {o.run or '?'} {_seconds(o.run_s[1])}"
    return aws, run


def inverted_consequence(o: ClockOrdering) -> str:
    """`inverted: the fault's errors and recovery are not what AWS would show`."""
    names = [_FIGURES.get(f, f) for f in o.touches]
    figures = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    whose = "the run's" if o.fault is None else "the fault's"
    verb = "is" if len(names) == 1 else "are"
    return f"inverted: {whose} {figures} {verb} not what AWS would show"


_FIGURES = {"detection": "time to detect", "scaling": "scaling gap"}
