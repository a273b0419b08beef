"""`harness forecast RESULTS --hours N`: a longer event's cost from a recorded results folder."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

from harness import cli
from harness.analysis.cost import forecast
from harness.errors import ConfigError
from harness.report.forecast import forecast_command, forecasts
from harness.report.results import read_record
from tests.support.priced_run import TIME_SCALE, write_priced_run
from tests.support.repeat_data import noisy_runs, write_repeat_set


@pytest.fixture(scope="module")
def priced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_priced_run(tmp_path_factory.mktemp("priced"))


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
          ) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["harness", "forecast", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    code = exited.value.code
    captured = capsys.readouterr()
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def test_the_forecast_scales_the_recorded_line_items_to_the_hours(priced: Path) -> None:
    record = read_record(priced)
    legacy = record.arch("legacy").cost
    assert legacy is not None
    _, found = forecasts(priced, 6.0)
    six = found["legacy"]
    assert six.forecast_h == 6.0
    ec2 = next(li for li in six.lines if li.price == "ec2_instance_hour")
    # 20 run seconds at 0.05 are 400 AWS seconds: 6 h is 54 of them; 2 x 10 + 4 x 10
    # member-seconds are 1/3 instance-hour, 18 in 6 h
    assert legacy.event_aws_h == pytest.approx(20 / TIME_SCALE / 3600, abs=1e-6)
    assert ec2.quantity == pytest.approx(60 / TIME_SCALE / 3600 * 54, abs=1e-4)
    assert ec2.subtotal_usd == pytest.approx(18 * (ec2.unit_price_usd or 0), abs=1e-4)
    clb = next(li for li in six.lines if li.price == "clb_hour")
    assert clb.quantity == 6  # by whole hours, not 54 x the rehearsal's one billed hour
    assert six.total_usd == pytest.approx(sum(li.subtotal_usd or 0 for li in six.lines),
                                          abs=1e-6)


def test_the_forecast_cost_per_million_follows_its_own_total(priced: Path) -> None:
    cost = read_record(priced).arch("legacy").cost
    assert cost is not None
    six = forecast(cost, 6.0)
    assert six.served_aws is not None
    assert six.per_million_usd == pytest.approx(six.total_usd / six.served_aws * 1e6, rel=1e-5)
    # the rehearsal paid a whole CLB hour for 0.11 h: the longer event's requests cost less
    assert cost.per_million_usd is not None
    assert six.per_million_usd < cost.per_million_usd


def test_the_command_prints_an_estimate_with_its_assumptions(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], priced: Path
) -> None:
    code, out, err = _main(monkeypatch, capsys, str(priced), "--hours", "6")
    assert code == 0, err
    text = " ".join(out.split())
    for said in ("forecast: a 6 h event shaped like", "an estimate, not a measurement",
                 "rehearsal: error rate", "forecast: AWS cost per million requests served",
                 "in proportion to the hours: EC2 t3.small instance-hours",
                 "by whole hours, not in proportion: CLB hours",
                 "still not measurable and left out of the estimate: CLB data processed",
                 "recur in every repetition", "legacy: line items", "modern: line items"):
        assert said in text, said


def test_an_architecture_without_a_cost_reads_not_measurable(tmp_path: Path) -> None:
    unpriced = write_priced_run(tmp_path, profiles=False)
    with pytest.raises(ConfigError, match="no architecture has a cost"):
        forecasts(unpriced, 6.0)


def test_a_shorter_forecast_says_so(priced: Path) -> None:
    buf = io.StringIO()
    assert forecast_command(priced, 0.05, console=Console(file=buf, width=300)) == 0
    assert "shorter than the rehearsal" in buf.getvalue()


@pytest.mark.parametrize(("args", "says"), [
    (["--hours", "0"], "--hours 0"),
    (["--hours", "-2"], "--hours -2"),
    (["--hours", "nan"], "--hours nan"),
    (["--hours", "inf"], "--hours inf"),
    (["--hours", "six"], "--hours"),
    ([], "--hours"),
])
def test_a_bad_flag_is_one_line_and_exit_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], priced: Path,
        args: list[str], says: str) -> None:
    code, _, err = _main(monkeypatch, capsys, str(priced), *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("harness: error: ")
    assert says in lines[0]


def test_a_folder_that_is_not_a_run_is_one_line_and_exit_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = _main(monkeypatch, capsys, str(tmp_path), "--hours", "6")
    assert code == 2
    assert "run.json" in err
    set_dir = write_repeat_set(tmp_path / "set", {"legacy": noisy_runs("legacy", 2, seed=1),
                                                  "modern": noisy_runs("modern", 2, seed=2)})
    code, _, err = _main(monkeypatch, capsys, str(set_dir), "--hours", "6")
    assert code == 2
    assert "a repeat set; forecast one of its runs" in err
