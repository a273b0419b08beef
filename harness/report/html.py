"""report.html: one self-contained page (plotly.js inlined, opens offline).

At the top a headline answers "which architecture came through better, and
why"; below, both architectures overlaid on one time axis (rate offered vs
achieved, p50/p95/p99, error rate by class, orchestrator events), fault and
phase bands across every chart, then the recovery, SLO and invariant tables
and the run's settings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from harness.analysis.invariants import KINDS
from harness.analysis.orderings import Figure
from harness.analysis.recovery import event_time
from harness.analysis.series import ArchData
from harness.records.classify import FAILURE_CLASSES
from harness.records.events import FaultEvent, Source, StackEvent
from harness.report import connections, cost, plot, replayed, scaling
from harness.report.clock import MARK_NOTE, clock_view
from harness.report.headline import headline, invariant_verdict
from harness.report.record import RunRecord
from harness.report.text import INVERTED_MARK, fmt, fmt_ratio

ARCH_COLORS = {"legacy": "#e66100", "modern": "#1a5fb4"}
OTHER_COLORS = ("#2ca02c", "#9467bd", "#8c564b")
PERCENTILE_DASH = {"p50": "dot", "p95": "dash", "p99": "solid"}
CLASS_DASH = {
    "http_5xx": "solid", "timeout": "dash", "connection_refused": "dot",
    "connection_reset": "dashdot", "http_4xx": "longdash", "other": "longdashdot",
    "dropped": "2px,4px",
}
FAULT_FILL = "rgba(204, 0, 0, 0.10)"
PHASE_FILL = "rgba(120, 120, 120, 0.07)"
LATENCY_TICKS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000)
ROWS = ("Requests per second", "Latency (log scale)", "Error rate (%)", "Events")


def color(arch: str, index: int) -> str:
    return ARCH_COLORS.get(arch, OTHER_COLORS[index % len(OTHER_COLORS)])


def figure(record: RunRecord, data: Mapping[str, ArchData], events: Sequence[Mapping[str, Any]]
           ) -> go.Figure:
    """The four stacked charts sharing the time axis."""
    fig = make_subplots(
        rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.05,
        row_heights=[0.3, 0.3, 0.28, 0.12], subplot_titles=ROWS,
    )
    for i, (arch, d) in enumerate(data.items()):
        c = color(arch, i)
        rows = d.rows()
        t = [r["second"] for r in rows]
        # counts are per whole second: steps over [s, s + 1), so a jump shows where it happened
        fig.add_scatter(x=t, y=[r["offered"] for r in rows], name=f"{arch} offered",
                        legendgroup=arch, line={"color": c, "dash": "dot", "width": 1,
                                                "shape": "hv"}, row=1, col=1)
        fig.add_scatter(x=t, y=[r["achieved"] for r in rows], name=f"{arch} achieved",
                        legendgroup=arch, line={"color": c, "width": 2, "shape": "hv"},
                        row=1, col=1)
        for p, dash in PERCENTILE_DASH.items():
            # a second's percentile sits mid-second; without finished requests: a gap, not 0
            fig.add_scatter(x=[x + 0.5 for x in t],
                            y=[r[p] if r["requests"] else None for r in rows],
                            name=f"{arch} {p}", legendgroup=arch,
                            line={"color": c, "dash": dash, "width": 2 if p == "p99" else 1.3},
                            row=2, col=1)
        for cls in FAILURE_CLASSES:
            if not any(r[cls] for r in rows):
                continue
            # dropped arrivals are failures too (harness.analysis.series.Stats.error_rate)
            fig.add_scatter(
                x=t, y=[100 * r[cls] / (r["requests"] + r["dropped"])
                        if r["requests"] + r["dropped"] else None for r in rows],
                name=f"{arch} {cls}", legendgroup=arch,
                line={"color": c, "dash": CLASS_DASH.get(cls, "solid"), "width": 1.8,
                      "shape": "hv"},
                row=3, col=1,
            )
    end = max((d.duration_s for d in data.values()), default=0)
    _slo_lines(fig, record, end)
    _events_lane(fig, record, events)
    _bands(fig, record)
    fig.update_yaxes(type="log", tickvals=LATENCY_TICKS, ticktext=[_ms(v) for v in LATENCY_TICKS],
                     row=2, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=3, col=1)
    fig.update_xaxes(title_text="seconds since the load started", row=4, col=1)
    plot.layout(fig, height=980, top=60, legend={"orientation": "v", "groupclick": "toggleitem"})
    return fig


def _ms(value: float) -> str:
    return f"{value / 1000:g} s" if value >= 1000 else f"{value:g} ms"


def _slo_lines(fig: go.Figure, record: RunRecord, end_s: int) -> None:
    """Thresholds of the SLOs the charts show (every endpoint; p50/p95/p99, error rate)."""
    seen: set[str] = set()
    phases = record.phase_windows()
    for s in record.slo_results():
        if s.name in seen or s.endpoint != "*" or s.metric not in (*PERCENTILE_DASH, "error_rate"):
            continue
        seen.add(s.name)
        lo, hi = phases.get(s.phase, (0.0, float(end_s))) if s.phase else (0.0, float(end_s))
        row, y = (3, s.limit * 100) if s.metric == "error_rate" else (2, s.limit)
        fig.add_scatter(
            x=[lo, hi], y=[y, y], mode="lines+text", text=["", f"SLO {s.name}"],
            textposition="top left", textfont={"size": 10, "color": "#555"},
            name=f"SLO {s.name}: {s.metric} {s.op} {s.threshold}", legendgroup="slo",
            line={"color": "#555", "dash": "dash", "width": 1}, hoverinfo="name",
            row=row, col=1,
        )


#: event sources marked on the events lane (alarm changes are added by _alarm_mark)
_LANE_SOURCES = (Source.ORCHESTRATOR, Source.FAULT, Source.DEPLOY)


def _events_lane(fig: go.Figure, record: RunRecord, events: Sequence[Mapping[str, Any]]) -> None:
    lanes = record.arch_names or sorted({str(e.get("arch", "")) for e in events})
    for i, arch in enumerate(lanes):
        mine = [e for e in events if e.get("arch", arch) == arch and "t_s" in e
                and (str(e.get("kind", "")).startswith(_LANE_SOURCES)
                     or _alarm_mark(e))
                and e.get("kind") != FaultEvent.SUMMARY]
        if not mine:
            continue
        fig.add_scatter(
            x=[_mark_time(e) for e in mine], y=[arch] * len(mine), mode="markers",
            name=f"{arch} events", legendgroup=arch,
            marker={"color": color(arch, i), "size": 11,
                    "symbol": [_symbol(str(e["kind"])) for e in mine],
                    "line": {"width": 1, "color": "#333"}},
            text=[_describe(e) for e in mine], hovertemplate="%{x:.1f} s %{text}<extra></extra>",
            row=4, col=1,
        )
    fig.update_yaxes(type="category", categoryarray=list(reversed(lanes)), row=4, col=1)


def _alarm_mark(e: Mapping[str, Any]) -> bool:
    """Alarm changes into and out of ALARM (the INSUFFICIENT_DATA <-> OK ones are noise)."""
    return (e.get("kind") == StackEvent.ALARM_STATE_CHANGE
            and "ALARM" in (e.get("new"), e.get("old")))


def _mark_time(e: Mapping[str, Any]) -> float:
    # an alarm changed state when it was evaluated (at_s), a moment before the event was written
    return float(e["at_s"]) if e.get("kind") == StackEvent.ALARM_STATE_CHANGE else event_time(e)


def _symbol(kind: str) -> str:
    if kind == StackEvent.ALARM_STATE_CHANGE:
        return "star"
    if kind == FaultEvent.APPLIED:
        return "triangle-down"
    if kind.startswith(Source.FAULT):
        return "triangle-up"
    if kind.startswith(Source.DEPLOY):
        return "square"
    return "diamond"


def _describe(e: Mapping[str, Any]) -> str:
    skip = {"ts", "wall", "t_s", "load_t_s", "kind", "arch", "params", "targets"}
    details = ", ".join(f"{k}={v}" for k, v in e.items() if k not in skip)
    return f"{e.get('kind')}: {details}"[:160]


def _bands(fig: go.Figure, record: RunRecord) -> None:
    for i, phase in enumerate(record.scenario.phases):
        if i % 2 == 0:
            fig.add_vrect(x0=phase.start_s, x1=phase.end_s, fillcolor=PHASE_FILL, line_width=0,
                          layer="below", row="all", col=1)
        # inside the top chart, at its foot: above it sits the chart's title
        fig.add_annotation(x=(phase.start_s + phase.end_s) / 2, y=0.02, yref="y domain",
                           yanchor="bottom", text=f"<i>phase {phase.name}</i>", showarrow=False,
                           font={"size": 12, "color": "#555"}, row=1, col=1)
    seen: set[tuple[str, int]] = set()
    for a in record.architectures:
        for f in a.faults:
            key = (f.name, round(f.start_s))
            if key in seen:
                continue  # both architectures ran the same timeline: one band is enough
            seen.add(key)
            if f.end_s is None:
                fig.add_vline(x=f.start_s, line={"color": "rgba(204,0,0,0.7)", "width": 2},
                              row="all", col=1)
            else:
                fig.add_vrect(x0=f.start_s, x1=f.end_s, fillcolor=FAULT_FILL, line_width=0,
                              layer="below", row="all", col=1)
            fig.add_annotation(x=f.start_s, y=0.9, yref="y domain", xanchor="left",
                               text=f"⚡ {f.name}", showarrow=False, row=1, col=1,
                               font={"size": 12, "color": "#a00"}, bgcolor="rgba(255,255,255,0.8)")


_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_ENV.filters["fmt"] = fmt
_ENV.filters["ratio"] = fmt_ratio
_TEMPLATE = _ENV.from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>harness {{ r.run_id }}</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; color: #222; }
 h1 { font-size: 1.4em; margin-bottom: .2em } h2 { font-size: 1.15em; margin-top: 1.6em }
 .headline { font-size: 1.15em; padding: .8em 1em; border-radius: 6px; background: #f4f6fa;
   border-left: 6px solid {{ '#2a7' if r.verdict and r.verdict.exit_code == 0 else '#c33' }}; }
 .headline li { margin: .2em 0 }
 table { border-collapse: collapse; margin: .5em 0; font-size: .92em }
 th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top }
 th { background: #f0f0f0 } td.num { text-align: right; font-variant-numeric: tabular-nums }
 .pass { color: #176; font-weight: 600 } .fail { color: #b00; font-weight: 600 }
 .noimpact { color: #176; font-style: italic } .unknown { color: #a60; font-style: italic }
 .muted { color: #777 } pre { background: #f7f7f7; padding: .6em; overflow-x: auto }
 .arch-legacy { color: #e66100; font-weight: 600 } .arch-modern { color: #1a5fb4; font-weight: 600 }
 tr.overridden td { background: #fff6d5 }
</style></head><body>
<h1>{{ r.scenario.name }} — run {{ r.run_id }}</h1>
<div class="muted">status {{ r.status }}; started {{ r.started_at }}{% if r.finished_at %},
 finished {{ r.finished_at }}{% endif %}; seed {{ r.scenario.seed }}</div>
<div class="headline" id="headline"><strong>{{ head[0] }}</strong>
<ul>{% for line in head[1:] %}<li>{{ line }}</li>{% endfor %}</ul></div>
{% if r.capacity_warnings() %}<div class="headline" id="capacity-warning"
 style="border-left-color: #c33"><strong class="fail">CPU and memory limits were not as the
profiles ask: the architectures did not run on equal, known capacity.</strong>
<ul>{% for w in r.capacity_warnings() %}<li>{{ w }}</li>{% endfor %}</ul></div>{% endif %}
{% if r.generator_warnings() %}<div class="headline" id="generator-warning"
 style="border-left-color: #c93"><strong>The load generator's CPU: the stack may not have
had its full CPU limit.</strong>
<ul>{% for w in r.generator_warnings() %}<li>{{ w }}</li>{% endfor %}</ul></div>{% endif %}
{% for a in r.architectures if a.variant %}<div class="headline variant"
 id="variant-{{ a.arch }}" style="border-left-color: #c93"><strong>Overrides in this variant:
{{ a.arch }}</strong> — {{ a.variant.description }}
<ul>{% for o in a.variant.overrides %}<li><code>{{ o.setting }}</code>: {{ o.base_value }} →
<b>{{ o.value }}</b>{% if o.source %} <small class="muted">({{ o.source }})</small>{% endif %}
</li>{% endfor %}</ul></div>{% endfor %}
<div id="charts">{{ chart | safe }}</div>
{{ replay_section }}

{% if scaling_chart %}<h2>Capacity over time (auto scaling)</h2>
<p class="muted">Desired, launching and in-service instances/tasks, once a second; the shaded
band is the scaling gap: from demand exceeding the in-service capacity at the policy's CPU target
until enough capacity was in service.</p>
{{ scaling_chart | safe }}
<table id="scaling-table"><tr><th></th><th>target</th><th>scaling gap</th>
<th>desired count changes</th><th>most in service</th></tr>
{% for row in scaling_rows %}<tr><th class="arch-{{ row[0] }}">{{ row[0] }}</th>
{% for cell in row[1:] %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</table>
{% endif %}
{{ cost_chart }}
{% if db_chart %}<h2>Database connections</h2>
<p class="muted">Threads_connected on the writer and the reader (whichever instance holds the
role at that second), sampled once a second by the harness; it includes the sampler's own
connection and, on the writer, the replica's. With RDS Proxy the apps' connections end at the
proxy, which holds its own pool to the writer. A gap: the instance did not answer. The dashed
line is the database's max_connections (the instance class's, at the run's scale): a client
past it gets "Too many connections" (MySQL error 1040), which the services answer 503; the
sampler's own connection then takes root's one extra slot, so "at the limit" is a reading
above max_connections (or a sampler refused too). Refused: connections the instances turned
away after login (Aborted_connects less Aborted_connects_preauth: an upper bound, since a
login that failed for another reason counts too); with RDS Proxy these include the proxy's own
tries past the writer's free slots (it then waits for one of its connections, and its clients
see no refusal).</p>
{{ db_chart | safe }}
<table id="db-connections-table"><tr><th></th><th>writer before the first fault (median)</th>
<th>writer min / max</th><th>writer at the end</th><th>seconds unanswered</th>
<th>max_connections</th><th>seconds at the limit</th><th>refused connections</th>
<th>proxy clients (max)</th><th>proxy DB connections (max)</th><th>pinned sessions (max)</th>
<th>borrow timeouts</th></tr>
{% for c in db_rows %}<tr><th class="arch-{{ c.arch }}">{{ c.arch }}</th>
<td class="num">{{ c.writer_before if c.writer_before is not none else '—' }}</td>
<td class="num">{{ c.writer_min if c.writer_min is not none else '—' }} /
 {{ c.writer_max if c.writer_max is not none else '—' }}</td>
<td class="num">{{ c.writer_end if c.writer_end is not none else 'no answer' }}</td>
<td class="num">{{ c.unanswered_s }}</td>
{% for v in (c.limit, c.at_limit_s, c.refused) %}
<td class="num">{{ v if v is not none else '— (not recorded)' }}</td>{% endfor %}
{% for v in (c.proxy_clients_max, c.proxy_backends_max, c.pinned_max, c.borrow_timeouts) %}
<td class="num">{{ v if v is not none else '— (no proxy)' }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}

<h2>Recovery per fault</h2>
{% if faults %}<table id="recovery"><tr><th>fault</th><th>at</th>
{% for a in r.architectures %}<th class="arch-{{ a.arch }}">{{ a.arch }}</th>{% endfor %}</tr>
{% for name, at, per_arch in faults %}<tr><td>{{ name }}</td>
<td class="num">{{ at | fmt('s') }}</td>
{% for rec in per_arch %}<td>{% if rec %}{% set arch = r.architectures[loop.index0] %}
 {% if rec.status == 'recovered' %}recovered after <b>{{ rec.recovery_s | fmt('s') }}</b>{{
   mark(arch, name, 'recovery') }}
 {% if rec.aws_estimate_withheld %}<br><span class="unknown">not estimated: {{
   rec.aws_estimate_withheld }}</span>
 {% elif rec.time_scale != 1 and rec.recovery_aws_s is not none %}<br><span class="muted">≈ {{
   rec.recovery_aws_s | fmt('s') }} at AWS timings (estimate)</span>{% endif %}
 {% elif rec.status == 'no_impact' %}<b class="noimpact">no impact</b>
 {% elif rec.status == 'not_recovered' %}<b class="fail">NOT recovered</b>
 {% else %}<b class="unknown">not measurable</b>{% endif %}
 {% if rec.reason %}<br><small class="reason">{{ rec.reason }}</small>{% endif %}<br>
 {% if rec.impact_s is not none %}impact after {{ rec.impact_s | fmt('s') }}<br>{% endif %}
 peak error rate {{ rec.peak_error_rate | ratio }}{{ mark(arch, name, 'errors') }};
 {{ rec.errors }} errors of {{ rec.requests }}{{ mark(arch, name, 'errors') }}<br>
 added p95 {{ rec.added_p95_ms | fmt('ms') }}{{ mark(arch, name, 'latency') }}
 {% if rec.apply_s is not none %}<br><span class="muted">apply took {{
   rec.apply_s | fmt('s') }}</span>{% endif %}
 {% set d = detection(r.architectures[loop.index0], name) %}{% if d is not none %}<br>
 detected <b class="{{ '' if d.detect_s is not none else 'fail' }}">{{
   (d.detect_s | fmt('s')) ~ ' by ' ~ d.alarm if d.detect_s is not none else 'by no alarm' }}</b>{{
   mark(arch, name, 'detection') if d.detect_s is not none else '' }}
 {% endif %}
{% else %}<span class="muted">not run</span>{% endif %}</td>{% endfor %}</tr>{% endfor %}
</table>{% if marked_any %}<p class="muted">{{ mark_note }}</p>{% endif %}
{% else %}<p class="muted">No faults in this run.</p>{% endif %}
{% if clock %}<h2 id="compressed-clock">The compressed clock (time scale {{
 clock.time_scale }})</h2>
<p>{{ clock.lead }}</p>
{% if clock.inverted %}<table id="clock-orderings"><tr><th>fault</th><th>arch</th><th>at AWS</th>
<th>in this run</th><th>what the order decides</th></tr>
{% for fault, arch, aws, run, decides in clock.inverted %}<tr><td>{{ fault }}</td>
<td class="arch-{{ arch }}">{{ arch }}</td><td>{{ aws }}</td><td class="fail">{{ run }}</td>
<td><small>{{ decides }}</small></td></tr>{% endfor %}</table>{% endif %}
{% if clock.unjudged %}<p class="muted">Not judged:</p><ul class="muted">
{% for line in clock.unjudged %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}{% endif %}

{% if alarmed %}<h2>Alarms</h2>
<p class="muted">The CloudWatch alarms each profile declares (and the scenario changed), evaluated
on the metrics the run recorded (metrics.jsonl) at its time scale. Stars on the timeline's
events lane mark changes into and out of ALARM. A false alarm went to ALARM with no fault to
explain it; an alarm of an overload had no fault to explain it either, but its data saw demand
above the in-service capacity at the scaling target: it warned rightly.</p>
<table id="alarms"><tr><th>arch</th><th>alarm</th><th>definition</th><th>missing data</th>
<th>went to ALARM for</th></tr>
{% for a in alarmed %}{% for d in a.alarms %}<tr><td class="arch-{{ a.arch }}">{{ a.arch }}</td>
<td>{{ d.name }}</td><td>{{ d.describe() }}, published {{ d.delay_s | fmt('s') }} late</td>
<td>{{ d.treat_missing_data }}</td><td>{{ fired(a, d.name) }}</td></tr>{% endfor %}{% endfor %}
</table>
<p>False alarms: {% for a in alarmed %}<span class="arch-{{ a.arch }}">{{ a.arch }}</span>
{{ a.false_alarms | length }}{% if not loop.last %}; {% endif %}{% endfor %}<br>
Alarms of an overload: {% for a in alarmed %}<span class="arch-{{ a.arch }}">{{ a.arch }}</span>
{% set why = unjudged(a.scaling) %}{{ a.overload_alarms | length if why is none
 else 'not counted (' ~ why ~ ')' }}{% if not loop.last %}; {% endif %}{% endfor %}</p>{% endif %}

<h2>SLOs</h2>
{% if slos %}<table id="slos"><tr><th>SLO</th><th>arch</th><th>scope</th><th>objective</th>
<th>measured</th><th>verdict</th><th>detail</th></tr>
{% for s in slos %}<tr><td>{{ s.name }}</td><td class="arch-{{ s.arch }}">{{ s.arch }}</td>
<td>{{ s.endpoint }}{% if s.phase %}, phase {{ s.phase }}{% endif %}{% if s.window_s %},
 every {{ s.window_s | fmt('s') }} window{% endif %}</td>
<td>{{ s.metric }} {{ s.op }} {{ s.threshold }}</td>
<td class="num">{{ s.measured | fmt(s.unit) if s.measured is not none else '—' }}</td>
<td class="{{ 'pass' if s.passed else 'fail' }}">{{ 'PASS' if s.passed else 'FAIL' }}</td>
<td>{{ s.detail }}</td></tr>{% endfor %}</table>
{% else %}<p class="muted">The scenario has no SLOs.</p>{% endif %}

<h2>Invariants (lost data)</h2>
<table id="invariants"><tr><th>invariant</th>
{% for a in r.architectures %}<th class="arch-{{ a.arch }}">{{ a.arch }}</th>{% endfor %}</tr>
{% for name, desc, per_arch in invariants %}<tr>
<td>{{ name }}<br><span class="muted">{{ desc }}</span></td>
{% for inv in per_arch %}<td>{% if inv is none %}<span class="muted">not checked</span>{% else %}
{% set said = inv_verdict(r.architectures[loop.index0], inv) %}
<span class="{{ 'pass' if said == 'ok' else ('fail' if not inv.ok else 'unknown') }}">{{
 said }}</span>
 ({{ inv.value }}){% for ex in inv.examples %}<br><small>{{ ex }}</small>{% endfor %}
{% endif %}</td>
{% endfor %}</tr>{% endfor %}
{% for kind in kinds %}<tr><td>{{ kind }}s checked<br><span class="muted">acknowledged /
 failed / indeterminate writes the checks looked at</span></td>
{% for a in r.architectures %}<td class="num">{% if a.writes_checked is none %}<span
 class="muted">not checked</span>{% else %}{% set n = a.writes_checked.get(kind, {}) %}{{
 n.get('acknowledged', 0) }} / {{ n.get('failed', 0) }} / {{ n.get('indeterminate', 0) }}{%
 endif %}</td>{% endfor %}</tr>{% endfor %}</table>

<h2>Totals</h2>
<table id="totals"><tr><th></th>
{% for a in r.architectures %}<th class="arch-{{ a.arch }}">{{ a.arch }}</th>{% endfor %}</tr>
{% for label, key, unit in totals_rows %}<tr><td>{{ label }}</td>
{% for a in r.architectures %}<td class="num">{{ total(a, key, unit) }}</td>{% endfor %}</tr>
{% endfor %}
{% for label, cells in cost_rows %}<tr><td>{{ label }}</td>
{% for v in cells %}<td class="num">{{ v }}</td>{% endfor %}</tr>{% endfor %}
<tr><td>validity</td>{% for a in r.architectures %}<td>
{% if a.valid %}valid{% else %}<span class="fail">INVALID</span>:
{{ a.invalid_reasons | join('; ') }}{% endif %}
{% if a.error %}<br><span class="fail">{{ a.error }}</span>{% endif %}</td>{% endfor %}</tr>
</table>
{{ cost_section }}
<h2>Capacity</h2>
<p class="muted">Each instance/task's CPU and memory as its profile asks and as the kernel held
them (read back from its cgroup once the stack was up).</p>
{% for a in r.architectures if a.capacity %}{% set c = a.capacity %}
<table class="capacity" id="capacity-{{ a.arch }}">
<tr><th class="arch-{{ a.arch }}">{{ a.arch }}</th><th>asked</th><th>in force</th></tr>
<tr><td>stands for</td><td colspan="2">{{ c.aws_size }}</td></tr>
<tr><td>enforced by</td><td colspan="2">{% if c.enforced %}{{ c.mechanism }}{% else %}
<span class="fail">NOT ENFORCED</span>: {{ c.reason }}{% endif %}</td></tr>
{% for m in c.components %}<tr><td>{{ m.component }}</td>
<td class="num">{{ m.requested_cpus }} vCPU / {{ m.requested_memory_mb }} MiB</td>
<td class="num">{{ m.cpus if m.cpus is not none else 'no limit' }} vCPU /
 {{ m.memory_mb if m.memory_mb is not none else 'no limit' }} MiB</td></tr>{% endfor %}
<tr><td><b>total</b></td>
<td class="num"><b>{{ c.requested_total_cpus }} vCPU /
 {{ c.requested_total_memory_mb }} MiB</b></td>
<td class="num"><b>{{ c.total_cpus if c.total_cpus is not none else 'no limit' }} vCPU /
 {{ c.total_memory_mb if c.total_memory_mb is not none else 'no limit' }} MiB</b></td></tr>
</table>{% endfor %}

<h2>What this run modelled</h2>
<p class="muted">Every behaviour the stack profiles cite, the AWS value, and the value used at
this run's time scale (timings only; client timeouts and counts are not scaled). Highlighted
rows, marked (variant), are the settings a scenario's variant overrides.</p>
{% for a in r.architectures if a.modelled %}
<table class="modelled" id="modelled-{{ a.arch }}">
<tr><th class="arch-{{ a.arch }}">{{ a.arch }}</th>
<th>AWS value</th><th>used</th><th>source</th></tr>
{% for m in a.modelled %}<tr{% if m.overridden %} class="overridden"{% endif %}>
<td>{{ m.setting }}</td><td class="num">{{ m.aws_value }}</td>
<td class="num">{{ m.used_value }}
{%- if m.scaled %} <span class="muted">(scaled)</span>{% endif %}
{%- if m.overridden %} <b>(variant)</b>{% endif %}</td>
<td><small>{{ m.source }}</small></td></tr>{% endfor %}</table>
{% endfor %}

<h2>Settings</h2>
<table id="settings"><tr><th>run id</th><td>{{ r.run_id }}</td></tr>
<tr><th>scenario</th><td>{{ r.scenario.name }}
{% if r.scenario.file %} ({{ r.scenario.file }}){% endif %}</td></tr>
<tr><th>seed</th><td>{{ r.scenario.seed }}</td></tr>
<tr><th>phases</th><td>{% for p in r.scenario.phases %}
{{ p.name }} {{ p.start_s | fmt('s') }} to {{ p.end_s | fmt('s') }}
{% if not loop.last %};{% endif %}
{% endfor %}</td></tr>
{% for k, v in r.versions.items() %}<tr><th>{{ k }} version</th><td>{{ v }}</td></tr>{% endfor %}
</table>
<pre>{{ settings }}</pre>
</body></html>
""")

TOTALS_ROWS = (
    ("offered arrivals", "offered", ""), ("started", "started", ""),
    ("dropped", "dropped", ""), ("late", "late", ""), ("finished requests", "requests", ""),
    ("error rate", "error_rate", "ratio"), ("achieved / offered", "achieved_ratio", "ratio"),
    ("p50", "p50", "ms"), ("p95", "p95", "ms"), ("p99", "p99", "ms"), ("max", "max", "ms"),
)


def _total(a: Any, key: str, unit: str) -> str:
    if a.totals is None:
        return "—"
    t = a.totals
    value = t.latency_ms[key] if unit == "ms" else getattr(t, key)
    return fmt(value, unit) if unit else f"{value:,}"


def _mark(arch: Any, fault: str, figure: Figure) -> str:
    """` ⚠` beside a figure that an inverted ordering decides."""
    return f" {INVERTED_MARK}" if arch.inverted(fault, figure) else ""


def _detection(arch: Any, fault: str) -> Any:
    if not arch.alarms:
        return None
    return next((d for d in arch.detections if d.fault == fault), None)


def _fired(arch: Any, alarm: str) -> str:
    faults = [d.fault + (" (first)" if d.alarm == alarm else "") for d in arch.detections
              if alarm in d.alarms]
    unexplained = sorted([*(("false alarm", x) for x in arch.false_alarms),
                          *(("overload", x) for x in arch.overload_alarms)],
                         key=lambda pair: pair[1].at_s)
    return ", ".join([*faults, *(f"{kind} at {x.at_s:.1f} s" for kind, x in unexplained
                                 if x.alarm == alarm)]) or "never"


def render(record: RunRecord, data: Mapping[str, ArchData], events: Sequence[Mapping[str, Any]]
           ) -> str:
    """The whole page as one string."""
    chart = plot.div(figure(record, data, events), "timeline", plotlyjs=True)
    archs = record.architectures
    fault_names: dict[str, float] = {}
    for a in archs:
        for rec in a.recoveries:
            fault_names.setdefault(rec.fault, rec.start_s)
    faults = [
        (name, at, [next((x for x in a.recoveries if x.fault == name), None) for a in archs])
        for name, at in fault_names.items()
    ]
    inv_names: dict[str, str] = {}
    for a in archs:
        for inv in a.invariants:
            inv_names.setdefault(inv.name, inv.description if inv.query is None else
                                 f"{inv.description} (the scenario's own query; expects "
                                 f"{inv.query.expect})")
    invariants = [
        (name, desc, [next((x for x in a.invariants if x.name == name), None) for a in archs])
        for name, desc in inv_names.items()
    ]
    colors = {name: color(name, i) for i, name in enumerate(record.arch_names)}
    return _TEMPLATE.render(
        r=record, head=headline(record), chart=chart, faults=faults,
        scaling_chart=scaling.chart(record, colors),
        scaling_rows=scaling.summary_rows(record),
        db_chart=connections.chart(record, events, colors),
        cost_chart=cost.chart(record, events, colors),
        db_rows=connections.table(record, events),
        replay_section=replayed.section(record, data, colors),
        detection=_detection, alarmed=[a for a in archs if a.alarms], fired=_fired,
        mark=_mark, mark_note=MARK_NOTE, clock=clock_view(record),
        marked_any=any(a.inverted(rec.fault) for a in archs for rec in a.recoveries),
        unjudged=scaling.overload_unjudged,
        slos=record.slo_results(), invariants=invariants,
        totals_rows=TOTALS_ROWS, total=_total, inv_verdict=invariant_verdict, kinds=KINDS,
        cost_rows=cost.rows(record), cost_section=cost.section(record),
        settings=json.dumps(record.settings, indent=2, sort_keys=True, default=str),
    )
