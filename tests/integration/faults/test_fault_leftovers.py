"""A harness killed in the middle of an active fault leaves nothing behind once started again.

Two cases: a `harness inject` drill killed with SIGKILL (the stack lives on; the
next inject undoes its faults from the journal), and the harness that owns the
stack killed (the stack dies with it; the next start reaps what is left).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from harness.runtime.registry import reap_stale
from harness.stacks.components.toxiproxy import ToxiproxyClient
from harness.stacks.stack import Stack

from .fault_support import no_toxics_left, poll, stopped_processes

pytestmark = pytest.mark.integration

HARNESS = str(Path(sys.executable).parent / "harness")


def _env(state_dir: Path) -> dict[str, str]:
    return {**os.environ, "HARNESS_STATE_DIR": str(state_dir)}


def _status(pid: int) -> str:
    try:
        return str(psutil.Process(pid).status())
    except psutil.Error:
        return "gone"


def test_a_killed_inject_is_undone_by_the_next_one(modern: Stack, state_dir: Path) -> None:
    assert modern.runtime is not None
    # the reader: no orchestrator judges its health, so it stays stopped until undone
    paused = modern.runtime.pids("db-reader")
    drills = [
        subprocess.Popen(
            [HARNESS, "inject", *args], env=_env(state_dir), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for args in (
            ["pause", "--target", "db-reader", "--duration", "5m"],
            ["latency", "--target", "app->db", "--duration", "5m", "-p", "latency_ms=50"],
        )
    ]
    toxi = ToxiproxyClient(modern.info.toxiproxy_api)
    try:
        poll(lambda: stopped_processes(paused) == paused, 20, "db-reader stopped by the drill")
        poll(lambda: bool(toxi.toxics("app_to_db")), 20, "latency toxic in place")
    finally:
        for drill in drills:
            drill.send_signal(signal.SIGKILL)
            drill.wait(10)
    # the drills died with their faults in place
    assert stopped_processes(paused) == paused
    assert no_toxics_left(modern.info.toxiproxy_api) != []

    again = subprocess.run(
        [HARNESS, "inject", "latency", "--target", "app->aws", "--duration", "200ms",
         "-p", "latency_ms=1"],
        env=_env(state_dir), capture_output=True, text=True, timeout=60, check=False,
    )
    assert again.returncode == 0, again.stderr
    assert "reverted faults left by a harness that died" in again.stderr
    assert stopped_processes(paused) == []
    assert no_toxics_left(modern.info.toxiproxy_api) == []
    assert not list(Path(modern.info.workdir).glob("faults-active-*.json"))


_OWNER = textwrap.dedent("""
    import os, sys, time
    from harness.faults.base import FaultContext
    from harness.faults.executor import FaultExecutor, plan
    from harness.runtime.events import EventLog
    from harness.scenario.faults import Topology, load_timeline
    from harness.settings import Settings
    from harness.model.profile_file import load_profile
    from harness.stacks.seed import SeedPlan
    from harness.stacks.stack import Stack

    settings = Settings.from_env(time_scale=0.1)
    stack = Stack(load_profile("modern"), settings, seed_plan=SeedPlan(products=5, events=1))
    info = stack.start()
    ctx = FaultContext(info, stack.runtime, EventLog(None))
    specs = load_timeline([
        {"type": "pause", "at": "0s", "target": "app-1"},
        {"type": "latency", "at": "0s", "target": "app->db", "latency_ms": 100},
    ], source="owner", topology=Topology.from_stack(info))
    ex = FaultExecutor(plan(specs, ctx), ctx, journal_dir=stack.workdir)
    ex.start()
    while len(ex.active) < 2:
        time.sleep(0.05)
    print(info.workdir, flush=True)
    time.sleep(600)
""")


def test_a_killed_owner_leaves_no_process_once_reaped(short_tmp: Path) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER], env=_env(short_tmp), stdout=subprocess.PIPE, text=True,
    )
    try:
        assert owner.stdout is not None
        workdir = Path(owner.stdout.readline().strip())
        assert workdir.is_dir(), "the owner did not start its stack"
        ours = [
            p for p in psutil.process_iter() if p.pid != owner.pid and _mine(p, owner.pid)
        ]
        assert any(p.status() == psutil.STATUS_STOPPED for p in ours)
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        if owner.stdout is not None:
            owner.stdout.close()
    reap_stale(short_tmp)
    left = [f"{p.pid} {_status(p.pid)}" for p in ours if _status(p.pid) not in ("gone", "zombie")]
    assert left == []
    assert not workdir.exists()


def _mine(proc: psutil.Process, owner_pid: int) -> bool:
    try:
        return any(parent.pid == owner_pid for parent in proc.parents()) or (
            proc.environ().get("HARNESS_STACK_ID", "") != ""
            and proc.ppid() in (owner_pid, 1)
        )
    except psutil.Error:
        return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_inject_reverts_its_fault_on_ctrl_c_and_sigterm(
    modern: Stack, state_dir: Path, sig: signal.Signals
) -> None:
    toxi = ToxiproxyClient(modern.info.toxiproxy_api)
    drill = subprocess.Popen(
        [HARNESS, "inject", "latency", "--target", "app->aws", "-p", "latency_ms=20"],
        env=_env(state_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        poll(lambda: bool(toxi.toxics("app_to_aws")), 20, "latency toxic in place")
        drill.send_signal(sig)
        _, stderr = drill.communicate(timeout=30)
    finally:
        if drill.poll() is None:
            drill.kill()
            drill.communicate()
    assert "reverted" in stderr, stderr
    assert no_toxics_left(modern.info.toxiproxy_api) == []
    assert not list(Path(modern.info.workdir).glob("faults-active-*.json"))
