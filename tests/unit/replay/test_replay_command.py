"""`harness replay`: logs in, a valid scenario out whose series is the log's shape x scale.

The accuracy test generates ~200k lines with a known per-second shape and endpoint mix
(spread over gzip and plain files, shuffled) and checks the written rates within 1 % of
the log's x scale and the mix within 1 percentage point.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness import cli
from harness.load.schedule import offered_per_second
from harness.replay.journey_mix import journey_endpoints
from harness.scenario.ratefile import read_rates
from harness.scenario.scenario import load_scenario
from harness.scenario.workload import SeriesPhase
from tests.support.access_logs import (
    SECRET_AGENT,
    SECRET_QUERY,
    SHOP_MIX,
    START,
    doors_open,
    write_files,
)


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
        ) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["harness", "replay", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    captured = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def test_a_night_of_200k_lines_is_replayed_within_1_percent_and_1_point(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shape = doors_open(300, 400, 1600)  # ~200k requests over 5 minutes
    assert 180_000 < sum(shape) < 260_000
    logs = tmp_path / "logs"
    logs.mkdir()
    write_files(logs, shape, SHOP_MIX, "alb", files=6)
    out = tmp_path / "night.yaml"
    code, printed, err = run(monkeypatch, capsys, str(logs), "--out", str(out), "--scale", "3")
    assert code == 0, err

    scenario = load_scenario(str(out))  # what `harness validate` checks
    phase = scenario.workload.phases[0]
    assert isinstance(phase, SeriesPhase)
    weights = {n: j.weight for n, j in scenario.workload.journeys.items()}
    calls = journey_endpoints()
    per_arrival = sum(w * len(calls[n]) for n, w in weights.items()) / sum(weights.values())
    requests = [r * per_arrival for r in phase.rates]
    assert len(requests) == len(shape)
    for second, (got, logged) in enumerate(zip(requests, shape, strict=True)):
        assert got == pytest.approx(logged * 3, rel=0.01), f"second {second}"

    sent: dict[str, float] = dict.fromkeys(SHOP_MIX, 0.0)
    for name, weight in weights.items():
        for endpoint in calls[name]:
            sent[endpoint] += weight
    total = sum(sent.values())
    for endpoint, share in SHOP_MIX.items():
        assert sent[endpoint] / total == pytest.approx(share, abs=0.01), endpoint

    # the generator is offered the series second by second
    offered = offered_per_second(scenario.workload)
    assert sum(offered) == pytest.approx(sum(phase.rates), abs=1)
    assert f"{sum(shape):,} requests" in printed
    assert "peak second 2025-11-28T20:02:30Z: 1,600 requests" in printed


def test_the_written_files_hold_no_client_data(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, [30] * 20, SHOP_MIX, "clb", files=2)
    out = tmp_path / "out" / "night.yaml"
    code, printed, err = run(monkeypatch, capsys, str(tmp_path), "--out", str(out))
    assert code == 0, err
    written = out.read_text() + out.with_suffix(".rates").read_text() + printed
    for secret in ("203.0.113.", SECRET_AGENT, "SecretAgent", SECRET_QUERY, "SECRET-TOKEN",
                   "shop.example.com", "3f2b8c1e"):
        assert secret not in written


def test_busiest_compress_and_scale_are_stated_in_the_scenario(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shape = [10] * 120 + [50] * 60 + [10] * 120
    write_files(tmp_path, shape, SHOP_MIX, "combined", files=3)
    out = tmp_path / "rush.yaml"
    code, _printed, err = run(monkeypatch, capsys, str(tmp_path), "--out", str(out),
                              "--busiest", "1m", "--scale", "2", "--compress", "2")
    assert code == 0, err
    text = out.read_text()
    assert "2025-11-28T20:02:00Z to 2025-11-28T20:03:00Z (the busiest 1m)" in text
    assert "x2, time compressed 2:1" in text
    rates = read_rates(out.with_suffix(".rates"))
    assert rates == [50.0] * 30  # 50 requests/s x2 / 2 requests per journey, 60 s in 30
    assert load_scenario(str(out)).workload.duration == 30


def test_an_existing_scenario_is_not_overwritten_without_force(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, [5] * 5, SHOP_MIX, "alb", files=1)
    out = tmp_path / "night.yaml"
    out.write_text("mine\n")
    code, _out, err = run(monkeypatch, capsys, str(tmp_path / "part-0.log"), "--out", str(out))
    assert code == 2
    assert "already exists; choose another --out, or --force to overwrite" in err
    assert out.read_text() == "mine\n"


def test_unreadable_logs_are_a_one_line_error_with_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "app.log"
    log.write_text("\n".join(f"{i} something else entirely" for i in range(20)) + "\n")
    code, _out, err = run(monkeypatch, capsys, str(log), "--out", str(tmp_path / "x.yaml"),
                          "--max-skipped", "3")
    assert code == 2
    assert err.startswith(f"harness: error: {log}:4: cannot read this line")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.yaml").exists()


def test_replay_starts_at_the_logs_first_second(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, [0, 0, 4, 6], SHOP_MIX, "alb", files=1)
    out = tmp_path / "n.yaml"
    code, printed, err = run(monkeypatch, capsys, str(tmp_path), "--out", str(out))
    assert code == 0, err
    assert read_rates(out.with_suffix(".rates")) == [2.0, 3.0]
    assert "logs span 2025-11-28T20:00:02Z to 2025-11-28T20:00:04Z (2s)" in printed
    assert START == 1764360000  # 2025-11-28T20:00:00Z
