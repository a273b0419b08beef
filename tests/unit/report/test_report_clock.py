"""The compressed clock in run.json and the reports: inverted pairs listed, figures marked,
the AWS estimate withheld; at time scale 1 nothing of it shows."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
from rich.console import Console

from harness.analysis.series import ArchData
from harness.model.profile_file import load_profile
from harness.report.assemble import RunHeader, build_record
from harness.report.html import render
from harness.report.record import SCHEMA_FILE, RunRecord
from harness.report.summary import summary_md
from harness.report.terminal import print_verdict
from harness.scenario.slo import Objectives
from tests.support.synthetic import synthetic

FAILOVER = {"name": "writer-dies", "type": "db_failover", "at": "20s"}
EVENTS = [
    {"arch": "modern", "t_s": 20.0, "kind": kind, "fault": "writer-dies", "type": "db_failover",
     "target": "db-writer", "took_ms": 1.0}
    for kind in ("fault.applying", "fault.applied")
]
OBJECTIVES = Objectives.model_validate({"recovery": {"baseline": "10s", "consecutive": 3}})
#: behind RDS Proxy the outage is the promotion: the failover figure less its DNS TTL
OUTAGE = "database.failover_s - database.dns_ttl_s"
WITHHELD = f"{OUTAGE} vs app.client.db_query_timeout_s inverted at time scale 0.1"


def _data() -> dict[str, ArchData]:
    return {"modern": synthetic("modern", 60, error_rate=lambda s: 0.5 if 20 <= s < 25 else 0.0)}


def _record(time_scale: float) -> RunRecord:
    header = RunHeader(
        run_id="r", scenario="db-failover", seed=1, phases=[("main", 0.0, 60.0)],
        definition={"faults": [FAILOVER]}, settings={"time_scale": time_scale},
        profiles={"modern": load_profile("modern").model_dump(mode="json")},
    )
    return build_record(header, OBJECTIVES, _data(), EVENTS)


def test_run_json_lists_the_orderings_and_withholds_the_inverted_estimate() -> None:
    modern = _record(0.1).arch("modern")
    assert modern.clock_unjudged is None
    # the writer's outage and the promoted reader's restart both end before the 3 s query
    # timeout at 0.1, as they do not at AWS
    inverted, reads = modern.inverted()
    assert inverted.fault == reads.fault == "writer-dies"
    assert inverted.pair == (OUTAGE, "app.client.db_query_timeout_s")
    assert reads.pair[0].startswith("the promoted reader restarts")
    assert (inverted.aws_s, inverted.run_s) == ((25.0, 3.0), (2.5, 3.0))
    assert len(modern.clock_orderings) > 1  # the pairs that held are listed too
    [recovery] = modern.recoveries
    assert recovery.recovery_s is not None
    assert recovery.recovery_aws_s is None
    assert recovery.aws_estimate_withheld == WITHHELD


def test_the_latency_pair_is_judged_on_the_fault_window() -> None:
    modern = _record(0.1).arch("modern")
    [latency] = [o for o in modern.clock_orderings if "timeout_s" in o.pair[0]
                 and "p99" in o.pair[1]]
    assert latency.preserved is True  # ~30 ms against the health check's timeout
    assert latency.run_s[1] is not None
    assert latency.run_s[1] < 0.1


def test_run_json_with_orderings_validates_against_the_schema() -> None:
    doc = json.loads(_record(0.1).model_dump_json())
    jsonschema.validate(doc, json.loads(SCHEMA_FILE.read_text()))
    assert doc["architectures"][0]["clock_orderings"][0]["pair"] == [
        OUTAGE, "app.client.db_query_timeout_s"]
    assert RunRecord.model_validate(doc).arch("modern").inverted()


def test_summary_lists_the_inverted_pair_and_marks_what_it_touches() -> None:
    text = summary_md(_record(0.1))
    assert "## The compressed clock (time scale 0.1)" in text
    assert (f"{OUTAGE} 25 s > app.client.db_query_timeout_s 3 s | 2.5 s < 3 s → "
            "inverted: the fault's errors and recovery are not what AWS would show") in text
    assert f"not estimated: {WITHHELD}" in text
    recovery_row = next(line for line in text.splitlines() if line.startswith("| writer-dies"))
    # peak error rate, errors, recovered after; added p95 (the reads through the restart)
    assert recovery_row.count("⚠") == 4
    assert "≈" not in recovery_row


def test_html_and_terminal_say_the_ordering_is_inverted() -> None:
    record = _record(0.1)
    page = render(record, _data(), EVENTS)
    assert 'id="clock-orderings"' in page
    assert f"not estimated: {WITHHELD}" in page
    out = io.StringIO()
    print_verdict(record, Path("results/r"), Console(file=out, width=200))
    assert "2 orderings inverted at time scale 0.1" in out.getvalue()
    assert "summary.md" in out.getvalue()
    assert "writer-dies not estimated" in out.getvalue()


def test_at_time_scale_one_nothing_is_inverted_and_nothing_changes() -> None:
    record = _record(1.0)
    modern = record.arch("modern")
    assert modern.clock_orderings
    assert not modern.inverted()
    assert modern.recoveries[0].aws_estimate_withheld is None
    text = summary_md(record)
    assert "compressed clock" not in text
    assert "⚠" not in text
    out = io.StringIO()
    print_verdict(record, Path("results/r"), Console(file=out, width=200))
    assert "inverted" not in out.getvalue()
    assert "compressed-clock" not in render(record, _data(), EVENTS)


def test_a_run_without_a_recorded_profile_says_why_it_was_not_judged() -> None:
    header = RunHeader(run_id="r", scenario="s", seed=1, phases=[("main", 0.0, 60.0)],
                       settings={"time_scale": 0.1})
    record = build_record(header, OBJECTIVES, _data(), EVENTS)
    assert record.arch("modern").clock_unjudged == "no stack profile was recorded"
    assert "modern: not judged: no stack profile was recorded" in summary_md(record)
