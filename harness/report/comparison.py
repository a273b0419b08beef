"""A comparison as a Rich table (terminal), Markdown and a small HTML page."""

from __future__ import annotations

from collections.abc import Sequence

import jinja2
from rich.table import Table

from harness.analysis.compare import Comparison, MetricDelta
from harness.report.text import fmt, fmt_delta

#: p50/p95/p99 and error rate are the run's own, from its merged histograms
LABELS = {
    "p50": "p50",
    "p95": "p95",
    "p99": "p99",
    "error_rate": "error rate",
    "achieved_ratio": "achieved/offered",
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
    for d in c.deltas:
        style = "bold red" if d.regression else ("green" if d.improvement else "")
        table.add_row(*_cells(d), style=style)
    return table


def markdown(comparisons: Sequence[Comparison]) -> str:
    lines = ["# harness compare", ""]
    for c in comparisons:
        lines += [f"## {c.candidate} vs {c.baseline}", ""]
        lines.append("| " + " | ".join(_header(c)) + " |")
        lines.append("|" + " --- |" * len(_header(c)))
        for d in c.deltas:
            cells = _cells(d)
            if d.regression:
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
    )


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
    items = [(c, _header(c), [_cells(d) for d in c.deltas], _note(c)) for c in comparisons]
    return _TEMPLATE.render(items=items)
