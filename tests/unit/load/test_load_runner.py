from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError, LoadError, ScenarioError
from harness.load.command import build_workload
from harness.load.runner import GENERATOR_NICE, check_target, prioritize


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/", "http://localhost/x", "https://127.0.0.2:9/", "http://[::1]:80/"],
)
def test_loopback_targets_are_allowed(url: str) -> None:
    assert check_target(url, allow_remote=False) == url


def test_remote_target_needs_the_flag() -> None:
    with pytest.raises(LoadError, match=r"not a loopback address.*--allow-remote"):
        check_target("http://example.com/", allow_remote=False)
    assert check_target("http://example.com/", allow_remote=True)


def test_a_target_must_be_an_http_url() -> None:
    with pytest.raises(LoadError, match="not an http:// or https:// URL"):
        check_target("127.0.0.1:8080", allow_remote=False)


def test_the_parent_side_does_not_import_gevent() -> None:
    # Locust monkey-patches whatever imports it; the harness's main process must stay plain.
    code = (
        "import sys, harness.cli, harness.load.runner, harness.load.command;"
        "print('gevent' in sys.modules, 'locust' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def flags(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "rate": "20/s",
        "duration": "3s",
        "phases_file": None,
        "seed": 1,
        "concurrency": 10,
        "timeout": "2s",
    }
    return {**base, **overrides}


def test_flags_make_one_constant_phase() -> None:
    w = build_workload(**flags())
    assert w.phase_windows() == [("main", 0.0, 3.0)]
    assert w.timeouts.read == 2.0
    assert list(w.journeys) == ["get"]


def test_phases_file_may_be_a_bare_list(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(
        "- {name: warm, shape: ramp, from: 1, to: 10, duration: 2s}\n"
        "- {name: peak, shape: spike, base: 5, peak: 50, peak_for: 1s, duration: 3s}\n"
    )
    w = build_workload(**flags(rate=None, duration=None, phases_file=f))
    assert [name for name, _s, _e in w.phase_windows()] == ["warm", "peak"]


def test_phases_file_and_rate_conflict(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("[]\n")
    with pytest.raises(ConfigError, match="drop --rate/--duration"):
        build_workload(**flags(phases_file=f))


def test_bad_phase_in_file_names_the_file_and_field(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("- {name: warm, shape: constant, rate: -3/s, duration: 2s}\n")
    with pytest.raises(ScenarioError, match=rf"^{f}: phases\[0\].rate: '-3/s': a rate cannot"):
        build_workload(**flags(rate=None, duration=None, phases_file=f))


def test_no_rate_and_no_phases_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="--rate: missing"):
        build_workload(**flags(rate=None))


def test_the_generator_gets_a_higher_priority_for_itself_and_its_session() -> None:
    # the session's autogroup matters as much as the nice: alone, the nice ranks the
    # generator only inside its own session (runner.prioritize)
    child = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        raised = prioritize(child.pid)
        if os.geteuid() != 0:
            assert raised is False
            assert os.getpriority(os.PRIO_PROCESS, child.pid) == 0
            return
        assert raised is True
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == GENERATOR_NICE
        autogroup = Path(f"/proc/{child.pid}/autogroup")
        if autogroup.exists():  # a kernel built without autogroup has none to set
            assert autogroup.read_text().split()[-1] == str(GENERATOR_NICE)
    finally:
        child.kill()
        child.wait()
