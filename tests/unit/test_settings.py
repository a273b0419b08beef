"""Settings: flags over HARNESS_* variables over defaults, bad values rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.settings import Settings


def test_environment_then_overrides() -> None:
    env = {"HARNESS_STATE_DIR": "/tmp/h", "HARNESS_TIME_SCALE": "0.5"}
    assert Settings.from_env(env).time_scale == 0.5
    assert Settings.from_env(env).state_dir == Path("/tmp/h")
    assert Settings.from_env(env, time_scale=0.1).time_scale == 0.1
    assert Settings.from_env(env, time_scale=None).time_scale == 0.5


@pytest.mark.parametrize(("value", "message"), [
    ("fast", "HARNESS_TIME_SCALE='fast': not a number"),
    ("0", "HARNESS_TIME_SCALE='0': time scale 0 is out of range"),
    ("100", "HARNESS_TIME_SCALE='100': time scale 100 is out of range"),
])
def test_bad_time_scale(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"HARNESS_TIME_SCALE": value})


def test_tools_dir_wins_over_path(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "haproxy").write_text("")
    settings = Settings.from_env({"HARNESS_TOOLS_DIR": str(tmp_path)})
    assert settings.tool("haproxy") == str(tmp_path / "bin" / "haproxy")
    assert settings.tool("no-such-tool-anywhere") == "no-such-tool-anywhere"


def test_a_state_dir_too_deep_for_unix_sockets_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"HARNESS_STATE_DIR=/tmp/a+: longer than 48"):
        Settings.from_env({"HARNESS_STATE_DIR": "/tmp/" + "a" * 44})
    assert Settings.from_env({"HARNESS_STATE_DIR": "/tmp/" + "a" * 43})


def test_an_error_quoting_a_newline_stays_on_one_line() -> None:
    assert str(ConfigError("s.yaml: workload.'a\nb': unknown key")) == (
        "s.yaml: workload.'a\\nb': unknown key"
    )


def test_an_empty_state_dir_is_the_default_and_a_relative_one_an_error() -> None:
    """The harness removes what dead runs left under <state dir>/stacks: never under the
    working directory (a project's own stacks/ folder)."""
    assert Settings.from_env({"HARNESS_STATE_DIR": "", "XDG_STATE_HOME": "/tmp/x"}).state_dir \
        == Path("/tmp/x/harness")
    with pytest.raises(ConfigError, match=r"HARNESS_STATE_DIR=state: not an absolute path"):
        Settings.from_env({"HARNESS_STATE_DIR": "state"})
