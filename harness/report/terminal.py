"""The short table `harness run` prints at the end: one column per architecture."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.report.cost import rows as cost_rows
from harness.report.deploytable import deploys_line
from harness.report.headline import data_line
from harness.report.record import RunRecord
from harness.report.replayed import terminal_row as replay_row
from harness.report.results import REPORT, SUMMARY
from harness.report.text import detected_line, fmt, fmt_ratio, marked, recovery_value


def print_verdict(record: RunRecord, where: Path, console: Console) -> None:
    """Totals, SLOs, invariants and recoveries side by side; then the verdict and the files."""
    archs = record.architectures
    table = Table("", *(a.arch for a in archs), box=None, title=f"run {record.run_id}")
    rows: dict[str, list[str]] = {k: [] for k in (
        "requests", "error rate", "p95", "p99", "achieved / offered",
        "SLOs met", "invariants", "recoveries", "at AWS timings (estimate)",
        "detected by alarms", "false alarms", "deploys", "valid",
    )}
    for a in archs:
        # without a single request there is no rate or percentile to show, not 0
        t = a.totals if a.totals is not None and a.totals.requests > 0 else None
        rows["requests"].append(str(a.totals.requests) if a.totals else "—")
        rows["error rate"].append(fmt_ratio(t.error_rate) if t else "—")
        rows["p95"].append(fmt(t.latency_ms.get("p95"), "ms") if t else "—")
        rows["p99"].append(fmt(t.latency_ms.get("p99"), "ms") if t else "—")
        rows["achieved / offered"].append(fmt_ratio(t.achieved_ratio) if t else "—")
        met = sum(s.passed for s in a.slos)
        rows["SLOs met"].append("not measured" if not t else
                                f"{met}/{len(a.slos)}" if a.slos else "none in the scenario")
        rows["invariants"].append(data_line(a))
        rows["recoveries"].append(", ".join(
            f"{r.fault} {marked(recovery_value(r), bool(a.inverted(r.fault, 'recovery')))}"
            for r in a.recoveries
        ) or "—")
        rows["at AWS timings (estimate)"].append(", ".join(
            f"{r.fault} not estimated (ordering inverted)" if r.aws_estimate_withheld
            else f"{r.fault} ≈ {fmt(r.recovery_aws_s, 's')}" for r in a.recoveries
            if r.recovery_aws_s is not None or r.aws_estimate_withheld
        ) or "—")
        # alarm names carry [app-1]: not rich markup
        rows["detected by alarms"].append(escape(detected_line(a.detections, a.alarms)))
        rows["false alarms"].append(
            "no alarms" if not a.alarms else f"{len(a.false_alarms)}"
            + (f" (+{len(a.overload_alarms)} of an overload)" if a.overload_alarms else ""))
        rows["deploys"].append(escape(deploys_line(a.deploys)))
        rows["valid"].append("yes" if a.valid else "NO: " + "; ".join(a.invalid_reasons))
    for name, values in rows.items():
        if name.startswith(("at AWS", "deploys")) and all(v == "—" for v in values):
            continue  # nothing recovered (deployed): nothing to show
        table.add_row(name, *values)
    for name, values in cost_rows(record)[:2]:  # the event's AWS cost; its items: report.html
        table.add_row(escape(name), *map(escape, values))
    replay = replay_row(record)  # the original night; its chart and mix: report.html
    if replay is not None:
        table.add_row(escape(replay[0]), *map(escape, replay[1]))
    console.print(table)
    for a in archs:
        if a.error:
            console.print(f"[red]{a.arch}: {a.error}[/red]")
        for r in a.recoveries:
            if r.status == "not_measurable":
                console.print(f"  {a.arch}: {r.fault} recovery not measurable: {r.reason}",
                              markup=False)
    inverted = sum(len(a.inverted()) for a in archs)
    if inverted:
        scale = record.time_scale
        console.print(f"[yellow]{inverted} ordering{'s' if inverted > 1 else ''} inverted[/yellow] "
                      f"at time scale {scale:g}: AWS timings scaled, request-path timeouts not "
                      f"(see {where / SUMMARY})", highlight=False)
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
