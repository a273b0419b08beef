"""A comparison as a Rich table (terminal), Markdown and a small HTML page."""

from __future__ import annotations

from collections.abc import Sequence

import jinja2
from rich.table import Table

from harness.analysis.compare import Comparison, MetricDelta
from harness.report.text import fmt, fmt_delta

#: every metric is the mean of its per-second values (the note under each table says so)
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
    if d.improvement:
        return "improvement"
    return "no clear change"


def _cells(c: Comparison, d: MetricDelta) -> list[str]:
    pct = "" if d.relative is None else f" ({d.relative * 100:+.1f} %)"
    return [
        LABELS.get(d.metric, d.metric), fmt(d.baseline, d.unit), fmt(d.candidate, d.unit),
        fmt_delta(d.delta, d.unit) + pct,
        f"{fmt_delta(d.ci_low, d.unit)} to {fmt_delta(d.ci_high, d.unit)}", _flag(d),
    ]


def _header(c: Comparison) -> list[str]:
    return ["metric", c.baseline, c.candidate, "delta", f"{c.confidence:.0%} CI", "verdict"]


def rich_table(c: Comparison) -> Table:
    table = Table(title=f"{c.candidate} vs {c.baseline}", title_justify="left", caption=_note(c),
                  caption_justify="left")
    for i, h in enumerate(_header(c)):
        table.add_column(h, justify="right" if 0 < i < 5 else "left")
    for d in c.deltas:
        style = "bold red" if d.regression else ("green" if d.improvement else "")
        table.add_row(*_cells(c, d), style=style)
    return table


def markdown(comparisons: Sequence[Comparison]) -> str:
    lines = ["# harness compare", ""]
    for c in comparisons:
        lines += [f"## {c.candidate} vs {c.baseline}", ""]
        lines.append("| " + " | ".join(_header(c)) + " |")
        lines.append("|" + " --- |" * len(_header(c)))
        for d in c.deltas:
            cells = _cells(c, d)
            if d.regression:
                cells[-1] = "**REGRESSION**"
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", _note(c), ""]
    return "\n".join(lines)


def _note(c: Comparison) -> str:
    return (
        f"Means of per-second values; deltas are {c.candidate} - {c.baseline}; "
        f"intervals from a seeded moving-block "
        f"bootstrap ({c.resamples} resamples) of per-second values "
        f"({c.seconds[0]} s and {c.seconds[1]} s of data)."
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
{% for cell in cells %}<td class="{{ cell }}">{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table><p class="muted">{{ note }}</p>{% endfor %}
</body></html>
""")


def html(comparisons: Sequence[Comparison]) -> str:
    items = [(c, _header(c), [_cells(c, d) for d in c.deltas], _note(c)) for c in comparisons]
    return _TEMPLATE.render(items=items)
