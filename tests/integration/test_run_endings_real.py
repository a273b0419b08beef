"""A real `harness run`'s INCOMPLETE says how it ended: killed, interrupted, killed while
writing what was measured (#24).

SIGKILL during the load: the run's watchdog writes `ended: owner pid N gone ...: killed
without warning (...)` at once. SIGTERM during the load: `stopping since ... by SIGTERM`
at once, then `interrupted at ... by SIGTERM: ...` once what was measured is written;
a SIGKILL in between leaves `killed before it had written what was measured`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.records.marker import KILLED, KILLED_STOPPING, MARKER, boot_id
from harness.runtime import cgroups
from tests.support.cli_process import LegacySmoke

pytestmark = pytest.mark.integration

#: the watchdog marks the folder within a moment of the kill; generous on a busy machine
MARKED_S = 30.0


class _Run(LegacySmoke):
    """The smoke run, and its INCOMPLETE as it changes."""

    def marker(self) -> str:
        """The run's INCOMPLETE now ("" before the folder or between writes)."""
        folders = list(self.out.iterdir()) if self.out.is_dir() else []
        try:
            return (folders[0] / MARKER).read_text().strip() if folders else ""
        except FileNotFoundError:
            return ""

    def marker_until(self, start: str, timeout_s: float = MARKED_S, poll_s: float = 0.05) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self.marker()
            if text.startswith(start):
                return text
            time.sleep(poll_s)
        raise AssertionError(f"INCOMPLETE never began {start!r}: {self.marker()!r}\n{self.output}")

    def into_the_load(self) -> None:
        self.wait_for("load for", timeout_s=180)
        time.sleep(2)
        assert self.proc.poll() is None, self.output


def test_sigkill_during_the_load_reads_killed_without_warning(short_tmp: Path, tmp_path: Path
                                                              ) -> None:
    run = _Run(short_tmp, tmp_path / "out")
    try:
        run.into_the_load()
        running = run.marker()
        assert running.startswith("running since ")
        assert running.endswith(f"(pid {run.proc.pid}, boot {boot_id()})")

        run.proc.send_signal(signal.SIGKILL)
        run.proc.wait()

        text = run.marker_until("ended:")
    finally:
        run.close()
    assert text.startswith(f"ended: owner pid {run.proc.pid} gone, found at "), text
    assert f"({running}): {KILLED}" in text, text
    assert "; its watchdog killed: " in text  # the load and the stack, named after the ending


def test_sigterm_during_the_load_reads_interrupted(short_tmp: Path, tmp_path: Path) -> None:
    run = _Run(short_tmp, tmp_path / "out")
    try:
        run.into_the_load()
        run.proc.send_signal(signal.SIGTERM)
        # at once, before the stack comes down (seconds) and the analysis runs
        stopping = run.marker_until("stopping since ", timeout_s=10, poll_s=0.02)
        assert run.proc.wait(timeout=180) == 2, run.output
    finally:
        run.close()
    assert stopping.endswith(f" by SIGTERM (pid {run.proc.pid}, boot {boot_id()}): writing "
                             "what was measured"), stopping
    text = run.marker()
    assert text.startswith("interrupted at "), text
    assert " by SIGTERM: legacy: " in text, text
    assert "interrupted by SIGTERM: writing what was measured" in run.output


def test_sigkill_after_sigterm_reads_killed_before_it_had_written(short_tmp: Path,
                                                                  tmp_path: Path) -> None:
    run = _Run(short_tmp, tmp_path / "out")
    try:
        run.into_the_load()
        run.proc.send_signal(signal.SIGTERM)
        stopping = run.marker_until("stopping since ", timeout_s=10, poll_s=0.02)
        run.proc.send_signal(signal.SIGKILL)
        run.proc.wait()

        text = run.marker_until("ended:")
    finally:
        run.close()
    assert text.startswith(f"ended: owner pid {run.proc.pid} gone, found at "), text
    assert f"({stopping}): {KILLED_STOPPING}" in text, text
    assert "without warning" not in text


# -- a real OOM kill in a memory cgroup of the test's own (cgroup v1) ----------------------

OOM_OWNER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from harness.records.marker import mark_running
    from harness.runtime import watchdog

    folder = Path(sys.argv[1])
    mark_running(folder)
    watchdog.guard("results", folder)  # its watchdog starts here, in this cgroup
    print("ready", flush=True)
    sys.stdin.readline()
    hog = []
    while True:  # pages written, so charged to the cgroup at once
        hog.append(b"x" * (4 << 20))
""")
#: the owner's cgroup limit: a Python process and its watchdog fit, the hog does not
OOM_LIMIT_B = 160 << 20


@pytest.fixture
def memory_cgroup() -> Iterator[Path]:
    """A v1 memory cgroup under this test's own, limited, without swap; removed after."""
    own = cgroups.controller_file(os.getpid(), "memory", "memory.limit_in_bytes")
    if own is None or not os.access(own.parent, os.W_OK):
        pytest.skip("needs a writable cgroup v1 memory hierarchy (root on a v1 machine)")
    cgroup = own.parent / f"harness-oom-test-{os.getpid()}"
    cgroup.mkdir()
    try:
        (cgroup / "memory.limit_in_bytes").write_text(str(OOM_LIMIT_B))
        with contextlib.suppress(OSError):  # no swap accounting: nothing to limit
            (cgroup / "memory.memsw.limit_in_bytes").write_text(str(OOM_LIMIT_B))
        yield cgroup
    finally:
        for pid in (cgroup / "cgroup.procs").read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while (cgroup / "cgroup.procs").read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.1)
        cgroup.rmdir()


def test_an_owner_the_oom_killer_took_reads_most_likely_oom(memory_cgroup: Path,
                                                           tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    procs = memory_cgroup / "cgroup.procs"
    owner = subprocess.Popen(
        [sys.executable, "-c", OOM_OWNER, str(folder)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, preexec_fn=lambda: cgroups.join([procs]))
    assert owner.stdin is not None
    assert owner.stdout is not None
    try:
        assert owner.stdout.readline().strip() == "ready"
        control = memory_cgroup / "memory.oom_control"
        assert cgroups.oom_kills(control) == 0
        time.sleep(1.5)  # the watchdog reads the count while its owner runs
        owner.stdin.write("go\n")
        owner.stdin.flush()
        assert owner.wait(timeout=60) == -signal.SIGKILL
        text = (folder / MARKER).read_text().strip()
        deadline = time.monotonic() + MARKED_S
        while not text.startswith("ended:") and time.monotonic() < deadline:
            time.sleep(0.05)
            text = (folder / MARKER).read_text().strip()
    finally:
        if owner.poll() is None:
            owner.kill()
        owner.wait()
        owner.stdin.close()
        owner.stdout.close()
    assert text.startswith(f"ended: owner pid {owner.pid} gone, found at "), text
    assert text.endswith(": killed without warning, most likely by the kernel's OOM killer: "
                         f"oom_kill in {control} went from 0 to 1"), text
