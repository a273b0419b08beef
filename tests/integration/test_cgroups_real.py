"""On this machine's real cgroups: a limited component runs inside a cgroup with its quota.

Whichever hierarchy the machine has (v1 here, v2 on most current distributions) is
the one tested; the test skips, naming the reason, where limits cannot be enforced.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from harness.runtime.base import ComponentSpec, Limits, ProcessSpec
from harness.runtime.cgroups import CgroupLimiter
from harness.runtime.ports import LOOPBACK, PortAllocator
from harness.runtime.process import ProcessRuntime
from harness.runtime.wait import PortOpen

# alone: its recovery times, orderings and latency bounds must not see a busy machine
pytestmark = [pytest.mark.integration, pytest.mark.alone]


def _listener(port: int) -> tuple[str, ...]:
    code = (
        "import socket, time; s = socket.socket(); "
        f"s.bind(({LOOPBACK!r}, {port})); s.listen(); time.sleep(60)"
    )
    return (sys.executable, "-c", code)


def test_a_limited_component_runs_inside_a_cgroup_with_its_quota(tmp_path: Path) -> None:
    stack_id = f"cgtest-{uuid.uuid4().hex[:6]}"
    runtime = ProcessRuntime(stack_id=stack_id, workdir=tmp_path / "w", log_dir=tmp_path / "l")
    if not runtime.cgroups.available:
        pytest.skip(f"limits not enforceable here: {runtime.cgroups.reason}")
    port = PortAllocator().take()
    try:
        # two processes in one component, as nginx + php-fpm make one PHP instance
        runtime.start(ComponentSpec(
            name="app-1", kind="test", ready=PortOpen(port), ready_timeout_s=10,
            processes=(
                ProcessSpec("listener", _listener(port)),
                ProcessSpec("sidecar", (sys.executable, "-c", "import time; time.sleep(60)")),
            ),
            limits=Limits(cpus=0.75, memory_mb=1536),
        ))
        in_force = runtime.cgroups.in_force("app-1")
        assert (in_force.cpus, in_force.memory_mb) == (0.75, 1536)
        for pid in runtime.pids("app-1"):
            membership = Path(f"/proc/{pid}/cgroup").read_text()
            for cgroup in in_force.cgroups:
                # /proc/<pid>/cgroup names the path below the hierarchy's mount point
                assert f"/harness/{stack_id}/app-1" in membership
                assert str(pid) in Path(cgroup, "cgroup.procs").read_text().split()
        quota_file = ("cpu.max" if runtime.cgroups.version == 2 else "cpu.cfs_quota_us")
        quota = Path(in_force.cgroups[0], quota_file).read_text().split()[0]
        assert int(quota) == 15_000  # 0.75 of the 20 ms period (cgroups.CFS_PERIOD_US)
    finally:
        runtime.close()
    assert not CgroupLimiter(stack_id).in_force("app-1").cgroups, "cgroups left after close"
