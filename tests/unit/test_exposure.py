"""The exposure helpers of the tests (tests/support/exposure.py) can fail.

A listener on every interface in a watched process's child is reported, one on
loopback is seen but not reported; a file holding a secret is reported.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support.exposure import (
    STACK_SECRETS,
    Listener,
    ListenerWatch,
    beyond_loopback,
    secrets_in,
)

# binds a socket (argv: host, "tcp"|"udp"), prints its port, then waits to be killed
_BIND = """
import socket, sys, time
kind = socket.SOCK_STREAM if sys.argv[2] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
s.bind((sys.argv[1], 0))
if kind == socket.SOCK_STREAM:
    s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(120)
"""


class _Parent:
    """A shell whose child binds the socket: the watch must look below the pid it is given."""

    def __init__(self, host: str, protocol: str, cwd: Path | None = None) -> None:
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", f'"{sys.executable}" -c "$0" "$1" "$2"; :', _BIND, host,
             protocol],
            stdout=subprocess.PIPE, text=True, cwd=cwd,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def close(self) -> None:
        for child in psutil.Process(self.proc.pid).children(recursive=True):
            child.kill()
        self.proc.kill()
        self.proc.wait()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def spawn() -> Iterator[list[_Parent]]:
    made: list[_Parent] = []
    yield made
    for parent in made:
        parent.close()


def _seen(watch: ListenerWatch, port: int, timeout_s: float = 10) -> list[Listener]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [item for item in watch.listeners if item.port == port]
        if found:
            return found
        time.sleep(0.05)
    return []


def test_a_tcp_listener_on_every_interface_in_a_child_is_reported(
        spawn: list[_Parent]) -> None:
    spawn.append(parent := _Parent("0.0.0.0", "tcp"))
    with ListenerWatch(pid=parent.proc.pid, interval_s=0.05) as watch:
        seen = _seen(watch, parent.port)
    assert [(x.address, x.protocol) for x in seen] == [("0.0.0.0", "tcp")]
    assert seen[0].process.startswith("python")
    assert beyond_loopback(watch.listeners) == seen


def test_a_udp_socket_on_every_interface_is_reported(spawn: list[_Parent]) -> None:
    spawn.append(parent := _Parent("0.0.0.0", "udp"))
    with ListenerWatch(pid=parent.proc.pid, interval_s=0.05) as watch:
        seen = _seen(watch, parent.port)
    assert [x.protocol for x in beyond_loopback(seen)] == ["udp"]


def test_a_listener_on_loopback_is_seen_but_not_reported(spawn: list[_Parent]) -> None:
    spawn.append(parent := _Parent("127.0.0.1", "tcp"))
    with ListenerWatch(pid=parent.proc.pid, interval_s=0.05) as watch:
        seen = _seen(watch, parent.port)
    assert [x.address for x in seen] == ["127.0.0.1"]
    assert beyond_loopback(watch.listeners) == []


def test_the_watch_finds_processes_by_their_work_dir(spawn: list[_Parent], tmp_path: Path
                                                     ) -> None:
    spawn.append(parent := _Parent("0.0.0.0", "tcp", cwd=tmp_path))
    with ListenerWatch(workdir=tmp_path, interval_s=0.05) as watch:
        seen = _seen(watch, parent.port)
    assert beyond_loopback(seen) == seen != []


@pytest.mark.parametrize(("address", "reported"), [
    ("::", True), ("192.0.2.7", True), ("::1", False), ("::ffff:127.0.0.1", False),
    ("127.0.0.53", False),
])
def test_only_loopback_addresses_pass(address: str, reported: bool) -> None:
    listener = Listener(address, 4566, "tcp", "python3", 1, "python3 -m localstack")
    assert beyond_loopback([listener]) == ([listener] if reported else [])


def test_a_file_holding_a_secret_is_reported(tmp_path: Path) -> None:
    (tmp_path / "logs" / "modern").mkdir(parents=True)
    leaked = tmp_path / "logs" / "modern" / "app-1.log"
    leaked.write_text(f"starting with AWS_SECRET_ACCESS_KEY={STACK_SECRETS[1]}\n")
    (tmp_path / "run.json").write_text('{"status": "complete"}')
    assert secrets_in(tmp_path, STACK_SECRETS) == [(leaked, STACK_SECRETS[1])]


def test_a_results_folder_without_secrets_reports_nothing(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text('{"status": "complete"}')
    assert secrets_in(tmp_path, [*STACK_SECRETS, ""]) == []
