"""`harness replay` writes the original night into the scenario as `replayed_from:`: the
window, scale, compression, line counts and the status mix, read back as typed fields."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness import cli
from harness.scenario.replayed import replayed_night
from harness.scenario.scenario import load_scenario
from tests.support.access_logs import SHOP_MIX, lines, write_files


def _replay(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["harness", "replay", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code in (0, None), capsys.readouterr().err


def test_the_scenario_carries_the_nights_status_mix_window_and_factors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shape = [40] * 60 + [120] * 60  # two whole minutes: the status counts are exact
    logs = tmp_path / "logs"
    logs.mkdir()
    write_files(logs, shape, SHOP_MIX, "alb", files=3)
    with (logs / "part-0.log").open("a") as f:
        f.write("not an access log line\n")
    errors = sum(" 503 503 " in line for line in lines(shape, SHOP_MIX, "alb"))
    assert errors > 0
    out = tmp_path / "night.yaml"
    _replay(monkeypatch, capsys, str(logs), "--out", str(out), "--scale", "3",
            "--compress", "2")

    scenario = load_scenario(str(out))
    block = scenario.replayed_from
    assert block is not None
    assert block.phase == scenario.workload.phases[0].name
    assert block.window.start.isoformat() == "2025-11-28T20:00:00+00:00"
    assert block.window.seconds == 120
    assert block.window.chosen == "the whole logs"
    assert (block.scale, block.compress) == (3.0, 2)
    assert (block.files, block.lines, block.skipped) == (3, sum(shape) + 1, 1)
    assert block.requests == sum(shape)
    assert block.status_counts() == {"2xx": sum(shape) - errors, "3xx": 0, "4xx": 0,
                                     "5xx": errors, "other": 0}

    night = replayed_night(block, scenario.workload)
    assert night is not None
    # the log's requests per second x 3, two log seconds in one at their mean
    assert len(night.requests_per_s) == 60
    assert night.requests_per_s[0] == pytest.approx(40 * 3, rel=0.001)
    assert night.requests_per_s[-1] == pytest.approx(120 * 3, rel=0.001)
    assert "3xx:" in out.read_text()  # each class written, with its share as a comment
