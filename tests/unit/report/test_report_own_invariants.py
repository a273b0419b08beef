"""A scenario's own invariants in run.json and every report, beside the built-in ones."""

from __future__ import annotations

import json

from harness.analysis.invariants import Invariant, QueryCheck
from harness.report.assemble import RunHeader, build_record
from harness.report.headline import data_line, invariant_verdict
from harness.report.html import render
from harness.report.junit import junit_xml
from harness.report.record import RunRecord
from harness.report.summary import summary_md
from harness.scenario.slo import Objectives
from tests.support.synthetic import synthetic

HEADER = RunHeader(run_id="r", scenario="team", seed=1, phases=[("main", 0.0, 30.0)])
FOUND = QueryCheck("SELECT id, note FROM ledger", "no rows", columns=("id", "note"),
                   rows=((1, "opening"), (2, None)), row_count=2)
EMPTY = Invariant("ledger_empty", False, 2, "the ledger stays empty",
                  ("id=1, note='opening'", "id=2, note=None"), query=FOUND)
TOTAL = Invariant("ledger_total", True, 0, "the ledger adds up",
                  ("value 35; expected value == 35",),
                  query=QueryCheck("SELECT SUM(amount) FROM ledger", "value == 35",
                                   columns=("SUM(amount)",), rows=((35,),), row_count=1,
                                   measured=35.0))
REFUSED = Invariant("ledger_typo", False, 1, "a typo",
                    ("query failed: Table 'shop.ledgr' doesn't exist (error 1146)",),
                    query=QueryCheck("SELECT * FROM ledgr", "no rows",
                                     error="Table 'shop.ledgr' doesn't exist (error 1146)"))
BUILT_IN = Invariant("orders_lost", True, 0, "acknowledged orders missing from the database")


def _record(invariants: list[Invariant], *, writes_checked: bool = True) -> RunRecord:
    record = build_record(
        HEADER, Objectives(), {"modern": synthetic("modern", 10)}, [],
        invariants={"modern": invariants},
        writes_checked={"modern": {"order": {"acknowledged": 3}}} if writes_checked else None)
    # what a report rebuilt from a results folder reads
    return RunRecord.model_validate_json(record.model_dump_json())


def test_a_failed_own_check_fails_the_run_by_its_name() -> None:
    record = _record([BUILT_IN, TOTAL, EMPTY])
    assert record.verdict is not None
    assert record.verdict.exit_code == 1
    assert record.verdict.reasons == ["modern: invariant ledger_empty violated"]


def test_run_json_keeps_the_query_its_expectation_and_the_rows_found() -> None:
    record = _record([BUILT_IN, EMPTY, TOTAL])
    saved = json.loads(record.model_dump_json())["architectures"][0]["invariants"]
    by_name = {i["name"]: i for i in saved}
    assert by_name["orders_lost"]["query"] is None
    assert by_name["ledger_empty"]["query"] == {
        "sql": "SELECT id, note FROM ledger", "expect": "no rows", "columns": ["id", "note"],
        "rows": [[1, "opening"], [2, None]], "row_count": 2, "measured": None, "error": None}
    assert by_name["ledger_total"]["query"]["measured"] == 35.0
    assert json.loads(json.dumps(EMPTY.to_json()))["query"]["rows"] == [[1, "opening"],
                                                                         [2, None]]
    assert "query" not in BUILT_IN.to_json()


def test_a_refused_query_says_so_in_every_report() -> None:
    record = _record([BUILT_IN, REFUSED])
    arch = record.arch("modern")
    (refused,) = [i for i in arch.invariants if i.name == "ledger_typo"]
    assert invariant_verdict(arch, refused) == "FAILED (query error)"
    html = render(record, {}, [])
    assert "ledger_typo" in html
    assert "FAILED (query error)" in html
    assert "Table &#39;shop.ledgr&#39; doesn&#39;t exist" in html
    assert "doesn't exist (error 1146)" in junit_xml(record)
    assert "| ledger_typo | modern | 1 | **VIOLATED** |" in summary_md(record)


def test_the_html_shows_own_checks_beside_the_built_in_ones_with_their_expectation() -> None:
    html = render(_record([BUILT_IN, TOTAL, EMPTY]), {}, [])
    table = html.split('<table id="invariants">')[1].split("</table>")[0]
    assert table.index("orders_lost") < table.index("ledger_total") < table.index("ledger_empty")
    assert "the scenario&#39;s own query; expects no rows" in table
    assert "id=1, note=&#39;opening&#39;" in table


def test_own_checks_alone_do_not_claim_lost_writes_were_checked() -> None:
    arch = _record([TOTAL], writes_checked=False).arch("modern")
    assert data_line(arch) == ("no invariant violated (1 of the scenario's own checks); "
                               "lost writes not checked")


def test_a_locustfiles_own_writes_are_named_in_the_data_line() -> None:
    lost_ok = Invariant("payments.id_lost", True, 0, "acknowledged writes missing")
    record = build_record(
        HEADER, Objectives(), {"modern": synthetic("modern", 10)}, [],
        invariants={"modern": [lost_ok, TOTAL]},
        writes_checked={"modern": {"order": {"acknowledged": 0},
                                   "payments.id": {"acknowledged": 40}}})
    arch = RunRecord.model_validate_json(record.model_dump_json()).arch("modern")
    # no shop ran here: its empty kinds are not "not checked", the team's are checked
    assert data_line(arch) == ("no data lost (40 acknowledged writes to payments.id checked), "
                               "no invariant violated")
    assert invariant_verdict(arch, lost_ok) == "ok"


def test_an_own_lost_check_with_nothing_acknowledged_is_not_checked() -> None:
    lost_ok = Invariant("payments.id_lost", True, 0, "acknowledged writes missing")
    record = build_record(
        HEADER, Objectives(), {"modern": synthetic("modern", 10)}, [],
        invariants={"modern": [lost_ok]},
        writes_checked={"modern": {"payments.id": {"acknowledged": 0, "failed": 3}}})
    arch = RunRecord.model_validate_json(record.model_dump_json()).arch("modern")
    assert invariant_verdict(arch, lost_ok) == "not checked (no acknowledged write)"
    assert "lost data not checked" in data_line(arch)
