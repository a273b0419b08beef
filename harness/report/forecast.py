"""`harness forecast`: what a longer event shaped like the rehearsal would cost, an estimate.

From a results folder alone: each architecture's recorded cost (run.json carries every
line item with its unit price and source) scaled to the asked AWS hours by
`harness.analysis.cost.forecast`, printed beside the rehearsal's own figures and error
rate, with the assumptions that make it an estimate (what grows in proportion to the
hours, what by whole hours, what stays not measurable, and that the night repeats).
"""

from __future__ import annotations

import math
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.analysis.cost import ArchCost, forecast
from harness.errors import ConfigError
from harness.report.cost import per_million_text, scaling_text, total_text, usd
from harness.report.record import ArchRecord
from harness.report.results import RUN_JSON, is_complete, read_record, repeat_runs
from harness.report.text import fmt_ratio

#: why an architecture has no cost to forecast from
NO_COST = ("not measurable: run.json has no cost for it (written before costs were priced, "
           "or without a typed profile or measured seconds)")
_GROWS = {"hours": "in proportion", "whole_hours": "by whole hours"}


def check_hours(hours: float) -> float:
    """The forecast's AWS hours; ConfigError naming the flag when not a positive number."""
    if not math.isfinite(hours) or hours <= 0:
        raise ConfigError(f"--hours {hours:g}: give the forecast event's length as a positive "
                          "number of AWS hours, e.g. --hours 6")
    return hours


def forecasts(run_dir: Path, hours: float) -> tuple[list[ArchRecord], dict[str, ArchCost]]:
    """The run's architectures and the forecast of each one that has a cost.

    ConfigError (exit 2) for a bad --hours, a repeat set, or a run with no cost at all.
    """
    check_hours(hours)
    repeats = repeat_runs(run_dir)
    if repeats:
        raise ConfigError(f"{run_dir}: a repeat set; forecast one of its runs, e.g. "
                          f"harness forecast {repeats[0]} --hours {hours:g}")
    record = read_record(run_dir)
    archs = record.architectures
    if all(a.cost is None for a in archs):
        raise ConfigError(f"{run_dir / RUN_JSON}: no architecture has a cost (the run was "
                          "recorded before costs were priced, or without its profiles); "
                          "nothing to forecast from")
    out = {}
    for a in archs:
        if a.cost is not None:
            try:
                out[a.arch] = forecast(a.cost, hours)
            except ValueError as exc:
                raise ConfigError(f"{run_dir / RUN_JSON}: {a.arch}: {exc}") from None
    return archs, out


def forecast_command(run_dir: Path, hours: float, *, console: Console | None = None) -> int:
    """Print the forecast side by side, each architecture's line items and the assumptions."""
    console = console or Console()
    archs, found = forecasts(run_dir, hours)
    if not is_complete(run_dir):
        console.print(f"[yellow]{escape(str(run_dir))}: the run is incomplete; the forecast "
                      "scales what was saved[/]")
    names = [a.arch for a in archs]
    rehearsal_h = next(c.event_aws_h for c in (a.cost for a in archs) if c is not None)
    table = Table("", *names, box=None,
                  title=f"forecast: a {hours:g} h event shaped like {run_dir.name} "
                  "(an estimate, not a measurement)", title_justify="left")

    def row(label: str, cells: list[str]) -> None:
        table.add_row(escape(label), *map(escape, cells))

    row("rehearsal: error rate", [fmt_ratio(a.totals.error_rate)
                                  if a.totals is not None and a.totals.requests else "—"
                                  for a in archs])
    row(f"rehearsal: AWS cost of the event ({rehearsal_h:.2f} h)",
        [total_text(a.cost) if a.cost else "not measurable" for a in archs])
    row(f"forecast: AWS cost of {hours:g} h (estimate)",
        [total_text(found[n]) if n in found else "not measurable" for n in names])
    row("forecast: AWS cost per million requests served",
        [per_million_text(found[n]) if n in found else "not measurable" for n in names])
    row("forecast: of it, pre-scaling and scale-out",
        [scaling_text(found[n]) if n in found else "not measurable" for n in names])
    console.print(table)
    if hours < rehearsal_h:
        console.print(f"note: {hours:g} h is shorter than the rehearsal's {rehearsal_h:.4g} h; "
                      "the estimate scales it down", markup=False)
    for a in archs:
        if a.arch not in found:
            console.print(f"{a.arch}: {NO_COST}", markup=False)
            continue
        assert a.cost is not None
        console.print(_items(a.arch, a.cost, found[a.arch]))
        for line in found[a.arch].assumptions:
            console.print(f"  - {line}", markup=False)
    return 0


def _items(arch: str, rehearsal: ArchCost, estimate: ArchCost) -> Table:
    """One architecture's line items: the rehearsal's quantity, the forecast's, the price."""
    table = Table("line item", "rehearsal", f"{estimate.forecast_h:g} h", "unit price",
                  "subtotal", "grows", title=f"{arch}: line items ({estimate.region})",
                  title_justify="left")
    for before, after in zip(rehearsal.lines, estimate.lines, strict=True):
        if after.quantity is None or after.unit_price_usd is None:
            table.add_row(escape(after.item), "—", "—", "—", "not measurable", "—")
            continue
        price = f"${after.unit_price_usd:g} / {after.unit}" + (
            " (overridden)" if after.overridden else "")
        table.add_row(escape(after.item), f"{before.quantity or 0:.4f}", f"{after.quantity:.4f}",
                      escape(price), usd(after.subtotal_usd), _GROWS[after.scales])
    before_total = ("" if rehearsal.complete else "≥ ") + usd(rehearsal.total_usd)
    table.add_row("[b]total[/b]", before_total, "", "",
                  f"[b]{escape(total_text(estimate))}[/b]", "")
    return table
