"""The report's database-connections section: from `db.connections` events to chart and table."""

from __future__ import annotations

from typing import Any

from harness.report.assemble import RunHeader, build_record
from harness.report.connections import LIMIT_SETTING, limit_of, table
from harness.report.html import render
from harness.report.record import ModelledRow
from harness.scenario.slo import Objectives
from tests.support.synthetic import synthetic


def _sample(arch: str, t: float, writer: int | None, proxy: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    event: dict[str, Any] = {"kind": "db.connections", "arch": arch, "t_s": t,
                             "writer": "db-writer", "writer_threads": writer,
                             "reader": "db-reader", "reader_threads": 3}
    if proxy is not None:
        event["proxy"] = proxy
    return event


def _fault(arch: str) -> dict[str, Any]:
    return {"kind": "fault.applied", "arch": arch, "t_s": 5.0, "fault": "writer-dies",
            "type": "db_failover", "targets": ["db-writer"]}


def _record(events: list[dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
    data = {a: synthetic(a, 10) for a in ("modern", "modern-no-proxy")}
    header = RunHeader(run_id="r", scenario="db-failover", seed=1, phases=[("main", 0.0, 10.0)])
    return build_record(header, Objectives(), data, events), data


def _events() -> list[dict[str, Any]]:
    proxy = {"client_connections": 6, "backend_open": 6, "pinned_sessions": 6,
             "borrow_timeouts": 0}
    events: list[dict[str, Any]] = [_fault("modern"), _fault("modern-no-proxy")]
    for t, writer in [(1, 9), (2, 11), (6, None), (7, None), (8, 8)]:
        events.append(_sample("modern", t, writer, proxy))
        events.append(_sample("modern-no-proxy", t, None if writer is None else writer + 50))
    return events


def test_table_reports_writer_counts_and_unanswered_seconds_not_zeros() -> None:
    events = _events()
    record, _ = _record(events)
    rows = {r.arch: r for r in table(record, events)}
    proxied, bare = rows["modern"], rows["modern-no-proxy"]
    assert (proxied.writer_before, proxied.writer_min, proxied.writer_max) == (10, 8, 11)
    assert (proxied.writer_end, proxied.unanswered_s) == (8, 2)
    assert (proxied.proxy_clients_max, proxied.pinned_max, proxied.borrow_timeouts) == (6, 6, 0)
    assert bare.writer_before == 60
    # no proxy: its counters are not measured, not zero
    assert (bare.proxy_clients_max, bare.pinned_max, bare.borrow_timeouts) == (None, None, None)


def test_report_shows_the_section_only_with_samples() -> None:
    events = _events()
    record, data = _record(events)
    html = render(record, data, events)
    assert 'id="db-connections"' in html
    assert '"name":"modern RDS Proxy clients"' in html
    assert '"name":"modern-no-proxy writer"' in html
    assert "— (no proxy)" in html
    plain, data = _record([])
    assert "Database connections" not in render(plain, data, [])


def _at_the_limit(arch: str, t: float, writer: str, threads: int, refused: int,
                  max_connections: int = 10) -> dict[str, Any]:
    return {"kind": "db.connections", "arch": arch, "t_s": t, "writer": writer,
            "writer_threads": threads, "writer_max_connections": max_connections,
            "writer_refused": refused}


def test_table_shows_the_limit_the_seconds_at_it_and_the_refused_connections() -> None:
    # the sampler's own connection takes root's extra slot: 11 of max_connections 10 is full
    events: list[dict[str, Any]] = [
        _at_the_limit("modern-no-proxy", 1, "db-writer", 4, 0),
        _at_the_limit("modern-no-proxy", 2, "db-writer", 11, 7),
        _at_the_limit("modern-no-proxy", 3, "db-writer", 11, 19),
        # a failover: the promoted instance counts from its own start
        _at_the_limit("modern-no-proxy", 4, "db-reader", 11, 3),
        _at_the_limit("modern-no-proxy", 5, "db-reader", 6, 5),
        _at_the_limit("modern", 1, "db-writer", 10, 0),
        _at_the_limit("modern", 2, "db-writer", 10, 0),
    ]
    record, data = _record(events)
    rows = {r.arch: r for r in table(record, events)}
    bare, proxied = rows["modern-no-proxy"], rows["modern"]
    # no modelled profile in this record: the limit the samples read from the server
    assert (bare.limit, bare.at_limit_s, bare.refused) == (10, 3, 19 + 2)
    assert (proxied.limit, proxied.at_limit_s, proxied.refused) == (10, 0, 0)
    html = render(record, data, events)
    assert '"name":"modern-no-proxy max_connections"' in html
    assert "<th>refused connections</th>" in html


def test_the_limit_is_the_recorded_profiles() -> None:
    events = [_at_the_limit("modern", 1, "db-writer", 140, 0, max_connections=151)]
    record, _ = _record(events)
    modern = record.arch("modern")
    modern.modelled.append(ModelledRow(
        setting=LIMIT_SETTING, aws_value=1000, used_value=150, scaled=False,
        source="Aurora User Guide (a test)"))
    assert limit_of(record, "modern", events) == 150
    # an older run without the counters: not recorded, not zero
    [row] = [r for r in table(record, [_sample("modern", 1, 9)]) if r.arch == "modern"]
    assert (row.limit, row.refused) == (150, None)
