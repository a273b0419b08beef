"""The suite tests what it says it tests: every part answers from the session's runtime.

What listens on each port must be the component the runtime started: under docker, a
process inside a container labelled with this session's run and the component's name;
under the process runtime, a process the runtime started (or one of its children). A
suite that silently fell back to host processes, or reached a stranger's server on a
reused port, fails here. The runtime's name is recorded in the JUnit report (property
`runtime`), where tests/containers/test_contract_on_docker.py checks it.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import psutil
import pytest
from contract_support import AppUnderTest, Backends

from harness.runtime import docker as dockerrt

pytestmark = [pytest.mark.contract, pytest.mark.integration]


def _listeners(port: int) -> set[int]:
    """PIDs of every process holding a socket that listens on 127.0.0.1:`port`."""
    found = [c for c in psutil.net_connections(kind="tcp")
             if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port]
    if any(c.pid is None for c in found) and os.geteuid() != 0:
        # only root sees the PIDs behind another user's sockets (a container's are root's)
        pytest.skip(f"not root: cannot tell which process listens on port {port}")
    return {c.pid for c in found if c.pid is not None}


def _check_served_by(backends: Backends, name: str, port: int,
                     request: pytest.FixtureRequest) -> None:
    # straight into the report's properties: the record_property fixture warns (an error
    # here) under the default JUnit family, xunit2
    request.node.user_properties.append(("runtime", backends.runtime.name))
    pids = _listeners(port)
    assert pids, f"nothing listens on 127.0.0.1:{port} ({name})"
    if backends.runtime.name == "docker":
        client = dockerrt.connect()
        try:
            found = client.containers.list(filters={"label": [
                f"{dockerrt.LABEL_RUN}={backends.stack_id}", f"{dockerrt.LABEL_COMPONENT}={name}",
            ]})
            assert len(found) == 1, f"{name}: {len(found)} running containers of this run"
            # the engine lists the container's processes by their host PIDs
            inside = {int(row[0]) for row in found[0].top(ps_args="-eo pid")["Processes"]}
        finally:
            client.close()
        assert pids <= inside, f"{name}: port {port} is held by {pids - inside}, not its container"
    else:
        started = set(backends.runtime.pids(name))
        for pid in pids:
            lineage = {pid, *(p.pid for p in psutil.Process(pid).parents())}
            assert lineage & started, f"{name}: pid {pid} on port {port} is no process of ours"


def test_the_app_answers_from_the_sessions_runtime(
    app: AppUnderTest, request: pytest.FixtureRequest,
) -> None:
    _check_served_by(app.backends, app.name, urlsplit(app.url).port or 80, request)


@pytest.mark.parametrize("component", ["db", "toxiproxy", "aws", "aws-fault"])
def test_the_backing_parts_answer_from_the_sessions_runtime(
    backends: Backends, component: str, request: pytest.FixtureRequest,
) -> None:
    port = {"db": backends.db_port, "toxiproxy": urlsplit(backends.toxi.api_url).port,
            "aws": backends.aws_port, "aws-fault": backends.aws_fault_port}[component]
    assert port is not None
    _check_served_by(backends, component, port, request)
