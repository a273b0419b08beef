"""One declaration per component: the stack, fault validation and compose name the same parts.

`harness.model.components.declare` is the only place a profile's components and edges are
listed. Here a `Stack` is started for every shipped profile on a runtime that only
records what it is asked to start (the database, Toxiproxy, LocalStack and HAProxy calls
faked), and what it starts is compared with the topology the scenario's fault targets
are checked against, and with the services of docker-compose.yml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.model.components import IMAGE_OF_KIND, declare
from harness.model.profile_file import available_profiles, load_profile
from harness.runtime.base import ComponentSpec, StartsByLaunching
from harness.scenario.faults import Topology
from harness.settings import Settings
from harness.stacks import compose, compose_file
from harness.stacks import stack as stack_module
from harness.stacks.components import haproxy, localstack, mariadb, toxiproxy
from harness.stacks.stack import Stack
from harness.stacks.topology import StackInfo

PROFILES = available_profiles()


class RecordingRuntime(StartsByLaunching):
    """Starts nothing: keeps the specs it is asked to launch, each ready at once."""

    name = "recording"

    def __init__(self, log_dir: Path) -> None:
        self.specs: list[ComponentSpec] = []
        self.log_dir = log_dir

    def launch(self, spec: ComponentSpec) -> None:
        self.specs.append(spec)

    def wait(self, name: str) -> float:
        return 0.0

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"


class FakeToxiproxy:
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.proxies: dict[str, int] = {}

    def create(self, name: str, *, listen_port: int, upstream_port: int) -> None:
        self.proxies[name] = upstream_port


class FakeAdmin:
    def __init__(self, socket_path: object) -> None:
        pass

    def set_server_state(self, name: str, state: str) -> None:
        pass


def _started(arch: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
             ) -> tuple[StackInfo, RecordingRuntime]:
    monkeypatch.setattr(mariadb, "install_datadir", lambda *_a, **_k: None)
    monkeypatch.setattr(Stack, "_database_up", lambda *_a, **_k: None)
    monkeypatch.setattr(toxiproxy, "ToxiproxyClient", FakeToxiproxy)
    monkeypatch.setattr(haproxy, "HaproxyAdmin", FakeAdmin)
    monkeypatch.setattr(localstack, "create_resources",
                        lambda *_a, **_k: "http://127.0.0.1:4566/000000000000/orders")
    monkeypatch.setattr(stack_module, "wait_ready", lambda *_a, **_k: 0.0)
    settings = Settings(state_dir=tmp_path, tools_dir=tmp_path / "tools", results_dir=tmp_path)
    stack = Stack(load_profile(arch), settings, stack_id=f"{arch}-unit")
    stack.workdir.mkdir(parents=True)
    runtime = RecordingRuntime(stack.log_dir)
    return stack._start(runtime, lb_port=18080), runtime


@pytest.mark.parametrize("arch", PROFILES)
def test_the_stack_starts_what_fault_validation_sees(
        arch: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info, runtime = _started(arch, tmp_path, monkeypatch)
    topology = Topology.from_profile(load_profile(arch))
    assert set(info.components) == set(topology.components)
    assert {n: (c.kind, c.zone) for n, c in info.components.items()} == {
        n: (topology.kinds[n], z) for n, z in topology.components.items()}
    # the edges of the fleet, and one for each slot auto scaling may fill
    spares = {e.name for e in declare(load_profile(arch)).spare_edges()}
    assert set(info.edges) == set(topology.edges) | spares
    # everything declared was started, once; the AWS fault point is plumbing, not a target
    started = [s.name for s in runtime.specs]
    assert sorted(started) == sorted({*topology.components, "aws-fault"})
    assert all(s.kind in IMAGE_OF_KIND for s in runtime.specs)


@pytest.mark.parametrize("arch", compose.ARCHITECTURES)
def test_compose_has_a_service_for_every_component_of_the_architecture(arch: str) -> None:
    services: dict[str, dict[str, Any]] = yaml.safe_load(compose_file.render())["services"]
    on_network = set()
    for name, service in services.items():
        if arch in service["profiles"] and not name.startswith("seed-"):
            aliases = service.get("networks", {}).get("default", {}).get("aliases", [])
            on_network.add(aliases[0] if aliases else name)
    assert on_network == set(Topology.from_profile(load_profile(arch)).components)
    proxies = {e["name"] for e in compose.edges(load_profile(arch))}
    assert proxies == {e.replace("->", "_to_")
                       for e in Topology.from_profile(load_profile(arch)).edges}
