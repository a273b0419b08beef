"""The event's cost in the run record and the reports (harness.analysis.cost does the arithmetic).

`arch_cost` prices one architecture's recorded run with the shipped price table and the
scenario's `prices:` overrides (read back from the recorded definition); the record then
carries every line item with its unit price and source, so a report rebuilt elsewhere
needs no table. `rows` gives the side-by-side rows, `section` the "how this was computed"
tables of the HTML report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
import plotly.graph_objects as go
from markupsafe import Markup

from harness.analysis.cost import ArchCost, Traffic, event_cost
from harness.analysis.cost_timeline import cumulative
from harness.analysis.scaling import capacity_points
from harness.analysis.series import ArchData
from harness.errors import HarnessError
from harness.model.prices import check_overrides, load_prices
from harness.model.profile import Profile
from harness.report import plot
from harness.report.record import ArchRecord, RunRecord


def arch_cost(definition: Mapping[str, Any], profile: Profile | None, data: ArchData | None,
              events: Sequence[Mapping[str, Any]], arch: str, time_scale: float
              ) -> ArchCost | None:
    """The architecture's event cost; None without a typed profile or measured seconds."""
    if profile is None or data is None or data.duration_s <= 0:
        return None
    try:
        table = load_prices()
        table = table.with_overrides(check_overrides(definition.get("prices"), table.names,
                                                     "scenario"))
    except (HarnessError, ValueError):
        return None  # the scenario's check reports a bad table or override before a run
    served = data.stats().classes.get("ok", 0)
    return event_cost(profile, table, time_scale=time_scale, run_s=float(data.duration_s),
                      fleet=capacity_points(events, arch), traffic=Traffic(served=served))


def usd(value: float | None) -> str:
    if value is None:
        return "—"
    return f"${value:,.2f}" if abs(value) >= 0.995 or value == 0 else f"${value:.4f}"


def usd_delta(value: float) -> str:
    """A signed difference in dollars: +$1.20, -$0.0042."""
    return ("+" if value >= 0 else "-") + usd(abs(value))


def total_text(cost: ArchCost | None) -> str:
    """`$12.34`, or `≥ $12.34 (2 items not measurable)`, or — without a cost."""
    if cost is None:
        return "—"
    if cost.complete:
        return usd(cost.total_usd)
    n = len(cost.unmeasured)
    return f"≥ {usd(cost.total_usd)} ({n} item{'s' if n > 1 else ''} not measurable)"


def per_million_text(cost: ArchCost | None) -> str:
    if cost is None or cost.per_million_usd is None:
        return "—"
    return ("" if cost.complete else "≥ ") + usd(cost.per_million_usd)


def scaling_text(cost: ArchCost | None) -> str:
    if cost is None or cost.scaling_added_usd is None:
        return "—"
    return (f"{usd(cost.scaling_added_usd)} ({cost.member_hours:.2f} member-h billed, "
            f"{cost.base_member_hours:.2f} of the base {cost.base_members})")


def rows(record: RunRecord) -> list[tuple[str, list[str]]]:
    """The side-by-side rows: event cost, per million requests served, what scaling added."""
    archs = record.architectures
    if all(a.cost is None for a in archs):
        return []
    hours = next((a.cost.event_aws_h for a in archs if a.cost is not None), 0.0)
    return [
        (f"AWS cost of the event ({hours:.2f} h at AWS time, on demand)",
         [total_text(a.cost) for a in archs]),
        ("AWS cost per million requests served", [per_million_text(a.cost) for a in archs]),
        ("of it, pre-scaling and scale-out", [scaling_text(a.cost) for a in archs]),
    ]


_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_SECTION = _ENV.from_string("""
<h2>What the event costs on AWS</h2>
<p class="muted">Each architecture's run priced as the AWS event it stands for: run seconds /
time scale, members at their AWS size (CPU factor undone), on-demand list prices of the
region; a line the run did not record says so and is not in the total (never counted as 0).
An overridden price is marked.</p>
{% for a in archs %}{% set c = a.cost %}
<table class="cost" id="cost-{{ a.arch }}">
<tr><th class="arch-{{ a.arch }}">{{ a.arch }}</th><th>quantity</th><th>unit price</th>
<th>subtotal</th><th>how the quantity follows from the run</th><th>price source</th></tr>
{% for li in c.lines %}<tr><td>{{ li.item }}</td>
<td class="num">{% if li.quantity is none %}—{% else %}{{ '%.4f' % li.quantity }}{% endif %}</td>
<td class="num">{% if li.unit_price_usd is none %}—{% else %}${{ li.unit_price_usd }} /
 {{ li.unit }}{% endif %}{% if li.overridden %} <b>(overridden)</b>{% endif %}</td>
<td class="num">{% if li.subtotal_usd is none %}<span class="muted">not measurable</span>{%
 else %}{{ usd(li.subtotal_usd) }}{% endif %}</td>
<td>{{ li.how }}</td>
<td><a href="{{ li.source }}">{{ li.source }}</a> ({{ c.region }}, read {{ li.read_on
 }})<br><small>{{ li.price_note }}</small></td></tr>{% endfor %}
<tr><td><b>event total</b></td><td></td><td></td><td class="num"><b>{{ total(c) }}</b></td>
<td colspan="2">{{ c.served }} requests served in the run, {{ '%.0f' % c.served_aws }} at AWS
 size and time: {{ per_million(c) }} per million; peak {{ c.peak_members }} members
 (base {{ c.base_members }}){% if c.not_serving_member_hours is not none %}, {{
 '%.2f' % c.not_serving_member_hours }} member-h billed while not in service (launching or
 replaced){% endif %}</td></tr>
</table>
<ul class="muted">{% for x in c.assumptions %}<li>{{ x }}</li>{% endfor %}</ul>
{% endfor %}
""")


_CHART = _ENV.from_string("""
<h2>Cost over time (AWS)</h2>
<p class="muted">Each architecture's dollars spent since the load started, at AWS time (run
seconds / time scale {{ '%g' % scale }}) and on-demand list prices: the app fleet's lines grow
with the members billed each second (the recorded capacity timeline: a scale-out steepens the
curve from its launch), a load balancer's hours step up at each AWS hour begun, the database
and every other measurable line accrue evenly. A curve marked ≥ leaves out lines the run could
not measure. Each ends at its event total in the tables below.</p>
{{ chart }}
""")


def chart(record: RunRecord, events: Sequence[Mapping[str, Any]],
          colors: Mapping[str, str]) -> Markup:
    """Cumulative dollars per architecture over the run in AWS time; empty without a cost."""
    fig = go.Figure()
    priced = [a for a in record.architectures if a.cost is not None]
    for a in priced:
        assert a.cost is not None
        points = cumulative(a.cost, capacity_points(events, a.arch))
        partial = "" if a.cost.complete else f" (≥: {len(a.cost.unmeasured)} not measurable)"
        fig.add_scatter(
            x=[p.aws_s / 60 for p in points], y=[p.usd for p in points],
            customdata=[p.run_s for p in points], name=f"{a.arch}{partial}",
            line={"color": colors.get(a.arch)},
            hovertemplate="$%{y:.4f} after %{x:.1f} AWS min (run %{customdata:.0f} s)")
    if not priced:
        return Markup("")
    html = plot.div(fig, "cost-over-time", height=320, right=60,
                    legend={"orientation": "h", "y": -0.3},
                    xaxis_title="AWS minutes since the load started",
                    yaxis_title="US dollars, cumulative")
    return Markup(_CHART.render(chart=Markup(html), scale=record.time_scale))


def section(record: RunRecord) -> Markup:
    """The "how this was computed" tables; empty when no architecture has a cost."""
    archs: list[ArchRecord] = [a for a in record.architectures if a.cost is not None]
    if not archs:
        return Markup("")
    return Markup(_SECTION.render(archs=archs, usd=usd, total=total_text,
                                  per_million=per_million_text))
