"""How a run ended, as its INCOMPLETE marker says once the owner is found gone (#24).

The marker's words for each ending (killed while running, killed while writing what
was measured, the OOM killer's count rising, a restart), markers from before boot ids,
the owner's memory cgroup found from a fake /proc, and SIGHUP handled like SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from harness.interrupts import caught, interrupts
from harness.records import marker
from harness.records.marker import (
    KILLED,
    KILLED_STOPPING,
    MARKER,
    ending,
    mark_ended,
    mark_owner_gone,
    mark_running,
    mark_stopping,
    read_in_progress,
)
from harness.runtime import cgroups, watchdog

BOOT = "11111111-2222-3333-4444-555555555555"
OTHER_BOOT = "99999999-8888-7777-6666-555555555555"


@pytest.fixture
def boot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This "machine's" boot id, in a file a test may change (a restart)."""
    path = tmp_path / "boot_id"
    path.write_text(BOOT + "\n")
    monkeypatch.setattr(marker, "BOOT_ID", path)
    return path


def _folder(tmp_path: Path, text: str | None = None) -> Path:
    folder = tmp_path / "run"
    folder.mkdir(exist_ok=True)
    if text is not None:
        (folder / MARKER).write_text(text + "\n")
    return folder


def _marker(folder: Path) -> str:
    return (folder / MARKER).read_text().strip()


# -- the marker's words ----------------------------------------------------------------


def test_a_running_marker_names_the_pid_and_the_boot(tmp_path: Path, boot: Path) -> None:
    folder = _folder(tmp_path)
    mark_running(folder)
    text = _marker(folder)
    assert text.startswith("running since ")
    assert text.endswith(f"(pid {os.getpid()}, boot {BOOT})")
    found = read_in_progress(text)
    assert found is not None
    assert found.boot == BOOT
    assert not found.stopping
    assert found.since is not None
    assert abs(found.since.timestamp() - time.time()) < 600


def test_an_owner_killed_while_running_was_killed_without_warning(tmp_path: Path, boot: Path
                                                                  ) -> None:
    folder = _folder(tmp_path)
    mark_running(folder)
    before = _marker(folder)

    assert mark_owner_gone(folder, 4242)

    text = _marker(folder)
    assert text.startswith("ended: owner pid 4242 gone, found at ")
    assert f"({before}): {KILLED}" in text
    assert "SIGKILL or the kernel's OOM killer; the harness could not record which" in text


def test_the_watchdogs_detail_follows_the_ending(tmp_path: Path, boot: Path) -> None:
    folder = _folder(tmp_path)
    mark_running(folder)
    mark_owner_gone(folder, 7, "its watchdog killed: stack legacy-1: 3 processes")
    assert _marker(folder).endswith(f"{KILLED}; its watchdog killed: stack legacy-1: 3 processes")


def test_an_owner_killed_while_writing_what_was_measured(tmp_path: Path, boot: Path) -> None:
    folder = _folder(tmp_path)
    mark_stopping(folder, "SIGTERM")
    before = _marker(folder)
    assert before.startswith("stopping since ")
    assert before.endswith(f"by SIGTERM (pid {os.getpid()}, boot {BOOT}): writing what was "
                           "measured")

    assert mark_owner_gone(folder, os.getpid())

    text = _marker(folder)
    assert text.startswith(f"ended: owner pid {os.getpid()} gone, found at ")
    assert text.endswith(f"({before}): {KILLED_STOPPING}")
    assert "without warning" not in text


def test_a_rising_oom_count_names_the_oom_killer(tmp_path: Path, boot: Path) -> None:
    folder = _folder(tmp_path)
    mark_running(folder)
    oom = "oom_kill in /sys/fs/cgroup/memory/x/memory.oom_control went from 0 to 1"

    mark_owner_gone(folder, 9, oom=oom)

    text = _marker(folder)
    assert text.endswith(
        f"): killed without warning, most likely by the kernel's OOM killer: {oom}")
    assert KILLED not in text


def test_a_changed_boot_id_says_the_machine_restarted(tmp_path: Path, boot: Path) -> None:
    folder = _folder(tmp_path)
    mark_running(folder)
    before = _marker(folder)
    boot.write_text(OTHER_BOOT + "\n")  # the machine came back up

    mark_owner_gone(folder, 5, oom="oom_kill in f went from 0 to 1")

    text = _marker(folder)
    assert text.startswith(f"ended: the machine restarted (boot id changed from {BOOT} to "
                           f"{OTHER_BOOT}); owner pid 5 gone, found at ")
    assert text.endswith(f"({before})")
    assert "killed" not in text  # an OOM count read on another boot says nothing


def test_a_marker_that_says_how_the_run_ended_is_left_as_is(tmp_path: Path, boot: Path) -> None:
    folder = _folder(tmp_path)
    mark_ended(folder, "interrupted", "legacy: 3 of 9 s of load measured", by="SIGHUP")
    before = _marker(folder)
    assert not mark_owner_gone(folder, 3)
    assert _marker(folder) == before
    assert not mark_owner_gone(tmp_path / "no-such-folder", 3)


# -- markers from before boot ids ------------------------------------------------------


def _at(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


@pytest.mark.parametrize(("since", "booted", "expected"), [
    # started after this boot: the same boot, killed without warning
    ("2026-12-06T10:00:00+00:00", "2026-12-06T09:00:00+00:00", f"(pid 7)): {KILLED}"),
    # started before this boot: the machine restarted since
    ("2026-12-06T10:00:00+00:00", "2026-12-06T11:00:00+00:00",
     "ended: the machine restarted (it booted at 2026-12-06T11:00:00+00:00, after the run "
     "began); owner pid 7 gone"),
])
def test_an_old_marker_without_a_boot_id_is_judged_by_its_start(since: str, booted: str,
                                                                expected: str) -> None:
    found = read_in_progress(f"running since {since} (pid 7)\n")
    assert found is not None
    assert found.boot == ""
    assert found.since is not None

    text = ending(found, 7, "2026-12-06T12:00:00+00:00", boot=BOOT, booted_at=_at(booted))

    assert expected in text
    assert f"(running since {since} (pid 7))" in text


def test_an_old_marker_with_no_readable_start_says_it_is_not_known(tmp_path: Path, boot: Path
                                                                   ) -> None:
    folder = _folder(tmp_path, "running since now")
    assert mark_owner_gone(folder, 8)
    assert _marker(folder).endswith(
        "(running since now): how it ended is not known (the marker records no boot id)")


def test_an_old_marker_on_this_boot_through_mark_owner_gone(tmp_path: Path, boot: Path) -> None:
    """The clean-up path the CLI takes (registry.reap_runs -> mark_owner_gone)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    folder = _folder(tmp_path, f"running since {now} (pid 12)")
    assert mark_owner_gone(folder, 12)
    text = _marker(folder)
    assert text.startswith("ended: owner pid 12 gone, found at ")
    assert text.endswith(f"(running since {now} (pid 12)): {KILLED}")


def test_not_a_marker_in_progress() -> None:
    for text in ("interrupted at 2026-12-06T10:01:00+00:00 by SIGTERM: x", "crashed at t: y",
                 "ended: owner pid 3 gone, found at t (running since t (pid 3))", ""):
        assert read_in_progress(text) is None, text


# -- the owner's memory cgroup -----------------------------------------------------------

V1_CONTROL = "oom_kill_disable 0\nunder_oom 0\noom_kill {}\n"
V2_EVENTS = "low 0\nhigh 0\nmax 3\noom 2\noom_kill {}\noom_group_kill 0\n"


def _fake_proc(tmp_path: Path, pid: int, cgroup: str, mounts: list[tuple[str, str, str, str]]
               ) -> Path:
    """/proc/<pid>/cgroup and /proc/self/mountinfo, with (root, mount point, fstype, options)."""
    proc = tmp_path / "proc"
    (proc / str(pid)).mkdir(parents=True)
    (proc / "self").mkdir()
    (proc / str(pid) / "cgroup").write_text(cgroup)
    (proc / "self" / "mountinfo").write_text("".join(
        f"{30 + i} 23 0:{40 + i} {root} {point} rw,relatime - {kind} {kind} {options}\n"
        for i, (root, point, kind, options) in enumerate(mounts)))
    return proc


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_v1_the_memory_hierarchys_oom_control(tmp_path: Path) -> None:
    cg = tmp_path / "cg"
    proc = _fake_proc(tmp_path, 123, "5:cpu,cpuacct:/\n4:memory:/process_api/abc\n0::/\n", [
        ("/", str(cg / "cpu,cpuacct"), "cgroup", "rw,cpu,cpuacct"),
        ("/", str(cg / "memory"), "cgroup", "rw,memory"),
        ("/", str(cg / "unified"), "cgroup2", "rw"),
    ])
    control = _write(cg / "memory" / "process_api" / "abc" / "memory.oom_control",
                     V1_CONTROL.format(4))
    _write(cg / "cpu,cpuacct" / "cpu.cfs_quota_us", "-1\n")

    assert cgroups.controller_file(123, "memory", "memory.oom_control", proc=proc) == control
    assert cgroups.controller_file(123, "cpu", "cpu.cfs_quota_us", proc=proc) == (
        cg / "cpu,cpuacct" / "cpu.cfs_quota_us")
    assert cgroups.oom_kill_file(123, proc=proc) == control
    assert cgroups.oom_kills(control) == 4
    # gone, or a file the kernel does not have
    assert cgroups.controller_file(124, "memory", "memory.oom_control", proc=proc) is None
    assert cgroups.controller_file(123, "memory", "memory.nope", proc=proc) is None
    assert cgroups.controller_file(123, "pids", "pids.max", proc=proc) is None


def test_v1_a_containers_mount_shows_a_subtree(tmp_path: Path) -> None:
    """Without a cgroup namespace, /proc says /docker/abc/inner; the mount's root is /docker/abc."""
    cg = tmp_path / "cg"
    proc = _fake_proc(tmp_path, 5, "4:memory:/docker/abc/inner\n", [
        ("/docker/abc", str(cg / "memory"), "cgroup", "rw,memory"),
    ])
    control = _write(cg / "memory" / "inner" / "memory.oom_control", V1_CONTROL.format(0))
    assert cgroups.oom_kill_file(5, proc=proc) == control


def test_v2_prefers_the_cgroups_own_count(tmp_path: Path) -> None:
    cg = tmp_path / "cg"
    proc = _fake_proc(tmp_path, 77, "0::/user.slice/run.scope\n", [
        ("/", str(cg), "cgroup2", "rw,nsdelegate"),
    ])
    scope = cg / "user.slice" / "run.scope"
    _write(scope / "memory.events", V2_EVENTS.format(5))
    assert cgroups.oom_kill_file(77, proc=proc) == scope / "memory.events"
    local = _write(scope / "memory.events.local", V2_EVENTS.format(2))
    assert cgroups.oom_kill_file(77, proc=proc) == local
    assert cgroups.oom_kills(local) == 2


def test_the_oom_count_rising_as_the_owner_vanished(tmp_path: Path) -> None:
    cg = tmp_path / "cg"
    proc = _fake_proc(tmp_path, 9, "4:memory:/h\n", [("/", str(cg), "cgroup", "rw,memory")])
    control = _write(cg / "h" / "memory.oom_control", V1_CONTROL.format(3))

    oom = cgroups.OomKills(9, proc=proc)
    oom.sample()
    assert oom.rose() == ""  # nothing yet
    control.write_text(V1_CONTROL.format(4))  # the kill, a moment before the owner vanished

    assert oom.rose() == f"oom_kill in {control} went from 3 to 4"
    # a last sample that came after the kill, as the owner was exiting, hides nothing
    oom.sample()
    assert oom.rose() == f"oom_kill in {control} went from 3 to 4"


def test_an_oom_kill_well_before_the_owner_vanished_is_not_its_end(tmp_path: Path) -> None:
    cg = tmp_path / "cg"
    proc = _fake_proc(tmp_path, 9, "4:memory:/h\n", [("/", str(cg), "cgroup", "rw,memory")])
    control = _write(cg / "h" / "memory.oom_control", V1_CONTROL.format(0))
    oom = cgroups.OomKills(9, proc=proc)
    control.write_text(V1_CONTROL.format(1))  # another process of the cgroup, seconds earlier
    oom.sample()
    oom.sample()  # the owner was seen alive twice since
    assert oom.rose() == ""


def test_no_memory_cgroup_no_oom_reading(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path, 9, "0::/\n", [])
    oom = cgroups.OomKills(9, proc=proc)
    assert oom.file is None
    assert oom.rose() == ""


def test_this_process_has_a_readable_count_where_cgroups_are_mounted() -> None:
    found = cgroups.oom_kill_file(os.getpid())
    if found is None:
        pytest.skip("no memory cgroup with an oom_kill count here")
    assert found.name in cgroups.OOM_FILES
    assert cgroups.oom_kills(found) is not None


# -- the watchdog reads the count while its owner runs --------------------------------


def test_the_watchdog_says_oom_when_the_count_rose_as_its_owner_died(tmp_path: Path,
                                                                    boot: Path) -> None:
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        started = psutil.Process(owner.pid).create_time()
        cg = tmp_path / "cg"
        proc = _fake_proc(tmp_path, owner.pid, "4:memory:/h\n",
                          [("/", str(cg), "cgroup", "rw,memory")])
        control = _write(cg / "h" / "memory.oom_control", V1_CONTROL.format(0))
        folder = _folder(tmp_path)
        mark_running(folder)
        oom = cgroups.OomKills(owner.pid, proc=proc)
        read_end, write_end = os.pipe()
        os.write(write_end, (json.dumps({"op": "add", "kind": "results",
                                         "key": str(folder)}) + "\n").encode())
        held: list[dict[tuple[str, str], dict[str, str]]] = []
        watcher = threading.Thread(
            target=lambda: held.append(watchdog.watch(owner.pid, started, read_end, oom=oom)))
        watcher.start()
        time.sleep(1.5)  # the watchdog sees its owner alive and reads the count
        control.write_text(V1_CONTROL.format(1))
        owner.kill()
        owner.wait()
        os.close(write_end)
        watcher.join(timeout=30)
        assert not watcher.is_alive()
        os.close(read_end)

        watchdog.clean(held[0], owner.pid, oom=oom.rose())
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()

    text = _marker(folder)
    assert text.startswith(f"ended: owner pid {owner.pid} gone, found at ")
    assert text.endswith(": killed without warning, most likely by the kernel's OOM killer: "
                         f"oom_kill in {control} went from 0 to 1")


# -- signals -----------------------------------------------------------------------------


def _signal_self(sig: signal.Signals) -> None:
    os.kill(os.getpid(), sig)
    time.sleep(5)  # a handler that raises ends this at once


@pytest.fixture
def hup() -> Iterator[None]:
    """SIGHUP at its default for the test (a runner under `nohup` has it ignored, and an
    ignored SIGHUP stays ignored), and its handler as it was afterwards."""
    before = signal.getsignal(signal.SIGHUP)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    yield
    signal.signal(signal.SIGHUP, before)


def test_sighup_is_caught_like_sigterm_and_marks_stopping(tmp_path: Path, boot: Path,
                                                          hup: None) -> None:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    folder = _folder(tmp_path)
    mark_running(folder)
    calls: list[str] = []

    def stopping(by: str) -> None:
        calls.append(by)
        mark_stopping(folder, by)

    with interrupts(on_signal=stopping) as seen:
        assert signal.SIGHUP in caught()
        with pytest.raises(KeyboardInterrupt) as raised:
            _signal_self(signal.SIGHUP)
    assert raised.value.args == ("SIGHUP",)
    assert seen.is_set()
    assert seen.signal == "SIGHUP"
    assert calls == ["SIGHUP"]
    assert _marker(folder).startswith("stopping since ")
    assert " by SIGHUP (pid " in _marker(folder)
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL  # restored


def test_a_second_signal_does_not_mark_stopping_again(hup: None) -> None:
    calls: list[str] = []
    with interrupts(on_signal=calls.append) as seen:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with pytest.raises(KeyboardInterrupt):
                _signal_self(sig)
    assert calls == ["SIGTERM"]
    assert seen.signal == "SIGTERM"


def test_sighup_ignored_on_entry_stays_ignored(hup: None) -> None:
    """Under `nohup` the run was asked to outlive its terminal."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    calls: list[str] = []
    with interrupts(on_signal=calls.append) as seen:
        assert signal.SIGHUP not in caught()
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.2)
    assert not seen.is_set()
    assert calls == []
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
