"""The Docker runtime's `stop_state`: a paused container, a SIGSTOPped main process, and
teardown of a stopped one without waiting out its grace (a real engine, harness/toxiproxy)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.runtime import docker as dockerrt
from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.ports import PortAllocator
from harness.runtime.process_state import CGROUP_FROZEN, CONTAINER_PAUSED, PROCESS_STOPPED
from harness.runtime.wait import HttpOk

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.alone,
              pytest.mark.timeout(180)]

GRACE_S = 60


def _toxiproxy(port: int) -> ComponentSpec:
    return ComponentSpec(
        name="toxi", kind="toxiproxy",
        processes=(ProcessSpec("toxiproxy-server", (
            "/usr/local/bin/toxiproxy-server", "-host", "127.0.0.1", "-port", str(port),
        )),),
        ready=HttpOk(f"http://127.0.0.1:{port}/version"), ready_timeout_s=20,
        stop_grace_s=GRACE_S,
    )


@pytest.fixture
def runtime(docker_engine: str, tmp_path: Path) -> Iterator[dockerrt.DockerRuntime]:
    client = dockerrt.connect()
    if not client.images.list(name="harness/toxiproxy"):
        pytest.fail("harness/toxiproxy:latest is missing; run `make docker-setup`")
    rt = dockerrt.DockerRuntime(run_id=f"test-{uuid.uuid4().hex[:8]}",
                                images={"toxiproxy": "harness/toxiproxy:latest"},
                                log_dir=tmp_path, client=client)
    yield rt
    rt.close()


def _until(check: Callable[[], object], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not check() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_a_paused_container_is_held_still_and_a_resumed_one_is_not(
    runtime: dockerrt.DockerRuntime,
) -> None:
    runtime.start(_toxiproxy(PortAllocator().take()))
    assert runtime.stop_state("toxi") is None
    runtime.pause("toxi")
    try:
        _until(lambda: runtime.stop_state("toxi"))
        assert runtime.stop_state("toxi") in (CGROUP_FROZEN, CONTAINER_PAUSED)
        assert runtime.is_running("toxi")
    finally:
        runtime.resume("toxi")
    _until(lambda: runtime.stop_state("toxi") is None)
    assert runtime.stop_state("toxi") is None


def test_a_sigstopped_main_process_is_stopped_and_torn_down_at_once(
    runtime: dockerrt.DockerRuntime,
) -> None:
    runtime.start(_toxiproxy(PortAllocator().take()))
    pids = runtime.pids("toxi")
    if not pids:
        pytest.skip("the engine's PIDs are not this host's (a remote engine)")
    os.kill(pids[0], signal.SIGSTOP)
    try:
        _until(lambda: runtime.stop_state("toxi"))
        assert runtime.stop_state("toxi") == PROCESS_STOPPED
        began = time.monotonic()
        runtime.stop("toxi")
        took = time.monotonic() - began
        assert took < GRACE_S / 2, f"stop took {took:.1f} s: it waited for SIGTERM"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pids[0], signal.SIGCONT)
    assert not dockerrt.connect().containers.list(
        filters={"label": f"{dockerrt.LABEL_RUN}={runtime.run_id}"}, sparse=True)
