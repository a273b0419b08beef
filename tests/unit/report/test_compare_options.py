"""`harness compare`'s verdict-rule flags: minimum effects, minimum repeats, family-wise level."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import cli
from harness.analysis.compare import MinEffect, Rule
from harness.errors import ConfigError
from harness.report.compare_options import parse_min_effect, parse_rule
from tests.support.repeat_data import noisy_runs, write_repeat_set


@pytest.mark.parametrize(("text", "metric", "effect"), [
    ("p99=10ms", "p99", MinEffect(10.0, 0.0)),
    ("p99=0.02s", "p99", MinEffect(20.0, 0.0)),
    ("p95=5%", "p95", MinEffect(0.0, 0.05)),
    ("p50=2ms+5%", "p50", MinEffect(2.0, 0.05)),
    ("error_rate=0.5%", "error_rate", MinEffect(0.005, 0.0)),
    ("error_rate=0.002", "error_rate", MinEffect(0.002, 0.0)),
    ("error_rate=0.1%+20%rel", "error_rate", MinEffect(0.001, 0.2)),
    ("achieved_ratio=1%", "achieved_ratio", MinEffect(0.01, 0.0)),
    ("recovery=2s", "recovery", MinEffect(2.0, 0.0)),
    ("recovery:kill-app=1500ms", "recovery kill-app", MinEffect(1.5, 0.0)),
])
def test_a_min_effect_is_absolute_in_the_unit_or_relative(text: str, metric: str,
                                                           effect: MinEffect) -> None:
    got_metric, got = parse_min_effect(text)
    assert got_metric == metric
    assert got.absolute == pytest.approx(effect.absolute)
    assert got.relative == pytest.approx(effect.relative)


@pytest.mark.parametrize(("text", "says"), [
    ("p99", "METRIC=VALUE"),
    ("p90=10ms", "not a metric"),
    ("p99=10", "give a unit"),
    ("p99=soon", "not a duration"),
    ("error_rate=10ms", "write a ratio"),
    ("error_rate=150%", "at most 100%"),
    ("p99=10ms+20ms", "two absolute bounds"),
])
def test_a_bad_min_effect_names_the_flag_and_the_fix(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as raised:
        parse_min_effect(text)
    assert f"--min-effect {text}" in str(raised.value)


def test_the_rule_takes_every_flag() -> None:
    rule = parse_rule(min_effect=["p99=10ms", "error_rate=0.5%"], min_repeats=5,
                      family_alpha="10%")
    assert rule.min_repeats == 5
    assert rule.family_alpha == pytest.approx(0.10)
    assert rule.effect("p99") == MinEffect(10.0, 0.0)
    assert rule.effect("p50") == MinEffect(1.0, 0.05)  # the metric's own
    assert parse_rule(family_alpha="0.01").family_alpha == pytest.approx(0.01)


@pytest.mark.parametrize(("kwargs", "says"), [
    ({"min_repeats": 0}, "--min-repeats 0"),
    ({"family_alpha": "0%"}, "--family-alpha"),
    ({"family_alpha": "60%"}, "at most 50%"),
    ({"family_alpha": "often"}, "--family-alpha"),
    ({"min_effect": ["p99=10ms", "p99=5%"]}, "p99 given twice"),
])
def test_a_bad_rule_flag_is_refused(kwargs: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_rule(**kwargs)


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
          ) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["harness", "compare", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    code = exited.value.code
    captured = capsys.readouterr()
    return (code if isinstance(code, int) else 1), captured.out, captured.err


@pytest.mark.parametrize("args", [
    ["--min-effect", "p99=fast"], ["--min-effect", "latency=5ms"], ["--min-repeats", "0"],
    ["--family-alpha", "2"],
])
def test_a_bad_flag_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path, args: list[str]) -> None:
    code, _, err = _main(monkeypatch, capsys, str(tmp_path), *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("harness: error: ")


def test_the_output_states_the_rule(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    set_dir = write_repeat_set(tmp_path, {"legacy": noisy_runs("legacy", 2, seed=1),
                                          "modern": noisy_runs("modern", 2, seed=2)})
    code, out, _ = _main(monkeypatch, capsys, str(set_dir), "--min-effect", "p99=10ms",
                         "--min-repeats", "2", "--family-alpha", "10%")
    assert code in (0, 1)
    md = " ".join((set_dir / "compare.md").read_text().split())
    for said in ("Holm-Bonferroni", "family-wise level 10%", "at least 2 runs a side",
                 "p99 10 ms", "p50 1 ms and 5 %", "error_rate 0.1 pp and 10 %", "90% CI"):
        assert said in md, said
    assert "too few repeats" not in " ".join(out.split())


@pytest.mark.parametrize("args", [["--min-effect", "p99=fast"], ["--min-repeats", "0"]])
def test_run_repeat_refuses_a_bad_comparison_flag_before_any_stack_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str],
) -> None:
    def no_stack(*_a: object, **_k: object) -> None:
        raise AssertionError("a stack was started")

    monkeypatch.setattr(cli, "rehearse_repeated", no_stack)
    monkeypatch.setattr(sys, "argv", ["harness", "run", "smoke", "--repeat", "3", "--ci", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("harness: error: ")


def test_run_repeat_compares_with_the_rule_it_was_given(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    used: list[Rule] = []

    def compare_command(_root: Path, *, rule: Rule, console: object) -> int:
        used.append(rule)
        return 0

    monkeypatch.setattr(cli, "compare_command", compare_command)
    monkeypatch.setattr(cli, "rehearse_repeated", lambda *_a, **_k: (
        [(SimpleNamespace(status="complete"), tmp_path)], tmp_path))
    monkeypatch.setattr(cli, "repeats_exit_code", lambda _records: 0)
    options = SimpleNamespace(architectures=["legacy", "modern"])
    rule = parse_rule(min_effect=["p99=10ms"], min_repeats=4, family_alpha="10%")
    code = cli._run_repeated(None, options, print, repeat=4, live=False,  # type: ignore[arg-type]
                             rule=rule)
    assert code == 0
    assert used == [rule]
