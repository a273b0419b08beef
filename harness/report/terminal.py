"""The short table `harness run` prints at the end: one column per architecture."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.report.record import RunRecord
from harness.report.results import REPORT
from harness.report.text import fmt, fmt_ratio


def print_verdict(record: RunRecord, where: Path, console: Console) -> None:
    """Totals, SLOs, invariants and recoveries side by side; then the verdict and the files."""
    archs = record.architectures
    table = Table("", *(a.arch for a in archs), box=None, title=f"run {record.run_id}")
    rows: dict[str, list[str]] = {k: [] for k in (
        "requests", "error rate", "p95", "p99", "achieved / offered",
        "SLOs met", "invariants", "recoveries", "valid",
    )}
    for a in archs:
        t = a.totals
        rows["requests"].append(str(t.requests) if t else "—")
        rows["error rate"].append(fmt_ratio(t.error_rate) if t else "—")
        rows["p95"].append(fmt(t.latency_ms.get("p95"), "ms") if t else "—")
        rows["p99"].append(fmt(t.latency_ms.get("p99"), "ms") if t else "—")
        rows["achieved / offered"].append(fmt_ratio(t.achieved_ratio) if t else "—")
        met = sum(s.passed for s in a.slos)
        measured = t is not None and t.requests > 0
        rows["SLOs met"].append(f"{met}/{len(a.slos)}" if measured else "not measured")
        broken = [f"{i.name} {i.value}" for i in a.invariants if not i.ok]
        rows["invariants"].append(", ".join(broken) if broken else
                                  ("all hold" if a.invariants else "not checked"))
        rows["recoveries"].append(", ".join(
            f"{r.fault} {fmt(r.recovery_s, 's') if r.recovered else 'never'}"
            for r in a.recoveries
        ) or "—")
        rows["valid"].append("yes" if a.valid else "NO: " + "; ".join(a.invalid_reasons))
    for name, values in rows.items():
        table.add_row(name, *values)
    console.print(table)
    for a in archs:
        if a.error:
            console.print(f"[red]{a.arch}: {a.error}[/red]")
    for warning in record.generator_warnings():
        console.print(f"[yellow]warning[/yellow]: {warning}", highlight=False)
    verdict = record.verdict
    if verdict is not None:
        colour = {0: "green", 1: "red"}.get(verdict.exit_code, "yellow")
        console.print(f"[bold {colour}]{verdict.status}[/bold {colour}] "
                      f"(exit {verdict.exit_code}, status {record.status})")
        for reason in verdict.reasons[:10]:
            console.print(f"  - {reason}", markup=False)
    console.print(f"report: {where / REPORT}")
