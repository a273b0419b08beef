"""The report's "Database connections" section, from the run's `db.connections` events.

One chart over the load's time axis (each architecture's writer and reader
`Threads_connected`, its max_connections, and with RDS Proxy its client connections)
and one table per architecture: connections before the first fault, the lowest and
highest during the run, at the end, the limit, the seconds the writer was at it, the
connections the database refused, and what the proxy counted. Seconds where an
instance did not answer are gaps, never zeros.

The limit is the recorded profile's (`database.max_connections` among the run's
modelled settings), else what the samples read from the server. A sample's
`Threads_connected` includes the sampler's own connection, which at the limit takes
the one extra connection MariaDB keeps for SUPER: the writer is at its limit when it
reads more than max_connections.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from harness.analysis.recovery import event_time
from harness.records.events import StackEvent
from harness.report import plot
from harness.report.record import RunRecord

LINES = (("writer_threads", "writer", "solid"), ("reader_threads", "reader", "dot"))
#: the modelled setting that holds the database's max_connections as the run used it
#: (harness.model.profile.MAX_CONNECTIONS_SETTING; a test keeps them equal)
LIMIT_SETTING = "database.max_connections"


def limit_of(record: RunRecord, arch: str, events: Sequence[Mapping[str, Any]] = ()
             ) -> int | None:
    """The architecture's max_connections: the recorded profile's, else the samples'."""
    a = next((x for x in record.architectures if x.arch == arch), None)
    row = next((m for m in a.modelled if m.setting == LIMIT_SETTING), None) if a else None
    if row is not None and isinstance(row.used_value, int | float):
        return int(row.used_value)
    read = [e.get("writer_max_connections") for e in samples(events, arch)]
    known = [int(v) for v in read if isinstance(v, int)]
    return max(known) if known else None


def refused(mine: Sequence[Mapping[str, Any]]) -> int | None:
    """Connections the database instances refused during the samples; None if not read.

    Each instance's counter runs from its start; roles swap in a failover, so counts are
    followed per instance, and a counter that went down (a restart) counts from zero.
    """
    last: dict[str, int] = {}
    total, seen = 0, False
    for e in mine:
        for role in ("writer", "reader"):
            name, value = e.get(role), e.get(f"{role}_refused")
            if not isinstance(name, str) or not isinstance(value, int):
                continue
            seen = True
            if name in last:
                total += value - last[name] if value >= last[name] else value
            last[name] = value
    return total if seen else None


def samples(events: Sequence[Mapping[str, Any]], arch: str) -> list[Mapping[str, Any]]:
    """The architecture's connection samples in time order."""
    mine = [e for e in events
            if e.get("kind") == StackEvent.DB_CONNECTIONS and e.get("arch", arch) == arch]
    return sorted(mine, key=event_time)


def _proxy(sample: Mapping[str, Any], key: str) -> Any:
    proxy = sample.get("proxy")
    return proxy.get(key) if isinstance(proxy, Mapping) else None


def chart(record: RunRecord, events: Sequence[Mapping[str, Any]], colors: Mapping[str, str]
          ) -> str:
    """The chart as an HTML fragment (plotly.js comes with the page's first chart); "" if none."""
    fig = go.Figure()
    drawn = False
    for arch in record.arch_names:
        mine = samples(events, arch)
        if not mine:
            continue
        drawn = True
        t = [event_time(e) for e in mine]
        for key, role, dash in LINES:
            if any(key in e for e in mine):
                fig.add_scatter(x=t, y=[e.get(key) for e in mine], name=f"{arch} {role}",
                                legendgroup=arch, line={"color": colors[arch], "dash": dash})
        if any(e.get("proxy") for e in mine):
            fig.add_scatter(x=t, y=[_proxy(e, "client_connections") for e in mine],
                            name=f"{arch} RDS Proxy clients", legendgroup=arch,
                            line={"color": colors[arch], "dash": "dashdot", "width": 1})
        limit = limit_of(record, arch, events)
        if limit is not None:
            fig.add_scatter(x=[t[0], t[-1]], y=[limit, limit], name=f"{arch} max_connections",
                            legendgroup=arch, mode="lines",
                            line={"color": colors[arch], "dash": "dash", "width": 1})
    if not drawn:
        return ""
    for a in record.architectures:
        for f in a.faults:
            fig.add_vline(x=f.start_s, line={"color": "rgba(204,0,0,0.5)", "width": 1})
    return plot.div(fig, "db-connections", height=320,
                    xaxis_title="seconds since the load started", yaxis_title="connections")


@dataclass(frozen=True)
class Row:
    """One architecture's line of the table; None = not measured (no answer, no proxy)."""

    arch: str
    writer_before: float | None
    writer_min: int | None
    writer_max: int | None
    writer_end: int | None
    unanswered_s: int
    #: the database's max_connections (None: not recorded)
    limit: int | None
    #: samples (seconds) with the writer at its limit: every connection but root's taken
    at_limit_s: int | None
    #: connections the instances refused after login (error 1040) during the samples
    refused: int | None
    proxy_clients_max: int | None
    proxy_backends_max: int | None
    pinned_max: int | None
    borrow_timeouts: int | None


def table(record: RunRecord, events: Sequence[Mapping[str, Any]]) -> list[Row]:
    """Per architecture with samples: the writer's connections and the proxy's counters."""
    rows = []
    for a in record.architectures:
        mine = samples(events, a.arch)
        if not mine:
            continue
        first_fault = min((f.start_s for f in a.faults), default=None)
        writer = [e.get("writer_threads") for e in mine]
        # the writer refused even the sampler (root's extra slot taken): full, not silent
        full = [e.get("writer_at_limit") is True for e in mine]
        known = [w for w in writer if w is not None]
        before = [e["writer_threads"] for e in mine if e.get("writer_threads") is not None
                  and (first_fault is None or event_time(e) < first_fault)]

        def peak(key: str, among: list[Mapping[str, Any]] = mine) -> int | None:
            values = [v for v in (_proxy(e, key) for e in among) if v is not None]
            return max(values) if values else None

        limit = limit_of(record, a.arch, events)
        rows.append(Row(
            arch=a.arch, writer_before=statistics.median(before) if before else None,
            writer_min=min(known) if known else None, writer_max=max(known) if known else None,
            writer_end=writer[-1],
            unanswered_s=sum(w is None and not f for w, f in zip(writer, full, strict=True)),
            limit=limit,
            at_limit_s=(sum(w > limit for w in known) + sum(full) if limit is not None
                        else None),
            refused=refused(mine),
            proxy_clients_max=peak("client_connections"),
            proxy_backends_max=peak("backend_open"), pinned_max=peak("pinned_sessions"),
            borrow_timeouts=peak("borrow_timeouts"),
        ))
    return rows
