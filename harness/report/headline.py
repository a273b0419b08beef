"""The answer at the top of every report: which architecture came through better, and why."""

from __future__ import annotations

import math

from harness.analysis.invariants import KINDS
from harness.analysis.recovery import FaultRecovery
from harness.analysis.verdict import InvariantLike
from harness.report.record import ArchRecord, RunRecord
from harness.report.scaling import gap_text
from harness.report.text import fmt_ratio, recovery_text, recovery_value

#: recovery is detected on per-second series: a difference below a second is not one
RESOLUTION_S = 1.0


def _score(a: ArchRecord) -> tuple[float, ...]:
    """Bigger is better: valid, ran to the end, no data lost, SLOs met, faults recovered, speed."""
    slos = len(a.slos) or 1
    met = sum(s.passed for s in a.slos) / slos
    never = sum(r.status == "not_recovered" for r in a.recoveries)
    unknown = sum(r.status == "not_measurable" for r in a.recoveries)
    recovery = sum(round(r.recovery_s / RESOLUTION_S) for r in a.recoveries
                   if r.recovery_s is not None)
    error_rate = a.totals.error_rate if a.totals else 1.0
    return (float(a.valid), float(a.error is None), -float(_violations(a)), met, -float(never),
            -float(unknown), -recovery, -error_rate)


def _seconds(r: FaultRecovery) -> float | None:
    """Comparable recovery time: 0 for no impact, inf for never; None when not measurable."""
    if r.status == "not_measurable":
        return None
    if r.status == "no_impact":
        return 0.0
    return math.inf if r.recovery_s is None else r.recovery_s


def _violations(a: ArchRecord) -> int:
    return sum(i.value for i in a.invariants if not i.ok)


def data_line(a: ArchRecord) -> str:
    """What the invariants showed; "no data lost" only when an acknowledged write was checked."""
    if not a.invariants:
        return "invariants not checked"
    bad = [f"{i.name} {i.value}" for i in a.invariants if not i.ok]
    if bad:
        return "data: " + ", ".join(bad)
    if a.writes_checked is None:  # only the scenario's own queries ran (harness.scenario.own)
        return (f"no invariant violated ({len(a.invariants)} of the scenario's own checks); "
                "lost writes not checked")
    # the shop's kinds when its checks ran; a locustfile's own (`payments.id`) when noted
    shop = any(i.name == "orders_lost" for i in a.invariants)
    kinds = [*(KINDS if shop else ()), *(k for k in a.writes_checked if k not in KINDS)]
    acked = {kind: a.acknowledged(kind) for kind in kinds}
    checked = [f"{n} acknowledged {_kind_words(kind)}" for kind, n in acked.items() if n]
    unchecked = [_kind_words(kind) for kind, n in acked.items() if not n]
    if not checked:
        return "no invariant violated; lost data not checked (no write was acknowledged)"
    text = f"no data lost ({', '.join(checked)} checked"
    if unchecked:
        text += f"; {' and '.join(unchecked)} not checked: none acknowledged"
    return text + "), no invariant violated"


def _kind_words(kind: str) -> str:
    """`orders`, or a locustfile's own kind as `writes to payments.id`."""
    return f"{kind}s" if kind in KINDS else f"writes to {kind}"


def _recovery_line(a: ArchRecord) -> str:
    if not a.recoveries:
        return "no faults"
    return "recovery: " + ", ".join(f"{r.fault} {recovery_text(r)}" for r in a.recoveries)


def invariant_verdict(a: ArchRecord, inv: InvariantLike) -> str:
    """'ok', 'VIOLATED', or 'not checked (…)' for a lost-writes check with nothing to check."""
    if not inv.ok:
        query = getattr(inv, "query", None)  # a scenario's own check whose query failed
        return "FAILED (query error)" if query is not None and query.error else "VIOLATED"
    for kind in KINDS:
        lost_checks = (f"{kind}s_lost", f"{kind}s_missing_from_queue")
        if inv.name in lost_checks and not a.acknowledged(kind):
            return f"not checked (no acknowledged {kind})"
    own_kind = inv.name.removesuffix("_lost")  # a locustfile's writes (harness.load.acked)
    if own_kind != inv.name and own_kind in (a.writes_checked or {}) \
            and not a.acknowledged(own_kind):
        return "not checked (no acknowledged write)"
    return "ok"


def arch_line(a: ArchRecord, *, interrupted: bool = False) -> str:
    """One line per architecture: verdict, SLOs, recoveries, data, peak errors.

    In an interrupted run nothing passed or failed: what it measured is "interrupted".
    """
    failed = (not a.valid) or a.error or any(not s.passed for s in a.slos) or _violations(a)
    state = "INVALID" if not a.valid else (
        "interrupted" if interrupted else "FAILED" if failed else "passed")
    peak = max((r.peak_error_rate for r in a.recoveries if r.peak_error_rate is not None),
               default=None)
    parts = [
        f"{a.arch}: {state}",
        f"{sum(s.passed for s in a.slos)}/{len(a.slos)} SLOs met",
        _recovery_line(a),
        data_line(a),
    ]
    if peak is not None:
        parts.append(f"peak error rate during faults {fmt_ratio(peak)}")
    if a.scaling is not None:
        parts.append(gap_text(a.scaling))
    if a.error:
        parts.append(f"stopped early: {a.error}")
    return "; ".join(parts)


def _why(best: ArchRecord, other: ArchRecord) -> list[str]:
    reasons = []
    if best.valid != other.valid:
        why = "; ".join(other.invalid_reasons) or "the generator fell behind"
        reasons.append(f"{other.arch}'s run is invalid ({why})")
    if other.error and not best.error:
        reasons.append(f"{other.arch} stopped early ({other.error})")
    if _violations(best) != _violations(other):
        reasons.append(f"{other.arch} violated data invariants ({data_line(other)})")
    met_b, met_o = sum(s.passed for s in best.slos), sum(s.passed for s in other.slos)
    if met_b != met_o:
        reasons.append(f"it met {met_b}/{len(best.slos)} SLOs vs {met_o}/{len(other.slos)}")
    other_rec = {r.fault: r for r in other.recoveries}
    gaps = []
    for r in best.recoveries:
        o = other_rec.get(r.fault)
        mine, theirs = _seconds(r), None if o is None else _seconds(o)
        if o is None or mine is None or theirs is None:
            continue  # a recovery that could not be measured is compared with nothing
        if theirs - mine >= RESOLUTION_S:
            verb = " it recovered in" if r.status == "recovered" else ":"
            gaps.append((theirs - mine, r.fault, verb, recovery_value(r), recovery_value(o)))
    for _gap, fault, verb, mine_text, theirs_text in sorted(gaps, reverse=True)[:2]:
        reasons.append(f"after {fault}{verb} {mine_text} vs {theirs_text}")
    return reasons


def headline(record: RunRecord) -> list[str]:
    """[the answer, then one line per architecture]."""
    archs = [a for a in record.architectures if a.totals is not None or a.error]
    if record.status == "interrupted":
        lines = [arch_line(a, interrupted=True) for a in record.architectures]
        first = record.verdict.reasons[0] if record.verdict and record.verdict.reasons else (
            "interrupted: not judged")
        return [f"{first[:1].upper()}{first[1:]}.", *lines]
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
