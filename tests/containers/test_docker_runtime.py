"""The Docker runtime against a real engine: start, limits, pause, kill, close, crash cleanup.

Components are Toxiproxy servers from the stack's own image (harness/toxiproxy, built
by `make docker-setup`): small, fast, and with an HTTP endpoint to wait on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import psutil
import pytest
from testcontainers.core.container import DockerContainer

from harness.runtime import docker as dockerrt
from harness.runtime.base import ComponentSpec, Limits, ProcessSpec
from harness.runtime.ports import PortAllocator
from harness.runtime.wait import HttpOk
from tests.support.docker_objects import objects

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.alone,
              pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "harness/toxiproxy:latest"
IMAGES = {"toxiproxy": IMAGE}


def toxiproxy(name: str, port: int, limits: Limits | None = None) -> ComponentSpec:
    return ComponentSpec(
        name=name, kind="toxiproxy",
        processes=(ProcessSpec("toxiproxy-server", (
            "/usr/local/bin/toxiproxy-server", "-host", "127.0.0.1", "-port", str(port),
        )),),
        ready=HttpOk(f"http://127.0.0.1:{port}/version"), ready_timeout_s=20, stop_grace_s=1,
        limits=limits,
    )


def run_objects(client: docker.DockerClient, run_id: str) -> list[str]:
    return objects(client, {"label": f"{dockerrt.LABEL_RUN}={run_id}"})


@pytest.fixture
def client(docker_engine: str) -> docker.DockerClient:
    c = dockerrt.connect()
    if not c.images.list(name="harness/toxiproxy"):
        pytest.fail(f"{IMAGE} is missing; run `make docker-setup`")
    return c


@pytest.fixture
def runtime(client: docker.DockerClient, tmp_path: Path) -> Iterator[dockerrt.DockerRuntime]:
    rt = dockerrt.DockerRuntime(
        run_id=f"test-{uuid.uuid4().hex[:8]}", images=IMAGES, log_dir=tmp_path, client=client,
    )
    yield rt
    rt.close()


def test_component_is_ready_on_loopback_with_docker_limits(
    runtime: dockerrt.DockerRuntime, client: docker.DockerClient,
) -> None:
    port = PortAllocator().take()
    runtime.start(toxiproxy("toxi", port, Limits(cpus=0.5, memory_mb=256)))
    assert runtime.is_running("toxi")
    assert runtime.components() == ["toxi"]
    attrs = client.containers.get(f"harness-{runtime.run_id}-toxi").attrs
    # 0.5 vCPU at the period both runtimes share (cgroups.CFS_PERIOD_US)
    assert (attrs["HostConfig"]["CpuPeriod"], attrs["HostConfig"]["CpuQuota"]) == (20_000, 10_000)
    assert attrs["HostConfig"]["Memory"] == 256 * 1024 * 1024
    assert attrs["Config"]["Labels"][dockerrt.LABEL_RUN] == runtime.run_id
    assert attrs["Config"]["Labels"][dockerrt.LABEL_OWNER_PID] == str(os.getpid())


def test_pause_freezes_the_component_and_resume_thaws_it(runtime: dockerrt.DockerRuntime) -> None:
    port = PortAllocator().take()
    runtime.start(toxiproxy("toxi", port))
    ready = HttpOk(f"http://127.0.0.1:{port}/version")
    runtime.pause("toxi")
    assert ready.check() is not None, "a paused container answered"
    assert runtime.is_running("toxi"), "paused is alive, as a SIGSTOPped process"
    runtime.resume("toxi")
    assert ready.check() is None


def test_kill_stops_the_component_and_a_restart_takes_its_name(
    runtime: dockerrt.DockerRuntime,
) -> None:
    port = PortAllocator().take()
    spec = toxiproxy("toxi", port)
    runtime.start(spec)
    runtime.kill("toxi")
    assert not runtime.is_running("toxi")
    assert runtime.components() == []
    runtime.start(spec)  # an ECS replacement: a new container under the same name
    assert runtime.is_running("toxi")


def test_a_component_that_dies_before_ready_fails_with_its_log(
    runtime: dockerrt.DockerRuntime,
) -> None:
    spec = ComponentSpec(
        name="broken", kind="toxiproxy",
        processes=(ProcessSpec("sh", ("/bin/sh", "-c", "echo no config here >&2; exit 3")),),
        ready=HttpOk("http://127.0.0.1:1/"), ready_timeout_s=10,
    )
    with pytest.raises(dockerrt.StackError, match="broken exited before it was ready") as info:
        runtime.start(spec)
    assert "no config here" in info.value.log_tail


def test_close_removes_every_object_of_the_run(
    runtime: dockerrt.DockerRuntime, client: docker.DockerClient,
) -> None:
    ports = PortAllocator()
    runtime.start_many([toxiproxy("a", ports.take()), toxiproxy("b", ports.take())])
    runtime.pause("b")
    client.networks.create(f"net-{runtime.run_id}", labels={dockerrt.LABEL_RUN: runtime.run_id})
    assert len(run_objects(client, runtime.run_id)) == 3
    runtime.close()
    assert run_objects(client, runtime.run_id) == []
    runtime.close()  # idempotent


_CRASHING_OWNER = """
import sys
from pathlib import Path
from harness.runtime import docker as d
from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.wait import HttpOk
port = int(sys.argv[2])
rt = d.DockerRuntime(run_id=sys.argv[1], images={"toxiproxy": sys.argv[4]},
                     log_dir=Path(sys.argv[3]))
rt.start(ComponentSpec(name="toxi", kind="toxiproxy", processes=(ProcessSpec("t", (
    "/usr/local/bin/toxiproxy-server", "-host", "127.0.0.1", "-port", str(port))),),
    ready=HttpOk(f"http://127.0.0.1:{port}/version")))
rt.client.volumes.create(f"vol-{sys.argv[1]}",
                         labels={d.LABEL_RUN: sys.argv[1], **d.owner_labels()})
print("started", flush=True)
sys.stdin.read()
"""


def _kill_watchdogs_of(owner: int) -> None:
    """SIGKILL the harness watchdog (harness.runtime.watchdog) guarding `owner`."""
    for proc in psutil.process_iter(["cmdline"]):
        argv = proc.info["cmdline"] or []
        if "harness.runtime.watchdog" in argv and str(owner) in argv:
            proc.kill()
            proc.wait(timeout=10)


def test_cleanup_removes_what_a_killed_run_left_and_keeps_live_runs(
    runtime: dockerrt.DockerRuntime, client: docker.DockerClient, tmp_path: Path,
) -> None:
    crashed = f"crashed-{uuid.uuid4().hex[:8]}"
    with subprocess.Popen(
        [sys.executable, "-c", _CRASHING_OWNER, crashed, str(PortAllocator().take()),
         str(tmp_path), IMAGE],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as owner:
        try:
            assert owner.stdout is not None
            assert owner.stdout.readline().strip() == "started"
            assert len(run_objects(client, crashed)) == 2
            # its watchdog would remove the run at once (test_docker_stack shows that); here
            # it is gone too, as after a machine's OOM killer took both: the next command's
            # cleanup is what is under test
            _kill_watchdogs_of(owner.pid)
            os.kill(owner.pid, signal.SIGKILL)  # kill -9 mid-run: no close(), no cleanup
            owner.wait(timeout=10)
        finally:
            owner.kill()
    # a leftover of an older crash, made by another tool: its owner never existed
    older = f"older-{uuid.uuid4().hex[:8]}"
    leftover = DockerContainer(IMAGE).with_command("-port 1").with_kwargs(labels={
        dockerrt.LABEL_RUN: older, dockerrt.LABEL_OWNER_PID: "999999999",
        dockerrt.LABEL_OWNER_START: "0",
    })
    leftover.start()
    # this process's own run is alive and must survive the cleanup
    runtime.start(toxiproxy("live", PortAllocator().take()))

    removed = dockerrt.cleanup_stale(client)

    assert {crashed, older} <= set(removed)
    assert runtime.run_id not in removed
    assert run_objects(client, crashed) == []
    assert run_objects(client, older) == []
    assert runtime.is_running("live")
