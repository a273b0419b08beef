"""`harness down` stops what `harness up` holds; a `harness run` in progress only when named.

Each stack's owner is a plain `sleep` standing in for a harness (SIGTERM ends it, as
it ends a harness); its work dir says which command holds the stack.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from harness import cli


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # short: a state dir's path is limited (settings.py); pytest's tmp_path is too deep
    path = Path(tempfile.mkdtemp(prefix="hd-", dir="/tmp"))
    monkeypatch.setenv("HARNESS_STATE_DIR", str(path))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}/no-engine.sock")  # no docker here
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def owners() -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    started: dict[str, subprocess.Popen[bytes]] = {}
    yield started
    for proc in started.values():
        proc.kill()
        proc.wait()


def _stack(state: Path, owners: dict[str, subprocess.Popen[bytes]], stack_id: str,
           command: str) -> subprocess.Popen[bytes]:
    owner = subprocess.Popen(["sleep", "300"])
    owners[stack_id] = owner
    workdir = state / "stacks" / stack_id
    workdir.mkdir(parents=True)
    (workdir / "owner.json").write_text(json.dumps({
        "pid": owner.pid, "create_time": psutil.Process(owner.pid).create_time(),
        "arch": stack_id.split("-")[0], "stack_id": stack_id, "command": command,
    }))
    return owner


def _down(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, ["down", "--timeout", "5", *args])
    return result.exit_code, result.output


def test_down_leaves_a_run_in_progress_alone(state: Path, owners: dict[str, subprocess.Popen[bytes]]
                                            ) -> None:
    up = _stack(state, owners, "modern-up-1", "up")
    run = _stack(state, owners, "legacy-run-1", "run")

    code, output = _down()

    assert code == 0, output
    assert up.wait(timeout=5) == -15  # SIGTERM, as Ctrl-C of `harness up`
    assert run.poll() is None
    assert "stopped modern-up-1 (harness up, pid" in output
    assert "left running: legacy-run-1 (harness run, pid" in output
    assert "pass --all" in output


def test_a_named_run_or_all_is_stopped(state: Path, owners: dict[str, subprocess.Popen[bytes]]
                                       ) -> None:
    first = _stack(state, owners, "legacy-run-1", "run")
    second = _stack(state, owners, "modern-run-2", "capacity")

    code, output = _down("legacy-run-1")
    assert code == 0, output
    assert first.wait(timeout=5) == -15
    assert second.poll() is None

    code, output = _down("--all")
    assert code == 0, output
    assert second.wait(timeout=5) == -15
    assert "stopped modern-run-2 (harness capacity, pid" in output


def test_an_unknown_stack_is_a_clear_error(state: Path, owners: dict[str, subprocess.Popen[bytes]]
                                           ) -> None:
    run = _stack(state, owners, "legacy-run-1", "run")
    result = CliRunner().invoke(cli.app, ["down", "legacy-nope"])
    assert isinstance(result.exception, cli.ConfigError)
    assert str(result.exception) == "no running stack legacy-nope; running: legacy-run-1"
    assert run.poll() is None


def test_a_dead_owners_stack_is_cleaned_by_any_command(
        state: Path, owners: dict[str, subprocess.Popen[bytes]]) -> None:
    gone = _stack(state, owners, "legacy-dead-1", "run")
    gone.kill()
    gone.wait()

    result = CliRunner().invoke(cli.app, ["list"])

    assert result.exit_code == 0, result.output
    assert "cleaned up legacy-dead-1 (its harness had died)" in result.output
    assert not (state / "stacks" / "legacy-dead-1").exists()
