"""The answer at the top of every report: which architecture came through better, and why."""

from __future__ import annotations

import math

from harness.report.record import ArchRecord, RunRecord
from harness.report.text import fmt, fmt_ratio


def _score(a: ArchRecord) -> tuple[float, ...]:
    """Bigger is better: valid, ran to the end, no data lost, SLOs met, faults recovered, speed."""
    slos = len(a.slos) or 1
    met = sum(s.passed for s in a.slos) / slos
    never = sum(r.recovery_s is None for r in a.recoveries)
    recovery = sum(r.recovery_s for r in a.recoveries if r.recovery_s is not None)
    error_rate = a.totals.error_rate if a.totals else 1.0
    return (float(a.valid), float(a.error is None), -float(_violations(a)), met, -float(never),
            -recovery, -error_rate)


def _violations(a: ArchRecord) -> int:
    return sum(i.value for i in a.invariants if not i.ok)


def _data_line(a: ArchRecord) -> str:
    if not a.invariants:
        return "invariants not checked"
    bad = [f"{i.name} {i.value}" for i in a.invariants if not i.ok]
    return "data: " + ", ".join(bad) if bad else "no data lost, no invariant violated"


def _recovery_line(a: ArchRecord) -> str:
    if not a.recoveries:
        return "no faults"
    parts = [
        f"{r.fault} {fmt(r.recovery_s, 's') if r.recovery_s is not None else 'NOT recovered'}"
        for r in a.recoveries
    ]
    return "recovery: " + ", ".join(parts)


def arch_line(a: ArchRecord) -> str:
    """One line per architecture: verdict, SLOs, recoveries, data, peak errors."""
    failed = (not a.valid) or a.error or any(not s.passed for s in a.slos) or _violations(a)
    state = "INVALID" if not a.valid else ("FAILED" if failed else "passed")
    peak = max((r.peak_error_rate for r in a.recoveries), default=None)
    parts = [
        f"{a.arch}: {state}",
        f"{sum(s.passed for s in a.slos)}/{len(a.slos)} SLOs met",
        _recovery_line(a),
        _data_line(a),
    ]
    if peak is not None:
        parts.append(f"peak error rate during faults {fmt_ratio(peak)}")
    if a.error:
        parts.append(f"stopped early: {a.error}")
    return "; ".join(parts)


def _why(best: ArchRecord, other: ArchRecord) -> list[str]:
    reasons = []
    if best.valid != other.valid:
        reasons.append(f"{other.arch}'s run is invalid (the generator fell behind)")
    if other.error and not best.error:
        reasons.append(f"{other.arch} stopped early ({other.error})")
    if _violations(best) != _violations(other):
        reasons.append(f"{other.arch} violated data invariants ({_data_line(other)})")
    met_b, met_o = sum(s.passed for s in best.slos), sum(s.passed for s in other.slos)
    if met_b != met_o:
        reasons.append(f"it met {met_b}/{len(best.slos)} SLOs vs {met_o}/{len(other.slos)}")
    other_rec = {r.fault: r for r in other.recoveries}
    gaps = []
    for r in best.recoveries:
        o = other_rec.get(r.fault)
        if o is None:
            continue
        mine = math.inf if r.recovery_s is None else r.recovery_s
        theirs = math.inf if o.recovery_s is None else o.recovery_s
        if mine < theirs:
            gaps.append((theirs - mine, r.fault, r.recovery_s, o.recovery_s))
    for _gap, fault, mine_s, theirs_s in sorted(gaps, reverse=True)[:2]:
        theirs_text = "never" if theirs_s is None else fmt(theirs_s, "s")
        reasons.append(f"after {fault} it recovered in {fmt(mine_s, 's')} vs {theirs_text}")
    return reasons


def headline(record: RunRecord) -> list[str]:
    """[the answer, then one line per architecture]."""
    archs = [a for a in record.architectures if a.totals is not None or a.error]
    lines = [arch_line(a) for a in record.architectures]
    if len(archs) < 2:
        if not archs:
            return ["No architecture produced data.", *lines]
        return [arch_line(archs[0]), *lines[1:]] if len(lines) > 1 else lines
    ranked = sorted(archs, key=_score, reverse=True)
    best, other = ranked[0], ranked[1]
    if _score(best) == _score(other):
        return [f"{best.arch} and {other.arch} came through equally.", *lines]
    why = _why(best, other) or ["it had fewer errors overall"]
    return [f"{best.arch} came through better: " + "; ".join(why) + ".", *lines]
