"""Alarms of an overload, from events to run.json, summary.md, report.html and the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from harness.analysis.detection import FalseAlarm
from harness.model.alarmdef import AlarmDef
from harness.model.profile_file import load_profile
from harness.report.assemble import RunHeader, build_record
from harness.report.html import render
from harness.report.record import RunRecord
from harness.report.summary import summary_md
from harness.report.terminal import print_verdict
from harness.scenario.slo import Objectives
from tests.support.synthetic import synthetic

CPU = AlarmDef(name="cpu-high", metric="CPUUtilization", statistic="Average", period_s=6,
               evaluation_periods=2, datapoints_to_alarm=2, threshold=70,
               comparison="GreaterThanThreshold", treat_missing_data="missing", delay_s=6,
               every_s=6)  # evaluates data from at_s - 18 to at_s - 6
# run.json's profiles: modern's policy tracks CPU at a 50 % target; the same without scaling
SCALES = load_profile("modern").model_dump(mode="json")
FIXED: dict[str, Any] = {**SCALES, "scaling": None}


def _events(arch: str) -> list[dict[str, Any]]:
    """2 in service at a 50 % target, overloaded (150 % > 100 %) from 90 to 110 s; cpu-high
    goes to ALARM at 60 s (data 42-54 s: before the overload) and at 100 s (82-94 s)."""
    capacity = [{"kind": "scaling.capacity", "arch": arch, "t_s": float(t), "desired": 2,
                 "launching": 0, "in_service": 2, "cpu_sum_pct": 150.0 if 90 <= t <= 110 else 60.0}
                for t in range(130)]
    alarm = [{"kind": "alarm.state_change", "arch": arch, "alarm": "cpu-high", "old": old,
              "new": new, "at_s": at, "t_s": at}
             for at, old, new in ((60.0, "OK", "ALARM"), (72.0, "ALARM", "OK"),
                                  (100.0, "OK", "ALARM"), (120.0, "ALARM", "OK"))]
    return capacity + alarm


def _record(profile: dict[str, Any]) -> RunRecord:
    header = RunHeader(run_id="r", scenario="spike", seed=1, phases=[("main", 0.0, 130.0)],
                       profiles={"modern": profile}, alarms={"modern": [CPU.to_json()]})
    return build_record(header, Objectives(), {"modern": synthetic("modern", 130)},
                        _events("modern"))


def test_an_alarm_on_overloaded_data_is_an_overload_alarm_in_run_json() -> None:
    modern = _record(SCALES).arch("modern")
    assert [(a.alarm, a.at_s) for a in modern.overload_alarms] == [("cpu-high", 100.0)]
    assert "from 90.0 s to 110.0 s" in modern.overload_alarms[0].reason
    assert not any(isinstance(a, FalseAlarm) for a in modern.overload_alarms)
    # its data (42-54 s) was from before the overload: still a false alarm
    assert [(a.alarm, a.at_s) for a in modern.false_alarms] == [("cpu-high", 60.0)]
    again = RunRecord.model_validate_json(_record(SCALES).model_dump_json())
    assert again.arch("modern").overload_alarms == modern.overload_alarms


def test_overload_alarms_show_in_summary_html_and_terminal() -> None:
    record = _record(SCALES)
    md = summary_md(record)
    assert "False alarms (ALARM with no fault or overload to explain it): modern 1 (cpu-high)" \
        in md
    assert "in-service capacity at the scaling target): modern 1 (cpu-high)" in md
    html = render(record, {"modern": synthetic("modern", 130)}, _events("modern"))
    assert "false alarm at 60.0 s, overload at 100.0 s" in html
    console = Console(record=True, width=200)
    print_verdict(record, Path("out"), console)
    assert "1 (+1 of an overload)" in console.export_text()


def test_a_fixed_fleet_puts_nothing_down_to_overload() -> None:
    record = _record(FIXED)
    modern = record.arch("modern")
    assert modern.overload_alarms == []
    assert [a.at_s for a in modern.false_alarms] == [60.0, 100.0]
    assert "modern not counted (no CPU scaling target to judge an overload by)" \
        in summary_md(record)
    html = render(record, {"modern": synthetic("modern", 130)}, _events("modern"))
    assert "not counted (no CPU scaling target" in html
    assert "false alarm at 60.0 s, false alarm at 100.0 s" in html
    console = Console(record=True, width=200)
    print_verdict(record, Path("out"), console)
    assert "of an overload" not in console.export_text()
