"""summary.md: the verdict, the headline and the tables, for a CI job summary or a PR comment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from harness.analysis.detection import UnexplainedAlarm
from harness.analysis.invariants import OUTCOMES
from harness.analysis.recovery import FaultRecovery
from harness.report import scaling
from harness.report.clock import MARK_NOTE, clock_view
from harness.report.deploytable import deploys_md
from harness.report.headline import headline, invariant_verdict
from harness.report.record import RunRecord
from harness.report.text import aws_estimate_cell, fmt, fmt_ratio, marked, recovery_value


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows), ""]


_STATUS = {
    "recovered": "recovered", "no_impact": "no impact", "not_recovered": "**NOT recovered**",
    "not_measurable": "*not measurable*",
}


def summary_md(record: RunRecord) -> str:
    """summary.md of a run: its sections in order, each left out when it has nothing to say."""
    lines = [
        *_head_md(record), *_variants_md(record), *_failed_md(record), *_slos_md(record),
        *_recovery_md(record), *_clock_md(record), *_scaling_md(record),
        *_detection_md(record), *deploys_md(record), *_invariants_md(record),
        *_writes_md(record), *_capacity_md(record), *_modelled_md(record),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _head_md(record: RunRecord) -> list[str]:
    """The title with the verdict, the headline, and the warnings about unequal capacity."""
    v = record.verdict
    status = "no verdict" if v is None else f"{v.status.upper()} (exit {v.exit_code})"
    head = headline(record)
    lines = [
        f"# harness {record.scenario.name}: {status}", "",
        f"Run `{record.run_id}`, seed {record.scenario.seed}, status {record.status}.", "",
        f"**{head[0]}**", "", *(f"- {line}" for line in head[1:]), "",
    ]
    warnings = record.capacity_warnings()
    if warnings:
        lines += ["**CPU and memory limits were not as the profiles ask: the architectures did "
                  "not run on equal, known capacity.**", "", *(f"- {w}" for w in warnings), ""]
    competed = record.generator_warnings()
    if competed:
        lines += ["**The load generator's CPU: the stack may not have had its full CPU limit.**",
                  "", *(f"- {w}" for w in competed), ""]
    return lines


def _failed_md(record: RunRecord) -> list[str]:
    """The verdict's reasons, when it has any."""
    v = record.verdict
    if v is None or not v.reasons:
        return []
    return ["## Why it failed", "", *(f"- {r}" for r in v.reasons), ""]


def _slos_md(record: RunRecord) -> list[str]:
    """Every SLO per architecture: objective, scope, measured value and verdict."""
    slos = record.slo_results()
    if not slos:
        return []
    return ["## SLOs", "", *_table(
        ["SLO", "arch", "objective", "scope", "measured", "verdict"],
        [[s.name, s.arch, f"{s.metric} {s.op} {s.threshold}",
          s.endpoint + (f", {s.phase}" if s.phase else "")
          + (f", every {fmt(s.window_s, 's')}" if s.window_s else ""),
          fmt(s.measured, s.unit) if s.measured is not None else "—",
          "pass" if s.passed else "**FAIL**"] for s in slos],
    )]


def _recovery_md(record: RunRecord) -> list[str]:
    """Impact and recovery of every fault, figures the compressed clock touched marked."""
    recs = [(a, r) for a in record.architectures for r in a.recoveries]
    if not recs:
        return []
    lines = ["## Recovery per fault", "", *_table(
        ["fault", "arch", "at", "apply took", "status", "impact after", "peak error rate",
         "errors", "added p95", "recovered after", "AWS-equivalent (estimate)", "why"],
        [[r.fault, a.arch, fmt(r.start_s, "s"), fmt(r.apply_s, "s"),
          _STATUS.get(r.status, r.status), fmt(r.impact_s, "s"),
          marked(fmt_ratio(r.peak_error_rate), bool(a.inverted(r.fault, "errors"))),
          marked(str(r.errors), bool(a.inverted(r.fault, "errors"))),
          marked(fmt(r.added_p95_ms, "ms"), bool(a.inverted(r.fault, "latency"))),
          marked(recovery_value(r), bool(a.inverted(r.fault, "recovery")))
          if r.status == "recovered" else "—",
          aws_estimate_cell(r) or "—", r.reason or ""]
         for a, r in recs],
    )]
    if any(a.inverted(r.fault) for a, r in recs):
        lines += [MARK_NOTE, ""]
    return lines


def _scaling_md(record: RunRecord) -> list[str]:
    """Auto scaling per architecture: its target, gap and fleet changes; none for fixed fleets."""
    rows = scaling.summary_rows(record)
    if not rows:
        return []
    return ["## Capacity over time (auto scaling)", "", *_table(
        ["arch", "target", "scaling gap", "desired count changes", "most in service"], rows)]


def _invariants_md(record: RunRecord) -> list[str]:
    """Every invariant per architecture with its value and verdict."""
    invs = [(a, i) for a in record.architectures for i in a.invariants]
    if not invs:
        return []
    return ["## Invariants", "", *_table(
        ["invariant", "arch", "value", "verdict"],
        [[i.name, a.arch, str(i.value),
          "**VIOLATED**" if not i.ok else invariant_verdict(a, i)] for a, i in invs],
    )]


def _writes_md(record: RunRecord) -> list[str]:
    """How many writes of each kind and outcome the invariants checked."""
    checked = [(a.arch, kind, n) for a in record.architectures
               for kind, n in (a.writes_checked or {}).items()]
    if not checked:
        return []
    return ["## Writes checked", "", *_table(
        ["kind", "arch", *OUTCOMES],
        # a locustfile's own kind (harness.load.acked) is `table.column`
        [[kind if "." in kind else f"{kind}s", arch, *(str(n.get(o, 0)) for o in OUTCOMES)]
         for arch, kind, n in checked],
    )]


def _capacity_md(record: RunRecord) -> list[str]:
    """The apps' CPU and memory per architecture: asked, in force, and what enforced it."""
    capacity = [(a.arch, a.capacity) for a in record.architectures if a.capacity]
    if not capacity:
        return []
    return ["## Capacity", "", *_table(
        ["arch", "stands for", "asked (total)", "in force (total)", "enforced by"],
        [[arch, c.aws_size,
          f"{c.requested_total_cpus:g} vCPU / {c.requested_total_memory_mb} MiB",
          f"{_or_none(c.total_cpus)} vCPU / {_or_none(c.total_memory_mb)} MiB",
          c.mechanism if c.enforced else f"**NOT ENFORCED**: {c.reason}"]
         for arch, c in capacity],
    )]


def _modelled_md(record: RunRecord) -> list[str]:
    """Per architecture, every cited setting: its AWS value beside the one the run used."""
    lines: list[str] = []
    for a in record.architectures:
        if a.modelled:
            lines += [f"## What {a.arch} modelled", "", *_table(
                ["setting", "AWS value", "used", "source"],
                [[m.setting, str(m.aws_value),
                  f"{m.used_value}" + (" (scaled)" if m.scaled else "")
                  + (" **(variant)**" if m.overridden else ""), m.source]
                 for m in a.modelled],
            ), ""]
    return lines


def _variants_md(record: RunRecord) -> list[str]:
    """Per variant run: what it is and every setting it changes, base value beside new."""
    lines: list[str] = []
    for a in record.architectures:
        if a.variant is None:
            continue
        lines += [f"## Overrides in this variant: {a.arch}", "", a.variant.description, "",
                  *(f"- `{o.setting}`: {o.base_value} → **{o.value}**"
                    + (f" (source: {o.source})" if o.source else "")
                    for o in a.variant.overrides), ""]
    return lines


def _clock_md(record: RunRecord) -> list[str]:
    """The pairs of timings the compressed clock inverted, per fault; nothing at time scale 1."""
    view = clock_view(record)
    if view is None:
        return []
    lines = [f"## The compressed clock (time scale {view.time_scale:g})", "", view.lead, ""]
    if view.inverted:
        lines += _table(["fault", "arch", "at AWS", "in this run", "what the order decides"],
                        [list(row) for row in view.inverted])
    if view.unjudged:
        lines += ["Not judged:", "", *(f"- {line}" for line in view.unjudged), ""]
    return lines


def _or_none(value: float | None) -> str:
    return "no limit" if value is None else f"{value:g}"


def _detection_md(record: RunRecord) -> list[str]:
    """Time to detect per fault beside recovery, the false alarms, and the alarms evaluated."""
    archs = [a for a in record.architectures if a.alarms]
    if not archs:
        return []
    recovery = {(a.arch, r.fault): r for a in archs for r in a.recoveries}
    lines = ["## Time to detect per fault", "", *_table(
        ["fault", "arch", "at", "first alarm", "detected after", "recovered after",
         "other alarms"],
        [[d.fault, a.arch, fmt(d.start_s, "s"), d.alarm or "—",
          marked(fmt(d.detect_s, "s"), bool(a.inverted(d.fault, "detection")))
          if d.detect_s is not None else "**not detected**",
          _recovered(recovery.get((a.arch, d.fault))),
          ", ".join(x for x in d.alarms[1:]) or "—"]
         for a in archs for d in a.detections],
    )]
    lines += [_alarms_line("False alarms (ALARM with no fault or overload to explain it)",
                           {a.arch: a.false_alarms for a in archs}), "",
              _alarms_line("Alarms of an overload (ALARM on data that saw demand above the "
                           "in-service capacity at the scaling target)",
                           {a.arch: scaling.overload_unjudged(a.scaling) or a.overload_alarms
                            for a in archs}), ""]
    lines += ["## Alarms evaluated", "", *_table(
        ["arch", "alarm", "definition (at this run's time scale)", "missing data"],
        [[a.arch, d.name, d.describe() + f", published {fmt(d.delay_s, 's')} late",
          d.treat_missing_data] for a in archs for d in a.alarms],
    )]
    return lines


def _alarms_line(title: str, by_arch: Mapping[str, Sequence[UnexplainedAlarm] | str]) -> str:
    """`title: legacy 2 (a, b); modern 0`; a text instead of alarms says why none were counted."""
    return f"{title}: " + "; ".join(
        f"{arch} not counted ({found})" if isinstance(found, str)
        else f"{arch} {len(found)}" + (f" ({', '.join(sorted({x.alarm for x in found}))})"
                                       if found else "")
        for arch, found in by_arch.items())


def _recovered(rec: FaultRecovery | None) -> str:
    if rec is None:
        return "—"
    return fmt(rec.recovery_s, "s") if rec.recovery_s is not None else "not recovered"
