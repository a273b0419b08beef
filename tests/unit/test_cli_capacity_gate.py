"""`harness run` where CPU and memory limits cannot be enforced: --ci refuses (exit 2)
unless --allow-unlimited; otherwise the run's first output line says so.

The cgroup probe and the rehearsal itself are replaced (the decision is pure logic:
the probe is tested on fake trees in test_cgroups.py, the run in the integration suite).
"""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from harness import cli
from harness.errors import EnvironmentProblem, HarnessError


class _Stopped(HarnessError):
    """Stands in for the rehearsal: the gate let the run through."""


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []

    def rehearse(*_args: Any, **_kwargs: Any) -> Any:
        calls.append(True)
        raise _Stopped("the run would start here")

    monkeypatch.setattr(cli, "rehearse", rehearse)
    monkeypatch.setattr(cli.doctor_mod, "require", lambda *_a: None)
    return calls


def _probe(monkeypatch: pytest.MonkeyPatch, available: bool) -> None:
    reason = "cgroup v2: no write access to /sys/fs/cgroup" if not available else "cgroup v2"
    monkeypatch.setattr(cli.cgroups, "probe", lambda: (available, reason))


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli.app, ["run", "smoke", *args])


def test_ci_refuses_to_run_without_enforceable_limits(
    monkeypatch: pytest.MonkeyPatch, started: list[bool]
) -> None:
    _probe(monkeypatch, available=False)
    result = _run("--ci")
    assert isinstance(result.exception, EnvironmentProblem)
    assert result.exception.exit_code == 2
    assert "--allow-unlimited" in str(result.exception)
    assert "no write access to /sys/fs/cgroup" in str(result.exception)
    assert not started


def test_ci_with_allow_unlimited_runs_and_says_so_on_its_first_line(
    monkeypatch: pytest.MonkeyPatch, started: list[bool]
) -> None:
    _probe(monkeypatch, available=False)
    result = _run("--ci", "--allow-unlimited")
    assert isinstance(result.exception, _Stopped)
    assert started
    first = result.stdout.splitlines()[0]
    assert first.startswith("warning: CPU and memory limits cannot be enforced here")
    assert "no write access" in first


def test_without_ci_it_warns_and_runs(
    monkeypatch: pytest.MonkeyPatch, started: list[bool]
) -> None:
    _probe(monkeypatch, available=False)
    result = _run()
    assert isinstance(result.exception, _Stopped)
    assert started
    assert "warning: CPU and memory limits cannot be enforced here" in result.output


def test_enforceable_limits_run_without_a_warning(
    monkeypatch: pytest.MonkeyPatch, started: list[bool]
) -> None:
    _probe(monkeypatch, available=True)
    result = _run("--ci")
    assert isinstance(result.exception, _Stopped)
    assert started
    assert "warning" not in result.output
