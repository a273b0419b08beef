"""`harness inject` on a stack of `harness up modern --runtime docker`.

One stack for the module, started by the CLI as a user would (its own state dir, AWS
timings at time scale 0.1); each test drills it with `harness inject` from another
process and looks at the task containers through the engine: the resource faults act
inside a container's limits (its CPU quota throttles the stressor; the memory counts
in its cgroup), pause and kill reach the containers, and what a killed drill left in
place is undone by the next one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from docker.errors import NotFound
from docker.models.containers import Container

from harness.runtime import docker as dockerrt
from harness.stacks.topology import StackInfo
from tests.support.docker_objects import container_names

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.alone,
              pytest.mark.timeout(240)]

HARNESS = str(Path(sys.executable).parent / "harness")
STACK_IMAGES = ("harness/go", "harness/mariadb", "harness/localstack", "harness/haproxy",
                "harness/toxiproxy", "harness/rdsproxy")


@dataclass
class DockerStack:
    info: StackInfo
    env: dict[str, str]
    client: docker.DockerClient

    def container(self, name: str) -> Container:
        """The component's live container (a replacement has a new id under the same labels)."""
        # sparse: a replaced container may be removed while this lists them
        found = [c for c in self.client.containers.list(all=True, sparse=True, filters={"label": [
            f"{dockerrt.LABEL_RUN}={self.info.stack_id}", f"{dockerrt.LABEL_COMPONENT}={name}",
        ]}) if c.status in ("running", "paused")]
        assert len(found) == 1, (name, [(c.attrs["Names"], c.status) for c in found])
        found[0].reload()  # the whole inspection (HostConfig), not the listing's part
        return found[0]

    def inject(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([HARNESS, "inject", *args, "--stack", self.info.stack_id],
                                env=self.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)


def _poll(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout_s:g} s: {what}")
        time.sleep(0.2)


def _finish(drill: subprocess.Popen[str], timeout_s: float = 60) -> str:
    """Wait for a drill to end by itself; its stderr. A drill that fails fails the test."""
    try:
        _, stderr = drill.communicate(timeout=timeout_s)
    finally:
        if drill.poll() is None:
            drill.kill()
            drill.communicate()
    assert drill.returncode == 0, stderr
    return stderr


@pytest.fixture(scope="module")
def stack(docker_engine: str) -> Iterator[DockerStack]:
    client = dockerrt.connect()
    missing = [i for i in STACK_IMAGES if not client.images.list(name=i)]
    if missing:
        pytest.fail(f"images missing: {', '.join(missing)}; run `make docker-setup`")
    # a short state dir: the stack's Unix sockets have a 107-byte limit (settings.py)
    state = Path(tempfile.mkdtemp(prefix="hs-", dir="/tmp"))
    env = {**os.environ, "HARNESS_STATE_DIR": str(state), "COLUMNS": "200"}
    with (state / "up.log").open("w") as log:
        up = subprocess.Popen(
            [HARNESS, "up", "modern", "--runtime", "docker", "--time-scale", "0.1"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while not (infos := list(state.glob("stacks/*/stack.json"))):
            assert up.poll() is None, (state / "up.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (state / "up.log").read_text()[-3000:]
            time.sleep(0.5)
        info = StackInfo.load(infos[0])
        assert info.runtime == "docker"
        yield DockerStack(info, env, client)
    finally:
        up.send_signal(signal.SIGTERM)  # as `harness down` stops it
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
        shutil.rmtree(state, ignore_errors=True)
    assert container_names(client, {"label": f"{dockerrt.LABEL_OWNER_PID}={up.pid}"}) == [], (
        "`harness up` left containers behind")


def _status(container: Container) -> str:
    """The container's status now; "removed" once its owner removed it (a replacement)."""
    try:
        container.reload()
    except NotFound:
        return "removed"
    return str(container.status)


def _helpers(container: Container) -> list[str]:
    """The stressors running in the container (Python programs given with -c; the app is Go)."""
    if _status(container) != "running":
        return []
    rows = container.top(ps_args="-eo pid,args").get("Processes") or []
    return [row[-1] for row in rows if row[-1].startswith("python3 -c")]


def _cpu(container: Container) -> tuple[float, int, int]:
    """(when, CPU time used in ns, CPU periods throttled so far), from the engine's stats."""
    stats: dict[str, Any] = container.stats(stream=False, one_shot=True)
    cpu = stats["cpu_stats"]
    return (time.monotonic(), int(cpu["cpu_usage"]["total_usage"]),
            int(cpu.get("throttling_data", {}).get("throttled_periods", 0)))


def test_cpu_stress_is_held_to_the_task_containers_cpu_quota(stack: DockerStack) -> None:
    app = stack.container("app-1")
    host = app.attrs["HostConfig"]
    quota = int(host["CpuQuota"]) / int(host["CpuPeriod"])
    assert 0 < quota < 1, quota  # the profile's task size; two busy workers could use 2
    drill = stack.inject("cpu_stress", "--target", "app-1", "--duration", "6s",
                         "-p", "workers=2")
    _poll(lambda: len(_helpers(app)) == 2, 20, "two stress workers inside app-1's container")
    first = _cpu(app)
    time.sleep(3)
    last = _cpu(app)
    used = (last[1] - first[1]) / ((last[0] - first[0]) * 1e9)  # CPUs used on average
    throttled = last[2] - first[2]
    print(f"cpu_stress in app-1: {used:.3f} CPUs used of a {quota:g} quota, "
          f"{throttled} periods throttled")
    # in the container's cgroup: it uses its quota (an idle Go task uses ~0.01 CPU) and no
    # more; outside it, two busy loops would take most of the machine's two cores
    assert 0.5 * quota <= used <= 1.3 * quota, (used, quota)
    assert throttled >= 10, throttled
    _finish(drill)
    _poll(lambda: _helpers(app) == [], 10, "the stressors gone with the fault")


def _memory(container: Container) -> int:
    stats: dict[str, Any] = container.stats(stream=False, one_shot=True)
    return int(stats["memory_stats"]["usage"])


def test_memory_pressure_counts_against_the_task_containers_memory(stack: DockerStack) -> None:
    app = stack.container("app-2")
    assert int(app.attrs["HostConfig"]["Memory"]) >= 512 * 2**20  # room for 150 MiB more
    before = _memory(app)
    drill = stack.inject("memory_pressure", "--target", "app-2", "--duration", "6s",
                         "-p", "memory_mb=150")
    _poll(lambda: _memory(app) - before >= 140 * 2**20, 20, "150 MiB held in app-2's container")
    _finish(drill)
    _poll(lambda: _memory(app) - before < 50 * 2**20, 20, "the memory given back")


def test_pause_freezes_the_task_container_until_reverted(stack: DockerStack) -> None:
    port = stack.info.components["app-3"].port
    drill = stack.inject("pause", "--target", "app-3", "--duration", "3s")
    app = stack.container("app-3")
    _poll(lambda: _status(app) == "paused", 20, "app-3's container paused")
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(f"http://127.0.0.1:{port}/health", timeout=0.5)
    _finish(drill)
    assert _status(app) == "running"
    assert requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200


def test_a_killed_drill_is_undone_by_the_next_one(stack: DockerStack) -> None:
    # the reader: no orchestrator judges its health, so it stays paused until undone (a
    # task paused this long would be replaced by ECS once the ALB marks it unhealthy)
    drills = [
        stack.inject("pause", "--target", "db-reader", "--duration", "5m"),
        stack.inject("cpu_stress", "--target", "app-3", "--duration", "5m", "-p", "workers=1"),
    ]
    paused, stressed = stack.container("db-reader"), stack.container("app-3")
    try:
        _poll(lambda: _status(paused) == "paused", 20, "db-reader paused")
        _poll(lambda: len(_helpers(stressed)) == 1, 20, "a stress worker in app-3")
    finally:
        for drill in drills:
            drill.send_signal(signal.SIGKILL)
            drill.communicate(timeout=10)
    # the drills died with their faults in place: an exec'd stressor does not die with them
    assert _status(paused) == "paused"
    assert len(_helpers(stressed)) == 1

    stderr = _finish(stack.inject("latency", "--target", "app->aws", "--duration", "200ms",
                                  "-p", "latency_ms=1"))
    assert "reverted faults left by a harness that died" in stderr
    assert _status(paused) == "running"
    _poll(lambda: _helpers(stressed) == [], 10, "the dead drill's stressor ended")


def test_kill_crashes_the_task_container_and_ecs_replaces_it(stack: DockerStack) -> None:
    old = stack.container("app-1")
    _finish(stack.inject("kill", "--target", "app-1"))
    # killed, not stopped: the owner keeps it for its log until the replacement takes its name
    _poll(lambda: _status(old) in ("exited", "removed"), 10, "app-1's container killed")

    def replaced() -> bool:
        ids = [c.id for c in _live(stack, "app-1")]
        return len(ids) == 1 and ids[0] != old.id

    _poll(replaced, 60, "a new app-1 container (the ECS replacement)")
    # the replacement's port, as the owner recorded it
    info = StackInfo.load(Path(stack.info.workdir) / "stack.json")
    _poll(lambda: _ready(info.components["app-1"].port), 60, "the replacement task ready")


def _live(stack: DockerStack, name: str) -> list[Container]:
    return [c for c in stack.client.containers.list(sparse=True, filters={"label": [
        f"{dockerrt.LABEL_RUN}={stack.info.stack_id}", f"{dockerrt.LABEL_COMPONENT}={name}"]})]


def _ready(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False
