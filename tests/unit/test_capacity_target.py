"""`harness capacity LABEL --mix SCENARIO`: LABEL may be the scenario's variant, and the stack
gets the scenario's own data as `harness run` gives it; `--mix /abs/s.yaml` is a scenario.

The stack is replaced by a stand-in that records how it was built and stops there (what
it then does is the integration test's).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from harness.capacity import command
from harness.capacity.measure import is_endpoint
from harness.errors import HarnessError
from harness.scenario.scenario import SCENARIOS_DIR
from tests.support.payments_example import with_journeys

PAYMENTS = Path(__file__).resolve().parents[2] / "examples" / "payments" / "scenario.yaml"


class _Built(HarnessError):
    """Stands in for the stack's start: how it was built is recorded."""


@pytest.fixture
def stacks(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    built: list[dict[str, Any]] = []

    def stack(profile: Any, settings: Any, **kwargs: Any) -> None:
        built.append({"profile": profile, **kwargs})
        raise _Built("the stack would start here")

    monkeypatch.setattr(command, "Stack", stack)
    monkeypatch.setattr("harness.doctor.require", lambda *_a: None)
    monkeypatch.setattr("harness.runtime.cgroups.probe", lambda: (True, "cgroup v2 cpu + memory"))
    return built


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
          *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["harness", "capacity", *args,
                                      "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


@pytest.mark.parametrize(("value", "endpoint"), [
    ("/products", True),
    ("/products/1", True),
    (str(PAYMENTS), False),
    ("/no/such/folder/scenario.yml", False),
    ("blackfriday", False),
])
def test_an_absolute_scenario_path_is_no_endpoint(value: str, endpoint: bool) -> None:
    assert is_endpoint(value) is endpoint


def test_a_variant_label_runs_the_team_s_app_on_the_scenario_s_own_data(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    stacks: list[dict[str, Any]],
) -> None:
    mix = str(with_journeys(tmp_path))
    code, err = _main(monkeypatch, capsys, tmp_path, "modern#payments", "--mix", mix)
    assert code == 2, err  # the stand-in's HarnessError
    assert "the stack would start here" in err
    (built,) = stacks
    assert built["profile"].app.command[1] == "app.py"  # the team's service, not the sample's
    own = built["own"]
    assert [q.name for q in own.queues] == ["payment-events"]
    assert own.schema is not None
    assert own.seed is not None
    assert built["app_bug"] is None
    assert built["orchestrate"] is False


def test_an_architecture_with_a_scenario_mix_gets_the_scenario_s_own_data_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    stacks: list[dict[str, Any]],
) -> None:
    blackfriday = SCENARIOS_DIR / "blackfriday.yaml"
    code, _err = _main(monkeypatch, capsys, tmp_path, "legacy", "--mix", str(blackfriday))
    assert code == 2
    (built,) = stacks
    assert built["own"] is None  # blackfriday has no own_service: the sample shop's data
    assert built["profile"].name == "legacy"


def test_a_locustfile_scenario_is_refused_as_no_capacity_mix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    stacks: list[dict[str, Any]],
) -> None:
    code, err = _main(monkeypatch, capsys, tmp_path, "modern#payments", "--mix", str(PAYMENTS))
    assert code == 2
    assert "runs a locustfile (a closed model)" in err
    assert "get: {path: /your/path}" in err
    assert stacks == []  # refused before any stack


@pytest.mark.parametrize(("args", "says"), [
    (["modern#payments"], "'modern#payments': a variant label needs --mix"),
    (["modern#nope", "--mix", str(PAYMENTS)], "'modern#nope': not a variant of "),
    (["mainframe", "--mix", str(PAYMENTS)], "legacy#payments, legacy#payments-bug"),
])
def test_a_label_that_names_no_variant_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    stacks: list[dict[str, Any]], args: list[str], says: str,
) -> None:
    code, err = _main(monkeypatch, capsys, tmp_path, *args)
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("harness: error: ")
    assert says in line
    assert stacks == []
