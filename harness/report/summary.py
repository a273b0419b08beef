"""summary.md: the verdict, the headline and the tables, for a CI job summary or a PR comment."""

from __future__ import annotations

from harness.report.headline import headline
from harness.report.record import RunRecord
from harness.report.text import fmt, fmt_ratio


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows), ""]


def summary_md(record: RunRecord) -> str:
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
    if v is not None and v.reasons:
        lines += ["## Why it failed", "", *(f"- {r}" for r in v.reasons), ""]
    slos = record.slo_results()
    if slos:
        lines += ["## SLOs", "", *_table(
            ["SLO", "arch", "objective", "scope", "measured", "verdict"],
            [[s.name, s.arch, f"{s.metric} {s.op} {s.threshold}",
              s.endpoint + (f", {s.phase}" if s.phase else "")
              + (f", every {fmt(s.window_s, 's')}" if s.window_s else ""),
              fmt(s.measured, s.unit) if s.measured is not None else "—",
              "pass" if s.passed else "**FAIL**"] for s in slos],
        )]
    recs = [(a.arch, r) for a in record.architectures for r in a.recoveries]
    if recs:
        lines += ["## Recovery per fault", "", *_table(
            ["fault", "arch", "at", "impact after", "peak error rate", "errors", "added p95",
             "recovered after"],
            [[r.fault, arch, fmt(r.start_s, "s"),
              fmt(r.impact_s, "s") if r.impact_s is not None else "no impact",
              fmt_ratio(r.peak_error_rate), str(r.errors), fmt(r.added_p95_ms, "ms"),
              fmt(r.recovery_s, "s") if r.recovery_s is not None else "**not recovered**"]
             for arch, r in recs],
        )]
    invs = [(a.arch, i) for a in record.architectures for i in a.invariants]
    if invs:
        lines += ["## Invariants", "", *_table(
            ["invariant", "arch", "value", "verdict"],
            [[i.name, arch, str(i.value), "ok" if i.ok else "**VIOLATED**"] for arch, i in invs],
        )]
    capacity = [(a.arch, a.capacity) for a in record.architectures if a.capacity]
    if capacity:
        lines += ["## Capacity", "", *_table(
            ["arch", "stands for", "asked (total)", "in force (total)", "enforced by"],
            [[arch, c.aws_size,
              f"{c.requested_total_cpus:g} vCPU / {c.requested_total_memory_mb} MiB",
              f"{_or_none(c.total_cpus)} vCPU / {_or_none(c.total_memory_mb)} MiB",
              c.mechanism if c.enforced else f"**NOT ENFORCED**: {c.reason}"]
             for arch, c in capacity],
        )]
    for a in record.architectures:
        if a.modelled:
            lines += [f"## What {a.arch} modelled", "", *_table(
                ["setting", "AWS value", "used", "source"],
                [[m.setting, str(m.aws_value),
                  f"{m.used_value}" + (" (scaled)" if m.scaled else ""), m.source]
                 for m in a.modelled],
            ), ""]
    return "\n".join(lines).rstrip() + "\n"


def _or_none(value: float | None) -> str:
    return "no limit" if value is None else f"{value:g}"
