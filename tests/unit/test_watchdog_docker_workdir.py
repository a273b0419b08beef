"""A killed docker run's watchdog leaves neither host process nor work dir behind.

A docker stack's start runs programs on the host (mariadb-install-db fills each
database's datadir in the stack's work dir) and its containers mount that work dir.
So the watchdog guards the work dir with the run: it kills the stack's host processes
(registry.kill_stack) first, else one rewrites the work dir once it is gone; then it
removes the containers; then the work dir, whether or not an engine answered.

The "installer" here is a shell that names the datadir in its argv, as
mariadb-install-db does, and recreates the datadir while it lives.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from harness.errors import EnvironmentProblem
from harness.runtime import docker_engine, registry, watchdog
from harness.runtime.docker import DockerRuntime

RUN = "modern-wd-1"
#: stands in for mariadb-install-db: names the datadir, and writes there while it lives
INSTALLER = 'while :; do mkdir -p "$1" && touch "$1/ibdata1"; sleep 0.1; done'


def _until(check: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _claimed_workdir(state: Path) -> Path:
    workdir = state / "stacks" / RUN
    workdir.mkdir(parents=True)
    registry.Registry(workdir).claim({"arch": "modern", "stack_id": RUN, "command": "run"})
    return workdir


@pytest.fixture
def strays() -> Iterator[list[int]]:
    """PIDs a test started: killed at the end, whatever the test found."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_the_installer_dies_before_the_containers_go_and_the_work_dir_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, strays: list[int],
) -> None:
    workdir = _claimed_workdir(tmp_path)
    datadir = workdir / "db-writer" / "data"
    installer = subprocess.Popen(["sh", "-c", INSTALLER, "sh", str(datadir)])
    strays.append(installer.pid)
    assert _until(lambda: (datadir / "ibdata1").exists())
    seen: dict[str, bool] = {}

    def remove_run(client: object, run_id: str) -> int:
        assert run_id == RUN
        installer.poll()  # reap it: a zombie of ours would look alive to kill()
        seen["installer dead"] = _gone(installer.pid)
        seen["work dir there"] = workdir.is_dir()
        return 9

    monkeypatch.setattr(docker_engine, "reachable", lambda: _Closable())
    monkeypatch.setattr(docker_engine, "remove_run", remove_run)

    done = watchdog.clean({("docker", RUN): {"workdir": str(workdir)}}, owner_pid=1)

    assert seen == {"installer dead": True, "work dir there": True}
    assert not workdir.exists()
    time.sleep(0.3)  # the installer, had it lived, would have made the datadir again
    assert not workdir.exists()
    assert re.fullmatch(rf"docker run {RUN}: [1-9]\d* processes, 9 objects", done[0]), done


def test_the_work_dir_goes_even_when_no_engine_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, strays: list[int],
) -> None:
    workdir = _claimed_workdir(tmp_path)
    installer = subprocess.Popen(["sh", "-c", INSTALLER, "sh", str(workdir / "db" / "data")])
    strays.append(installer.pid)
    monkeypatch.setattr(docker_engine, "reachable", lambda: None)

    done = watchdog.clean({("docker", RUN): {"workdir": str(workdir)}}, owner_pid=1)

    assert re.fullmatch(rf"docker run {RUN}: [1-9]\d* processes, no engine answers",
                        done[0]), done
    installer.wait(timeout=10)
    assert not workdir.exists()


def test_a_failed_container_removal_still_removes_the_work_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    workdir = _claimed_workdir(tmp_path)

    def remove_run(client: object, run_id: str) -> int:
        raise EnvironmentProblem("docker run x: 1 containers still there")

    monkeypatch.setattr(docker_engine, "reachable", lambda: _Closable())
    monkeypatch.setattr(docker_engine, "remove_run", remove_run)
    done = watchdog.clean({("docker", RUN): {"workdir": str(workdir)}}, owner_pid=1)
    assert "still there" in done[0]
    assert not workdir.exists()


def test_a_folder_that_is_no_stacks_own_is_neither_searched_nor_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # not claimed (no owner.json): not a work dir, whatever the watchdog was told
    folder = tmp_path / "stacks" / RUN
    folder.mkdir(parents=True)
    (folder / "keep").write_text("x")
    monkeypatch.setattr(docker_engine, "reachable", lambda: None)
    watchdog.clean({("docker", RUN): {"workdir": str(folder)}}, owner_pid=1)
    assert (folder / "keep").exists()


class _Closable:
    """A client the watchdog closes; remove_run is faked."""

    def close(self) -> None:
        pass


class _EmptyEngine:
    """A client with no container, network or volume."""

    class _None:
        def list(self, **kwargs: Any) -> list[Any]:
            return []

    def __init__(self) -> None:
        self.containers = self.networks = self.volumes = self._None()


def test_the_docker_runtime_guards_its_work_dir_and_removes_it_before_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    workdir = _claimed_workdir(tmp_path)
    told: list[tuple[str, str, str, dict[str, str]]] = []
    monkeypatch.setattr(watchdog, "guard", lambda kind, key, **extra: told.append(
        ("guard", kind, str(key), extra)))
    monkeypatch.setattr(watchdog, "release", lambda kind, key: told.append(
        ("release", kind, str(key), {"work dir there": str(workdir.exists())})))
    runtime = DockerRuntime(run_id=RUN, images={}, log_dir=tmp_path / "logs",
                            mounts=(workdir,), workdir=workdir,
                            client=_EmptyEngine())
    assert told == [("guard", "docker", RUN, {"workdir": str(workdir)})]
    runtime.close()
    # removed while still guarded: a harness killed halfway leaves it to the watchdog
    assert told[1:] == [("release", "docker", RUN, {"work dir there": "False"})]


OWNER = textwrap.dedent("""
    import json, subprocess, sys, time
    from pathlib import Path
    from harness.runtime import registry, watchdog

    workdir = Path(sys.argv[1])
    workdir.mkdir(parents=True)
    registry.Registry(workdir).claim({"arch": "modern", "stack_id": workdir.name})
    watchdog.guard("docker", workdir.name, workdir=str(workdir))
    # as Stack.start runs mariadb-install-db: a plain child, in the owner's own group
    installer = subprocess.Popen(["sh", "-c", sys.argv[2], "sh", str(workdir / "db" / "data")])
    while not (workdir / "db" / "data" / "ibdata1").exists():
        time.sleep(0.01)
    print(json.dumps({"installer": installer.pid}), flush=True)
    time.sleep(300)
""")


def test_a_sigkilled_owners_watchdog_kills_its_installer_and_removes_its_work_dir(
    tmp_path: Path, strays: list[int],
) -> None:
    """The whole path: a real owner process, its real watchdog, no engine answering."""
    workdir = tmp_path / "stacks" / RUN
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    with subprocess.Popen([sys.executable, "-c", OWNER, str(workdir), INSTALLER],
                          stdout=subprocess.PIPE, text=True, env=env) as owner:
        assert owner.stdout is not None
        installer = int(json.loads(owner.stdout.readline())["installer"])
        strays.append(installer)
        owner.kill()
        owner.wait()
    assert _until(lambda: _gone(installer)), "the installer outlived its harness"
    assert _until(lambda: not workdir.exists()), sorted(map(str, workdir.rglob("*")))
    time.sleep(0.5)  # nothing makes it again
    assert not workdir.exists()
