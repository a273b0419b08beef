"""A comparison as a Rich table (terminal), Markdown and a small HTML page."""

from __future__ import annotations

from collections.abc import Sequence

import jinja2
from rich.table import Table

from harness.analysis.compare import (
    NO_COST,
    NO_COST_WHY,
    RECOVERY,
    Comparison,
    CostDelta,
    MetricDelta,
)
from harness.report.cost import usd, usd_delta
from harness.report.text import fmt, fmt_delta

#: p50/p95/p99 and error rate are the run's own, from its merged histograms
LABELS = {
    "p50": "p50",
    "p95": "p95",
    "p99": "p99",
    "error_rate": "error rate",
    "achieved_ratio": "achieved/offered",
}
COST_LABELS = {
    "event_cost": "AWS event cost",
    "per_million": "AWS cost/1M served",
}


def _flag(d: MetricDelta) -> str:
    if d.regression:
        return "REGRESSION"
    return d.verdict + (f": {d.note}" if d.note else "")


def interval(d: MetricDelta) -> str:
    """`-3.1 ms to +1.2 ms`, or a dash when there is no interval."""
    if d.ci_low is None or d.ci_high is None:
        return "—"
    return f"{fmt_delta(d.ci_low, d.unit)} to {fmt_delta(d.ci_high, d.unit)}"


def _cells(d: MetricDelta) -> list[str]:
    pct = "" if d.relative is None else f" ({d.relative * 100:+.1f} %)"
    delta = "—" if d.delta is None else fmt_delta(d.delta, d.unit) + pct
    return [
        LABELS.get(d.metric, d.metric), fmt(d.baseline, d.unit), fmt(d.candidate, d.unit),
        delta, interval(d), _p(d.p_holm), _flag(d),
    ]


def _cost_value(value: float | None, left_out: Sequence[str]) -> str:
    if value is None:
        return "not measurable"
    return ("≥ " if left_out else "") + usd(value)


def _cost_cells(d: CostDelta) -> list[str]:
    """A cost row: both sides, the delta, no interval; "not judged", or why not measurable."""
    if d.delta is None:
        delta, verdict = "not measurable", d.note
    else:
        pct = "" if d.relative is None else f" ({d.relative * 100:+.1f} %)"
        partial = d.baseline_left_out or d.candidate_left_out
        delta = usd_delta(d.delta) + pct
        verdict = ("not judged" + ("; of the measured items" if partial else "")
                   + (f"; {d.note}" if d.note else ""))
    return [COST_LABELS[d.metric], _cost_value(d.baseline, d.baseline_left_out),
            _cost_value(d.candidate, d.candidate_left_out), delta, "—", "—", verdict]


def _rows(c: Comparison) -> list[tuple[list[str], MetricDelta | None]]:
    """The table's rows: latency and error metrics, then the cost rows, then recoveries."""
    def recovery(d: MetricDelta) -> bool:
        return d.metric.startswith(f"{RECOVERY} ")

    rows: list[tuple[list[str], MetricDelta | None]] = [
        (_cells(d), d) for d in c.deltas if not recovery(d)]
    rows += [(_cost_cells(d), None) for d in c.costs]
    return rows + [(_cells(d), d) for d in c.deltas if recovery(d)]


def _p(p: float | None) -> str:
    """An adjusted p-value: 0.003, 0.41, 1, or `< 0.001`."""
    if p is None:
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def _header(c: Comparison) -> list[str]:
    return ["metric", c.baseline, c.candidate, "delta", f"{c.confidence:.0%} CI", "Holm p",
            "verdict"]


def rich_table(c: Comparison) -> Table:
    table = Table(title=f"{c.candidate} vs {c.baseline}", title_justify="left", caption=_note(c),
                  caption_justify="left")
    for i, h in enumerate(_header(c)):
        table.add_column(h, justify="right" if 0 < i < 6 else "left")
    for cells, d in _rows(c):
        style = ("" if d is None else
                 "bold red" if d.regression else ("green" if d.improvement else ""))
        table.add_row(*cells, style=style)
    return table


def markdown(comparisons: Sequence[Comparison]) -> str:
    lines = ["# harness compare", ""]
    for c in comparisons:
        lines += [f"## {c.candidate} vs {c.baseline}", ""]
        lines.append("| " + " | ".join(_header(c)) + " |")
        lines.append("|" + " --- |" * len(_header(c)))
        for cells, d in _rows(c):
            if d is not None and d.regression:
                cells[-1] = "**REGRESSION**"
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", _note(c), ""]
    return "\n".join(lines)


def _note(c: Comparison) -> str:
    runs = (f"{c.runs[0]} run{'s' if c.runs[0] > 1 else ''} of {c.baseline}, "
            f"{c.runs[1]} of {c.candidate}")
    few = (f" Too few repeats for a verdict: {min(c.runs)} run{'s' if min(c.runs) > 1 else ''}"
           f" a side, {c.min_repeats} needed (harness compare --min-repeats)."
           if c.too_few_repeats else "")
    return (
        f"Run-level percentiles and error rates from merged histograms ({runs}); "
        f"deltas are {c.candidate} - {c.baseline}; intervals: {c.method}.{few}"
        + _cost_note(c)
    )


def _cost_note(c: Comparison) -> str:
    event = next((d for d in c.costs if d.metric == "event_cost"), None)
    if event is None:
        return ""
    left = [f"{side}: {', '.join(items)}" for side, items in
            ((c.baseline, event.baseline_left_out), (c.candidate, event.candidate_left_out))
            if items]
    partial = (" ≥: a lower bound that leaves out what the run could not measure ("
               + "; ".join(left) + ")." if left else "")
    if any(NO_COST in d.note for d in c.costs):
        partial += f" Not measurable, {NO_COST}: {NO_COST_WHY}."
    return (" Costs: each side's event (AWS event cost) and its cost per million requests "
            "served (AWS cost/1M served) at on-demand AWS list prices, from its run.json "
            "(report.html, \"What the event costs on AWS\", has the line items); shown, not "
            "judged: a cost is arithmetic on the recorded fleet, not a sample." + partial)


_TEMPLATE = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>harness compare</title>
<style>body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px }
table { border-collapse: collapse } th, td { border: 1px solid #ccc; padding: .3em .6em }
th { background: #f0f0f0 } .REGRESSION { color: #b00; font-weight: 700 }
.improvement { color: #176 } .muted { color: #777 }</style></head><body>
<h1>harness compare</h1>
{% for c, header, rows, note in items %}<h2>{{ c.candidate }} vs {{ c.baseline }}</h2>
<table><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for cells in rows %}<tr>
{% for cell in cells %}<td class="{{ cell.split(':')[0] }}">{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table><p class="muted">{{ note }}</p>{% endfor %}
</body></html>
""")


def html(comparisons: Sequence[Comparison]) -> str:
    items = [(c, _header(c), [cells for cells, _ in _rows(c)], _note(c)) for c in comparisons]
    return _TEMPLATE.render(items=items)
