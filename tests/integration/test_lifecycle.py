"""`harness up` as a user runs it: nothing is left behind however it ends, bad input is one line.

These drive the real CLI in a subprocess, each with its own HARNESS_STATE_DIR.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from tests.support.cli_process import HARNESS, CliProcess
from tests.support.processes import processes_under, still_alive

pytestmark = pytest.mark.integration

READY_S = 60


@pytest.fixture
def env(short_tmp: Path) -> dict[str, str]:
    # COLUMNS: Rich must not wrap the lines the tests parse
    return {**os.environ, "HARNESS_STATE_DIR": str(short_tmp), "COLUMNS": "250"}


class Up(CliProcess):
    """A running `harness up` whose output is read in the background."""

    def __init__(self, arch: str, env: dict[str, str], *extra: str) -> None:
        super().__init__(["up", arch, "--time-scale", "0.1", *extra], env)

    def wait_ready(self) -> str:
        """Wait for the 'up:' line; return the printed load balancer URL."""
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            if any(line.startswith("up:") for line in self.lines):
                found = re.search(r"load balancer: (http://127\.0\.0\.1:\d+)$", self.output, re.M)
                assert found, self.output
                return found.group(1)
            time.sleep(0.1)
        raise AssertionError(f"harness up did not get ready:\n{self.output}")

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def finish(self, sig: signal.Signals, timeout_s: float = 60) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout_s)
        self.close()
        return code



@pytest.fixture
def ups() -> Iterator[list[Up]]:
    started: list[Up] = []
    yield started
    for up in started:  # a failed test must not leave a stack behind either
        if up.proc.poll() is None:
            up.finish(signal.SIGINT)
        up.close()


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HARNESS, *args], env=env, text=True, capture_output=True, timeout=120, check=False
    )


@pytest.mark.parametrize("arch", ["legacy", "modern"])
def test_ctrl_c_stops_every_process(arch: str, env: dict[str, str], ups: list[Up]) -> None:
    up = Up(arch, env)
    ups.append(up)
    url = up.wait_ready()
    assert requests.get(f"{url}/ready", timeout=10).status_code == 200
    procs = up.descendants()
    assert len(procs) >= 6, "expected the stack's processes to be children of harness"
    list_out = _run(env, "list")
    assert f"running: {arch}-" in list_out.stdout
    assert url in list_out.stdout

    assert up.finish(signal.SIGINT) == 0
    assert still_alive(procs) == []
    assert processes_under(Path(env["HARNESS_STATE_DIR"])) == []
    assert "stopped the" in up.output


def test_sigkill_then_a_new_start_cleans_up_the_dead_run(
    env: dict[str, str], ups: list[Up]
) -> None:
    first = Up("legacy", env)
    ups.append(first)
    first.wait_ready()
    orphans = first.descendants()
    first.finish(signal.SIGKILL)

    second = Up("legacy", env)
    ups.append(second)
    second.wait_ready()
    assert still_alive(orphans) == []
    assert second.finish(signal.SIGINT) == 0
    assert processes_under(Path(env["HARNESS_STATE_DIR"])) == []


def test_harness_down_stops_a_stack_started_elsewhere(env: dict[str, str], ups: list[Up]) -> None:
    up = Up("legacy", env)
    ups.append(up)
    up.wait_ready()
    procs = up.descendants()
    down = _run(env, "down")
    assert down.returncode == 0, down.stderr
    assert up.proc.wait(timeout=60) == 0
    up.close()
    assert still_alive(procs) == []


def _one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("harness: error: ")
    for needle in needles:
        assert needle in lines[0]


def test_busy_port_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run(env, "up", "legacy", "--port", str(port))
    _one_line_error(result, f"port {port}", "already in use")
    assert processes_under(Path(env["HARNESS_STATE_DIR"])) == []


def test_corrupt_profile_is_one_line_and_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("name: broken\ndescription: x\nload_balancer: {style: nlb}\n")
    result = _run(env, "up", str(profile))
    _one_line_error(result, str(profile), "load_balancer.")
    assert not (Path(env["HARNESS_STATE_DIR"]) / "stacks").exists()


def test_missing_system_package_names_the_install_command(env: dict[str, str]) -> None:
    # /usr/sbin holds mariadbd, haproxy, nginx and php-fpm: hide it as a fresh machine would
    result = _run({**env, "PATH": "/usr/bin:/bin"}, "up", "legacy")
    _one_line_error(result, "mariadbd", "apt-get install -y mariadb-server haproxy")
    assert not (Path(env["HARNESS_STATE_DIR"]) / "stacks").exists()


def test_bad_flag_value_is_exit_2(env: dict[str, str]) -> None:
    result = _run(env, "up", "modern", "--time-scale", "0")
    _one_line_error(result, "time scale 0 is out of range")
