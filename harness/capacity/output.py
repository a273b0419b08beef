"""What `harness capacity` prints (the latency curve as a Rich table, the sentence) and writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.records.files import atomic_write, failed

from .search import SearchResult, Slos

_COLOUR = {"pass": "green", "fail": "red", "invalid": "yellow"}


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def curve_table(title: str, result: SearchResult) -> Table:
    """Every step in rate order: rate -> p50/p95/p99, errors, achieved, verdict."""
    table = Table("rate /s", "stage", "p50 ms", "p95 ms", "p99 ms", "errors", "achieved",
                  "req/s", "gen CPU", "verdict", title=title, box=None)
    for st in sorted(result.steps, key=lambda s: (s.result.rate, result.steps.index(s))):
        r = st.result
        colour = _COLOUR[st.verdict]
        verdict = f"[{colour}]{st.verdict}[/{colour}]"
        if st.reasons:
            verdict += ": " + "; ".join(st.reasons)
        if st.superseded:
            verdict += " (measured again)"
        if r.competed:
            verdict += " [yellow](generator competed for CPU)[/yellow]"
        table.add_row(
            f"{r.rate:g}", st.stage, _ms(r.p50_ms), _ms(r.p95_ms), _ms(r.p99_ms),
            f"{r.error_rate:.2%}", f"{r.achieved_ratio:.1%}", f"{r.requests_per_s:g}",
            "—" if r.generator_share is None else f"{r.generator_share:.0%}", verdict,
        )
    return table


def _limit_phrase(result: SearchResult, slos: Slos) -> str:
    """What the first failing rate ran into, as words: "before p99 passes 500 ms"."""
    missed = " ".join(result.limited_by)
    if result.bound == "slo":
        if missed.startswith("p99"):
            return f"before p99 passes {slos.p99_ms:g} ms"
        if missed.startswith("errors"):
            return f"before errors pass {slos.max_error_rate:.1%}"
        return f"before achieved/offered falls below {slos.min_achieved:.0%}"
    return {
        "max_rate": "and more: it met the SLOs at --max-rate, the highest rate tried",
        "generator": "at least: beyond it the load generator could not keep its schedule "
                     "on this machine, so more was not measurable",
        "steps": "at least: the step budget (--max-steps) ran out before a rate failed",
    }.get(result.bound, "")


def sentence(who: str, result: SearchResult, slos: Slos, mix_label: str) -> str:
    """The line a team quotes: "one task takes N req/s of this mix before p99 passes 500 ms"."""
    if result.capacity is None:
        lowest = min((s.result.rate for s in result.steps), default=0.0)
        reasons = "; ".join(result.limited_by) or "no step passed"
        return (f"{who}: not measurable: even {lowest:g} arrivals/s missed the SLOs ({reasons})")
    best = result.at_capacity
    per_s = f" ({best.requests_per_s:g} requests/s)" if best and best.requests_per_s else ""
    return (f"{who} takes {result.capacity:g} arrivals/s{per_s} of {mix_label} "
            f"{_limit_phrase(result, slos)}")


def print_search(console: Console, title: str, who: str, result: SearchResult, slos: Slos,
                 mix_label: str) -> None:
    console.print(curve_table(title, result))
    console.print(f"[bold]{sentence(who, result, slos, mix_label)}[/bold]", highlight=False)
    competed = [s for s in result.steps if s.result.competed]
    if competed:
        console.print(
            f"[yellow]warning[/yellow]: the load generator competed with the stack for CPU in "
            f"{len(competed)} of {len(result.steps)} steps (figures in the gen CPU column); "
            "a fail there may be the generator's, so the capacity is a lower bound",
            highlight=False,
        )


def write_json(path: Path, report: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise failed(path, exc) from None
    atomic_write(path, json.dumps(report, indent=2) + "\n")
