"""The report's "original night" section: the log's rate (x scale) against offered and
answered per architecture, and the log's status mix against each architecture's
(the figures: harness.analysis.replayed). Nothing shows for a scenario that replays no log.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta

import jinja2
import plotly.graph_objects as go
from markupsafe import Markup

from harness.analysis.replayed import ANSWERED, MIX_ROWS, MixRow, ReplayFigures, row_count
from harness.analysis.series import ArchData
from harness.report import plot
from harness.report.record import ArchRecord, RunRecord
from harness.report.text import fmt_ratio
from harness.scenario.replayed import ReplayedNight

LOG_COLOR = "#222"


def scale_text(night: ReplayedNight) -> str:
    """`x3`, `x3, time compressed 2:1`."""
    s = night.source
    return f"x{s.scale:g}" + (f", time compressed {s.compress}:1" if s.compress > 1 else "")


def _share(count: float, total: float) -> str:
    return f"{fmt_ratio(count / total)} ({round(count):,})" if total else "—"


def mix_table(record: RunRecord) -> tuple[list[str], list[list[str]]]:
    """The status mix table: header, then one row per MixRow shown (label, log, each arch)."""
    night = record.scenario.replayed_from
    if night is None:
        return [], []
    archs = [a for a in record.architectures if a.replay is not None]
    log = night.source.status_counts()
    log_total = sum(log.values())
    header = ["", "original night (last year's system)",
              *(f"{a.arch} (this stack)" for a in archs)]
    rows = []
    for row in MIX_ROWS:
        counts = [row_count(log, row.log), *(_rehearsal(a.replay, row) for a in archs)]
        if not row.always and not any(counts):
            continue
        cells = [_log_cell(row, log, log_total)]
        for a in archs:
            figures = a.replay
            assert figures is not None
            attempts = sum(figures.classes.values())
            cells.append(_share(_rehearsal(figures, row), attempts) if row.rehearsal
                         else "— (not a class of the rehearsal)")
        rows.append([row.label, *cells])
    return header, rows


def _rehearsal(figures: ReplayFigures | None, row: MixRow) -> float:
    return row_count(figures.classes, row.rehearsal) if figures is not None else 0


def _log_cell(row: MixRow, log: Mapping[str, int], total: int) -> str:
    if not row.log:
        return "— (not in an access log)"
    text = _share(row_count(log, row.log), total)
    if len(row.log) > 1 and total:
        text += " = " + ", ".join(f"{c} {fmt_ratio(log[c] / total)}" for c in row.log)
    return text


def rate_rows(record: RunRecord) -> list[list[str]]:
    """Per architecture: the seconds compared, the log's requests x scale, offered, answered."""
    rows = []
    for a in record.architectures:
        f = a.replay
        if f is None:
            continue
        seconds = f"{f.start_s} to {f.end_s} s" + (f" ({f.cut})" if f.cut else "")
        rows.append([
            a.arch, seconds, f"{f.log_requests:,.0f}",
            f"{f.offered:,} journeys = {f.offered_requests:,.0f} requests "
            f"({fmt_ratio(f.offered_ratio)} of the log's)",
            f"{f.sent:,}",
            f"{f.answered:,} ({fmt_ratio(f.answered_ratio)} of the log's)",
        ])
    return rows


def chart(record: RunRecord, data: Mapping[str, ArchData], colors: Mapping[str, str]) -> str:
    """The log's requests per second x scale, and each architecture's offered and answered."""
    night = record.scenario.replayed_from
    if night is None:
        return ""
    fig = go.Figure()
    start = night.source.window.start
    step = night.bucket_s * night.source.compress  # log seconds per replayed bucket
    x = [night.start_s + i * night.bucket_s for i in range(len(night.requests_per_s))]
    when = [(start + timedelta(seconds=i * step)).strftime("%H:%M:%S")
            for i in range(len(night.requests_per_s))]
    # a bucket's rate holds for the whole bucket: a step, closed at the series' end
    fig.add_scatter(x=[*x, night.end_s], y=[*night.requests_per_s, night.requests_per_s[-1]],
                    name=f"the log's requests/s {scale_text(night)}",
                    line={"color": LOG_COLOR, "width": 2.5, "shape": "hv"},
                    customdata=[*when, when[-1]],
                    hovertemplate="%{y:.1f}/s (log %{customdata} UTC)<extra>log</extra>")
    per = night.source.requests_per_journey
    lo, hi = math.ceil(night.start_s - 1e-9), math.ceil(night.end_s - 1e-9)
    for arch, d in data.items():
        if arch not in record.arch_names or record.arch(arch).replay is None:
            continue
        seconds = range(lo, min(hi, d.duration_s))
        stats = [d.second(s) for s in seconds]
        c = colors.get(arch, "#888")
        fig.add_scatter(x=list(seconds), y=[st.offered * per for st in stats],
                        name=f"{arch} offered (journeys x {per:g})", legendgroup=arch,
                        line={"color": c, "dash": "dot", "width": 1.2, "shape": "hv"})
        fig.add_scatter(x=list(seconds),
                        y=[sum(st.classes.get(k, 0) for k in ANSWERED) for st in stats],
                        name=f"{arch} answered (an HTTP status)", legendgroup=arch,
                        line={"color": c, "width": 2, "shape": "hv"})
    return plot.div(fig, "replayed-night-chart", height=420,
                    xaxis_title="seconds since the load started",
                    yaxis_title="requests per second")


_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_SECTION = _ENV.from_string("""
<h2 id="replayed-night">The original night beside the rehearsal</h2>
<p class="muted">Replayed from {{ s.files }} access log files ({{ '{:,}'.format(s.lines) }} lines
read, {{ '{:,}'.format(s.skipped) }} skipped): {{ start }} to {{ end }} UTC{% if s.window.chosen
 %} ({{ s.window.chosen }}){% endif %}, {{ '{:,}'.format(s.requests) }} requests, replayed {{
 scale }} from {{ '%g' % n.start_s }} s of the load. The log counts requests; the rehearsal
offers journeys, {{ '%g' % s.requests_per_journey }} requests each on average, so offered is
shown x {{ '%g' % s.requests_per_journey }}. Answered: the requests that got an HTTP status, in
the second they were due.</p>
{{ chart | safe }}
<table id="replayed-rates"><tr><th></th><th>seconds compared</th>
<th>the log's requests {{ scale }}</th><th>offered</th><th>requests sent</th><th>answered</th></tr>
{% for row in rates %}<tr><th class="arch-{{ row[0] }}">{{ row[0] }}</th>
{% for cell in row[1:] %}<td class="num">{{ cell }}</td>{% endfor %}</tr>{% endfor %}</table>
<table id="replayed-status"><tr>{% for h in mix[0] %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in mix[1] %}<tr><td>{{ row[0] }}</td>
{% for cell in row[1:] %}<td class="num">{{ cell }}</td>{% endfor %}</tr>{% endfor %}</table>
<ul class="muted">
<li>Not one system: the original night's 4xx and 5xx are what last year's system answered
(the load balancer's status in the log), the rehearsal's are this stack's.</li>
<li>The rehearsal records classes, not codes: its 2xx, 3xx row holds the shop's expected 409
answers too (out of stock, sold out), which a log counts as 4xx; its 4xx row only the
unexpected ones.</li>
<li>A timeout or a refused or reset connection got no status: each is a row of its own, never
a 5xx. Dropped arrivals were never sent. The rehearsal's shares are of its attempts (requests
sent and arrivals dropped).</li>
</ul>
""")


def section(record: RunRecord, data: Mapping[str, ArchData], colors: Mapping[str, str]
            ) -> Markup:
    """The section; empty when the scenario replays no log."""
    night = record.scenario.replayed_from
    if night is None:
        return Markup("")
    s = night.source
    return Markup(_SECTION.render(
        s=s, n=night, scale=scale_text(night), chart=chart(record, data, colors),
        start=s.window.start.strftime("%Y-%m-%d %H:%M:%S"),
        end=s.window.end.strftime("%Y-%m-%d %H:%M:%S"),
        rates=rate_rows(record), mix=mix_table(record)))


def terminal_row(record: RunRecord) -> tuple[str, list[str]] | None:
    """One row for `harness run`'s table: answered / the log's, and 5xx beside the night's."""
    night = record.scenario.replayed_from
    if night is None:
        return None
    log_5xx = night.status_shares.get("5xx", 0.0)
    cells = []
    for a in record.architectures:
        cells.append("—" if a.replay is None else _terminal_cell(a))
    return (f"replayed night {scale_text(night)}: answered / log, 5xx "
            f"(night {fmt_ratio(log_5xx)})", cells)


def _terminal_cell(a: ArchRecord) -> str:
    f = a.replay
    assert f is not None
    return f"{fmt_ratio(f.answered_ratio)}, 5xx {fmt_ratio(f.shares['http_5xx'])}"
