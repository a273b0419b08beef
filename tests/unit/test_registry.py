"""A crashed harness's processes are found from its PID records and killed by the next one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from harness.runtime import registry


def _dead_owner(workdir: Path) -> None:
    """Write owner.json for a process that has exited (as after a SIGKILLed harness)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    created = psutil.Process(proc.pid).create_time()
    proc.wait()
    (workdir / "owner.json").write_text(json.dumps({"pid": proc.pid, "create_time": created}))


def _dead(proc: psutil.Process) -> bool:
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_reap_stale_kills_recorded_process_groups_and_removes_the_workdir(tmp_path: Path) -> None:
    workdir = tmp_path / "stacks" / "legacy-crashed"
    workdir.mkdir(parents=True)
    # a component that leads its own process group and has a child, like nginx
    leader = subprocess.Popen(
        ["sh", "-c", "sleep 300 & wait"], start_new_session=True
    )
    try:
        group = psutil.Process(leader.pid)
        deadline = time.monotonic() + 5
        while not group.children() and time.monotonic() < deadline:
            time.sleep(0.01)
        worker = group.children()[0]
        reg = registry.Registry(workdir)
        reg.add(registry.ProcessRecord("app-1", "nginx", leader.pid, group.create_time()))
        _dead_owner(workdir)
        assert registry.live_stacks(tmp_path) == []

        assert registry.reap_stale(tmp_path) == ["legacy-crashed"]

        assert _dead(group)
        assert _dead(worker)  # an orphan's zombie waits for init to reap it
        assert not workdir.exists()
    finally:
        if leader.poll() is None:
            leader.kill()


def test_a_live_owner_is_left_alone(tmp_path: Path) -> None:
    workdir = tmp_path / "stacks" / "modern-live"
    workdir.mkdir(parents=True)
    registry.Registry(workdir).claim({"arch": "modern"})
    assert registry.live_stacks(tmp_path) == [workdir]
    assert registry.reap_stale(tmp_path) == []
    assert workdir.exists()


def test_a_recycled_pid_is_not_killed(tmp_path: Path) -> None:
    """A record whose create_time does not match is someone else's process now."""
    workdir = tmp_path / "stacks" / "old"
    workdir.mkdir(parents=True)
    bystander = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        reg = registry.Registry(workdir)
        reg.add(registry.ProcessRecord("db", "mariadbd", bystander.pid, 1.0))
        _dead_owner(workdir)
        registry.reap_stale(tmp_path)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_parallel_launches_and_stops_all_end_up_in_pids_json(tmp_path: Path) -> None:
    """ECS replaces killed tasks in parallel: each launch and each stop writes pids.json."""
    reg = registry.Registry(tmp_path)
    threads_n, rounds = 8, 25
    for t in range(threads_n):
        reg.add(registry.ProcessRecord(f"old-{t}", "app", 1000 + t, 1.0))
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def launch(t: int) -> None:
        try:
            start.wait()
            for i in range(rounds):
                reg.add(registry.ProcessRecord(f"app-{t}", "app", t * 100 + i, 1.0))
            reg.remove(f"old-{t}")
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=launch, args=(t,)) for t in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    assert errors == []
    rows = json.loads(reg.pids_file.read_text())
    assert sorted(r["pid"] for r in rows) == sorted(
        t * 100 + i for t in range(threads_n) for i in range(rounds)
    )
    assert list(tmp_path.iterdir()) == [reg.pids_file]  # no temporary file left behind


def test_a_folder_no_harness_claimed_is_never_removed(tmp_path: Path) -> None:
    """A state dir pointed at a project (HARNESS_STATE_DIR empty: the working directory)
    must not cost it its stacks/ folder: only claimed work dirs are cleaned up."""
    profiles = tmp_path / "stacks" / "modern"
    profiles.mkdir(parents=True)
    (profiles / "profile.yaml").write_text("name: modern\n")
    reader = subprocess.Popen(["sh", "-c", "sleep 300; :", f"{profiles}/profile.yaml"],
                              start_new_session=True)
    try:
        assert registry.reap_stale(tmp_path) == []
        registry.remove_stack(profiles)
        registry.kill_stack(profiles)
        assert (profiles / "profile.yaml").exists()
        assert reader.poll() is None  # names a file in it, but it is no stack's
    finally:
        os.killpg(reader.pid, signal.SIGKILL)  # its sleep too
        reader.wait()
