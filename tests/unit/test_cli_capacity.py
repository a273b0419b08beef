"""`harness capacity` flags: a bad one is a one-line error and exit 2, before any stack starts.

The stack is replaced by a stand-in that records it was asked for (flag parsing is
pure logic; the real stack is the integration test's).
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from harness import cli
from harness.capacity import command
from harness.errors import HarnessError


class _Started(HarnessError):
    """Stands in for the stack: the flags were accepted."""


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def measure(_profile: Any, _settings: Any, opts: Any, mix: Any, *_a: Any) -> None:
        calls.append({"opts": opts, "mix": mix})
        raise _Started("the stack would start here")

    monkeypatch.setattr(command, "_measure", measure)
    monkeypatch.setattr(command.doctor_mod, "require", lambda *_a: None)
    monkeypatch.setattr(command.cgroups, "probe", lambda: (True, "cgroup v2 cpu + memory"))
    return calls


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
          ) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["harness", "capacity", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


@pytest.mark.parametrize(("args", "names"), [
    (["modern", "--p99", "soon"], "--p99"),
    (["modern", "--max-error-rate", "150%"], "--max-error-rate"),
    (["modern", "--min-achieved", "lots"], "--min-achieved"),
    (["modern", "--start", "-5/s"], "--start"),
    (["modern", "--start", "900/s", "--max-rate", "100/s"], "--start"),
    (["modern", "--factor", "1"], "--factor"),
    (["modern", "--tolerance", "0%"], "--tolerance"),
    (["modern", "--max-steps", "0"], "--max-steps"),
    (["modern", "--step", "0.2s"], "--step"),
    (["modern", "--timeout", "100ms"], "--timeout"),
    (["modern", "--workers", "0"], "--workers"),
    (["modern", "--scope", "cluster"], "--scope"),
    (["mainframe"], "'mainframe'"),
    (["modern", "--mix", "no-such-scenario"], "--mix"),
])
def test_bad_flags_are_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    started: list[dict[str, Any]], args: list[str], names: str,
) -> None:
    code, err = _main(monkeypatch, capsys, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("harness: error: ")
    assert names in lines[0]
    assert not started


def test_good_flags_reach_the_measurement(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    started: list[dict[str, Any]],
) -> None:
    code, _err = _main(monkeypatch, capsys, "legacy", "--p99", "300ms", "--max-error-rate",
                       "0.5%", "--start", "20/s", "--step", "4s", "--mix", "blackfriday",
                       "--scope", "member")
    assert code == 2  # the stand-in's HarnessError
    opts = started[0]["opts"]
    assert opts.slos.p99_ms == 300
    assert opts.slos.max_error_rate == 0.005
    assert opts.search.start == 20
    assert opts.plan.measure_s == 4
    assert opts.scope == "member"
    mix = started[0]["mix"]
    assert set(mix.journeys) == {"browse", "checkout", "ticket_rush"}


def test_refuses_without_limits_unless_allowed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    started: list[dict[str, Any]],
) -> None:
    monkeypatch.setattr(command.cgroups, "probe", lambda: (False, "no cgroup v2 delegation"))
    code, err = _main(monkeypatch, capsys, "modern")
    assert code == 2
    assert "--allow-unlimited" in err
    assert not started
    code, _err = _main(monkeypatch, capsys, "modern", "--allow-unlimited")
    assert started
