"""run.json records the original night a replayed scenario replays, and the report sets it
beside the rehearsal: the log's rate against offered and answered, and the status mixes."""

from __future__ import annotations

import re
from html import unescape

from harness.report.assemble import RunHeader, build_record
from harness.report.html import render
from harness.report.record import RunRecord
from harness.report.replayed import mix_table, rate_rows, terminal_row
from harness.scenario.slo import Objectives
from tests.support.replayed_night import NIGHT, rehearsal

NO_SLOS = Objectives.model_validate({"slos": []})
PHASES = [("warm", 0.0, 2.0), ("replay", 2.0, 5.0)]


def _record(replay: bool = True) -> RunRecord:
    header = RunHeader(run_id="r", scenario="night", seed=1, phases=PHASES,
                       settings={"architectures": ["legacy", "modern"]},
                       replay=NIGHT.model_dump(mode="json") if replay else None)
    data = {a: rehearsal(a) for a in ("legacy", "modern")}
    return build_record(header, NO_SLOS, data, [])


def _html(record: RunRecord) -> str:
    return render(record, {a: rehearsal(a) for a in ("legacy", "modern")}, [])


def _table(html: str, table_id: str) -> list[list[str]]:
    body = html.split(f'<table id="{table_id}">', 1)[1].split("</table>", 1)[0]
    return [[unescape(re.sub(r"<[^>]+>|\s+", " ", c)).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_run_json_records_the_night_and_each_architectures_figures() -> None:
    record = RunRecord.model_validate_json(_record().model_dump_json())  # as read back
    night = record.scenario.replayed_from
    assert night is not None
    assert night.requests_per_s == [10.0, 20.0, 30.0]
    assert night.source.status_counts()["5xx"] == 2
    replay = record.arch("modern").replay
    assert replay is not None
    assert (replay.log_requests, replay.offered, replay.answered) == (60, 30, 45)
    assert replay.classes["timeout"] == 4


def test_the_report_sets_the_log_beside_offered_and_answered() -> None:
    record = _record()
    html = _html(record)
    assert 'id="replayed-night"' in html
    assert 'id="replayed-night-chart"' in html
    assert "last year's system" in html
    rows = _table(html, "replayed-rates")
    assert rows[1][:3] == ["legacy", "2 to 5 s", "60"]
    assert rows[1][3] == "30 journeys = 60 requests (100.0 % of the log's)"
    assert rows[1][5] == "45 (75.0 % of the log's)"
    assert rate_rows(record)[1][0] == "modern"


def test_the_status_table_puts_the_nights_mix_beside_each_architectures() -> None:
    header, rows = mix_table(_record())
    assert header == ["", "original night (last year's system)", "legacy (this stack)",
                      "modern (this stack)"]
    by_label = {r[0]: r[1:] for r in rows}
    # the log's 2xx and 3xx against the rehearsal's ok (which holds the expected 409s too)
    assert by_label["2xx, 3xx: success, redirect"][0] == "90.0 % (27) = 2xx 80.0 %, 3xx 10.0 %"
    assert by_label["2xx, 3xx: success, redirect"][1] == "76.9 % (40)"  # of 52 attempts
    assert by_label["5xx: server error"] == ["6.67 % (2)", "5.77 % (3)", "5.77 % (3)"]
    # no status: a row of its own, never folded into 5xx; not a class of a log
    assert by_label["no status: timeout"] == ["— (not in an access log)", "7.69 % (4)",
                                              "7.69 % (4)"]
    assert by_label["not sent: dropped at the concurrency cap"][1] == "3.85 % (2)"
    # a class neither side counted is left out
    assert "no status: connection reset" not in by_label
    assert "no status logged ('-') or 1xx" not in by_label


def test_the_terminal_gets_one_row() -> None:
    row = terminal_row(_record())
    assert row is not None
    label, cells = row
    assert label == "replayed night x2: answered / log, 5xx (night 6.67 %)"
    assert cells == ["75.0 %, 5xx 5.77 %", "75.0 %, 5xx 5.77 %"]


def test_a_run_without_a_replay_shows_nothing_new() -> None:
    record = _record(replay=False)
    assert record.scenario.replayed_from is None
    assert all(a.replay is None for a in record.architectures)
    html = _html(record)
    assert "replayed-night" not in html
    assert terminal_row(record) is None
    assert mix_table(record) == ([], [])
