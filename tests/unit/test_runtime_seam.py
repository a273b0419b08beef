"""The runtime seam: one protocol, one place naming the runtimes, components declared once."""

from __future__ import annotations

import ast
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

import harness
from harness.errors import EnvironmentProblem, FaultError, StackError
from harness.faults.base import FaultContext, build
from harness.model.components import declare
from harness.model.profile_file import load_profile
from harness.runtime.ports import LOOPBACK
from harness.runtime.select import make_runtime
from harness.runtime.wait import HttpOk
from harness.scenario.faults import parse_timeline
from harness.settings import Settings
from harness.stacks.assembly import APP_KINDS, AppSlot, declare_app
from harness.stacks.topology import Component, StackInfo

PACKAGE = Path(harness.__file__).parent
CONCRETE = {"harness.runtime.process", "harness.runtime.docker"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_only_the_selector_imports_a_concrete_runtime() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if _imports(path) & CONCRETE
        and path.parent.name != "runtime"
    ]
    assert offenders == []
    inside = [p.name for p in (PACKAGE / "runtime").glob("*.py") if _imports(p) & CONCRETE]
    assert inside == ["select.py"]


def test_an_unknown_runtime_name_is_an_environment_problem(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem, match=r"--runtime 'vm'.*process, docker"):
        make_runtime("vm", stack_id="s", workdir=tmp_path, log_dir=tmp_path)


def _slot(tmp_path: Path) -> AppSlot:
    member = declare(load_profile("modern")).get("app-1")
    return AppSlot(member=member, port=40123, env={"DB_PORT": "1"}, workdir=tmp_path,
                   log_dir=tmp_path / "logs")


def _settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path, tools_dir=tmp_path / "tools", results_dir=tmp_path)


def test_every_app_kind_of_the_profile_schema_has_a_builder() -> None:
    for name in ("legacy", "modern"):
        assert load_profile(name).app.kind in APP_KINDS


def test_the_sample_app_is_declared_from_the_profile(tmp_path: Path) -> None:
    modern = load_profile("modern")
    task = declare_app(modern, _settings(tmp_path), _slot(tmp_path))
    assert (task.name, task.spec.kind, task.port, task.spec.zone) == ("app-1", "go", 40123, "a")
    assert task.spec.ready == HttpOk(f"http://{LOOPBACK}:40123/ready")
    assert task.spec.image is None
    assert task.component() == Component("app-1", "go", 40123, "a")


def test_a_profile_points_the_app_at_its_own_command_image_and_health_path(
    tmp_path: Path,
) -> None:
    modern = load_profile("modern")
    app = modern.app.model_copy(update={
        "command": ["my-service", "--listen", "{host}:{port}"], "image": "team/svc:1",
        "health_path": "/healthz",
    })
    own = declare_app(modern.model_copy(update={"app": app}), _settings(tmp_path),
                      _slot(tmp_path))
    (process,) = own.spec.processes
    assert process.argv == ("my-service", "--listen", f"{LOOPBACK}:40123")
    assert process.env["PORT"] == "40123"
    assert process.env["DB_PORT"] == "1"
    assert own.spec.image == "team/svc:1"
    assert own.spec.ready == HttpOk(f"http://{LOOPBACK}:40123/healthz")
    # the slot's limits and zone stay the profile's: the budget is the same for any service
    assert own.spec.limits == declare_app(modern, _settings(tmp_path), _slot(tmp_path)).spec.limits


class _Helper:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")


@dataclasses.dataclass
class _Control:
    """A ProcessControl that records what resource faults ask of the runtime."""

    log: list[str] = dataclasses.field(default_factory=list)
    limited: bool = True

    def kill(self, name: str) -> None: ...

    def pause(self, name: str) -> None: ...

    def resume(self, name: str) -> None: ...

    def is_running(self, name: str) -> bool:
        return True

    def run_inside(self, name: str, argv: list[str]) -> _Helper:
        if not self.limited:
            raise StackError(f"{name} has no CPU or memory limits")
        self.log.append(f"run {name} {argv[-1] if argv[-1].isdigit() else 'cpu'}")
        return _Helper(self.log, name)


def _ctx(control: _Control, tmp_path: Path) -> FaultContext:
    info = StackInfo(
        stack_id="s", arch="modern", workdir=str(tmp_path), log_dir=str(tmp_path),
        lb_url="http://127.0.0.1:1", toxiproxy_api="http://127.0.0.1:2",
        haproxy_socket=str(tmp_path / "h.sock"), aws_endpoint="http://127.0.0.1:3",
        queue_url="", bucket=None, db_writer_port=4, db_reader_port=None,
        components={"app-1": Component("app-1", "go", 5, "a"),
                    "db-writer": Component("db-writer", "mariadb", 4, "a")},
        edges={}, ready_s={},
    )
    from harness.runtime.events import EventLog

    return FaultContext(info=info, processes=control, events=EventLog(tmp_path / "e.jsonl"))


def _fault(raw: dict[str, object]) -> object:
    return parse_timeline([raw], source=Path("t.yaml"), key="fault")[0]


def test_resource_faults_run_their_helpers_through_the_runtime(tmp_path: Path) -> None:
    control = _Control()
    ctx = _ctx(control, tmp_path)
    cpu = build(_fault({"at": "1s", "type": "cpu_stress", "target": "app-1", "workers": 2,
                        "duration": "5s"}), "cpu", ctx)  # type: ignore[arg-type]
    memory = build(_fault({"at": "1s", "type": "memory_pressure", "target": "app-1",
                           "memory_mb": 64, "duration": "5s"}), "mem", ctx)  # type: ignore[arg-type]
    cpu.apply()
    memory.apply()
    cpu.revert()
    memory.revert()
    assert control.log == ["run app-1 cpu", "run app-1 cpu", "run app-1 64",
                           "stop app-1", "stop app-1", "stop app-1"]


def test_a_resource_fault_on_an_unlimited_component_names_why(tmp_path: Path) -> None:
    ctx = _ctx(_Control(limited=False), tmp_path)
    cpu = build(_fault({"at": "1s", "type": "cpu_stress", "target": "app-1", "workers": 1,
                        "duration": "5s"}), "cpu", ctx)  # type: ignore[arg-type]
    with pytest.raises(FaultError, match="cpu_stress: app-1 has no CPU or memory limits"):
        cpu.apply()


def test_an_unknown_runtime_on_the_command_line_is_exit_2_naming_the_choices() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "smoke", "--runtime", "vm", "--ci"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)},
    )
    assert result.returncode == 2, result.stderr
    assert "--runtime: 'vm': choose one of process, docker" in result.stderr
    assert "Traceback" not in result.stderr
