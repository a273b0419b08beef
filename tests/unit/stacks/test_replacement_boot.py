"""A replacement or new member joins the load balancer once its process answers (await_boot).

The time scale shortens the load balancer's checks, not a process's own start: a
service that needs seconds to boot, registered at its launch, would be judged
unhealthy and replaced before it ever answered. ECS and the ASG (replacements) and
auto scaling (new members) therefore register a member once it answers
`app.liveness_path`, after `app.start_timeout_s` at most, or at once when its process
exits. Fakes stand in for the runtime and the load balancer; each member's liveness
path is a real HTTP server on loopback that answers only once the member has "booted".
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from harness.errors import ProfileError
from harness.model.components import declare
from harness.model.orchestrator import AsgSettings, EcsSettings
from harness.model.profile import Profile
from harness.model.profile_file import load_profile
from harness.records.events import OrchestratorEvent
from harness.runtime.events import EventLog
from harness.settings import Settings
from harness.stacks.assembly import AppSlot, declare_app
from harness.stacks.orchestrators.asg import AsgGroup
from harness.stacks.orchestrators.base import Orchestrator
from harness.stacks.orchestrators.ecs import EcsService
from harness.stacks.orchestrators.scaling import ScalingGroup
from harness.stacks.topology import Component

LIVENESS = "/alive"
#: how long a slow member takes to answer after its launch (the payments app: 4-7 s)
BOOT_S = 1.5
#: generous bounds for a busy 2-core machine
WAIT_S = 15.0
NEVER = float("inf")


class Member:
    """One instance/task: a liveness endpoint that answers `boot_s` after each launch."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.boot_s = 0.0
        self.dies_on_start = False
        self.running = True
        self.launched_at = time.monotonic()
        member = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                booted = time.monotonic() >= member.launched_at + member.boot_s
                ok = member.running and booted and self.path == LIVENESS
                self.send_response(200 if ok else 503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeRuntime:
    def __init__(self, members: dict[str, Member]) -> None:
        self.members = members

    def spec(self, name: str) -> object:
        return SimpleNamespace(name=name)

    def launch(self, spec: Any) -> None:
        member = self.members[spec.name]
        member.launched_at = time.monotonic()
        member.running = not member.dies_on_start

    def kill(self, name: str) -> None:
        self.members[name].running = False

    stop = kill

    def is_running(self, name: str) -> bool:
        return self.members[name].running


class FakeTargets:
    """The load balancer's target group: when each target was registered."""

    def __init__(self) -> None:
        self.registered: dict[str, float] = {}

    def deregister(self, target: str, wait: Callable[[float], bool]) -> float:
        return 0.0

    def register(self, target: str) -> None:
        self.registered[target] = time.monotonic()


@pytest.fixture
def members() -> Iterator[dict[str, Member]]:
    made = {name: Member(name) for name in ("app-1", "app-2", "app-3", "app-4")}
    yield made
    for member in made.values():
        member.close()


def _handles(profile: Profile, members: dict[str, Member], apps: list[str],
             start_timeout_s: float | None = None) -> SimpleNamespace:
    app = profile.app.model_copy(update={"liveness_path": LIVENESS})
    if start_timeout_s is not None:
        app = app.model_copy(update={"start_timeout_s": start_timeout_s})
    components = {name: SimpleNamespace(port=members[name].port) for name in apps}
    return SimpleNamespace(
        runtime=FakeRuntime(members), targets=FakeTargets(), events=EventLog(None),
        haproxy=SimpleNamespace(server_states=dict),
        info=SimpleNamespace(components=components, apps=lambda: sorted(components)),
        profile=profile.model_copy(update={"app": app}), time_scale=0.05,
        # every AWS timing at once: what is left is the process's own start
        scaled=lambda timing: 0.0, on_change=lambda: None,
    )


def _ecs(handles: SimpleNamespace) -> EcsService:
    settings = handles.profile.orchestrator
    assert isinstance(settings, EcsSettings)
    return EcsService(handles, settings)  # type: ignore[arg-type]


def _asg(handles: SimpleNamespace) -> AsgGroup:
    settings = handles.profile.orchestrator
    assert isinstance(settings, AsgSettings)
    return AsgGroup(handles, settings)  # type: ignore[arg-type]


def _replacer(era: str, members: dict[str, Member], start_timeout_s: float | None = None
              ) -> tuple[Orchestrator, Callable[[], None], OrchestratorEvent]:
    """An orchestrator, its replacement of app-1, and the event that registers it."""
    handles = _handles(load_profile(era), members, ["app-1", "app-2"], start_timeout_s)
    if era == "modern":
        ecs = _ecs(handles)
        return (ecs, functools.partial(ecs._replace, "app-1", time.monotonic()),
                OrchestratorEvent.TASK_REGISTERED)
    asg = _asg(handles)
    return (asg, functools.partial(asg._replace, "app-1", "EC2 status check failed"),
            OrchestratorEvent.INSTANCE_LAUNCHED)


def _registration(orchestrator: Orchestrator, kind: OrchestratorEvent) -> dict[str, Any]:
    (event,) = orchestrator.h.events.of_kind(kind)
    return event


def _registered(orchestrator: Orchestrator) -> dict[str, float]:
    """When the fake target group registered each target."""
    targets: Any = orchestrator.h.targets
    assert isinstance(targets, FakeTargets)
    return targets.registered


def _in_thread(action: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_a_replacement_registers_only_once_it_answers_its_liveness_path(
    era: str, members: dict[str, Member],
) -> None:
    members["app-1"].boot_s = BOOT_S
    orchestrator, replace, kind = _replacer(era, members)
    _in_thread(replace).join(WAIT_S)
    registered_at = _registered(orchestrator)["app-1"]
    # not at its launch: only once its process answered
    assert registered_at - members["app-1"].launched_at >= BOOT_S * 0.9
    event = _registration(orchestrator, kind)
    assert event["boot"] == "answered", event
    assert event["boot_s"] >= BOOT_S * 0.9, event


def test_the_ecs_grace_period_and_the_albs_verdict_count_from_the_registration(
    members: dict[str, Member],
) -> None:
    members["app-1"].boot_s = BOOT_S
    ecs, replace, _ = _replacer("modern", members)
    assert isinstance(ecs, EcsService)
    _in_thread(replace).join(WAIT_S)
    assert ecs._started_at["app-1"] >= _registered(ecs)["app-1"]


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_a_replacement_that_never_answers_is_registered_after_the_start_timeout(
    era: str, members: dict[str, Member],
) -> None:
    members["app-1"].boot_s = NEVER
    orchestrator, replace, kind = _replacer(era, members, start_timeout_s=1.0)
    _in_thread(replace).join(WAIT_S)
    waited = _registered(orchestrator)["app-1"] - members["app-1"].launched_at
    # the profile's timeout (1 s), not the default 20 s: the load balancer judges it now
    assert 0.9 <= waited < WAIT_S - 1
    event = _registration(orchestrator, kind)
    assert event["boot"] == "timed_out", event
    assert event["boot_s"] >= 0.9, event


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_a_replacement_whose_process_exits_is_registered_at_once(
    era: str, members: dict[str, Member],
) -> None:
    members["app-1"].boot_s = NEVER
    members["app-1"].dies_on_start = True
    orchestrator, replace, kind = _replacer(era, members)  # start_timeout_s: 20 s
    _in_thread(replace).join(WAIT_S)
    waited = _registered(orchestrator)["app-1"] - members["app-1"].launched_at
    # at once: the orchestrator's watch then takes the failed-start path
    assert waited < 10
    assert _registration(orchestrator, kind)["boot"] == "exited"


def test_a_booting_replacement_does_not_hold_up_the_other_tasks(
    members: dict[str, Member],
) -> None:
    members["app-1"].boot_s = NEVER  # boots for the whole test (20 s timeout)
    handles = _handles(load_profile("modern"), members, ["app-1", "app-2"])
    ecs = _ecs(handles)
    try:
        ecs.react("app-1", functools.partial(ecs._replace, "app-1", time.monotonic()))
        members["app-2"].running = False  # app-2 dies while app-1 boots
        ecs.tick()
        deadline = time.monotonic() + WAIT_S
        while "app-2" not in handles.targets.registered and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "app-2" in handles.targets.registered
        assert "app-1" not in handles.targets.registered
        assert ecs.busy("app-1")
    finally:
        ecs.stop(timeout_s=WAIT_S)
    # stopping the stack ends the wait; a task stopped while booting is not registered
    assert not ecs.busy("app-1")
    assert "app-1" not in handles.targets.registered


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_a_scaled_out_member_is_registered_and_watched_once_it_answers(
    era: str, members: dict[str, Member],
) -> None:
    members["app-3"].boot_s = BOOT_S
    profile = load_profile(era)
    if profile.scaling is None:
        # modern has no auto scaling of its own: borrow legacy's (its timings do not matter)
        profile = profile.model_copy(update={"scaling": load_profile("legacy").scaling})
    handles = _handles(profile, members, ["app-1", "app-2"])
    fleet = _ecs(handles) if era == "modern" else _asg(handles)
    launched: list[str] = []

    def launch(slot: str) -> Component:
        launched.append(slot)
        handles.runtime.launch(SimpleNamespace(name=slot))
        return Component(name=slot, kind="app", port=members[slot].port)

    assert handles.profile.scaling is not None
    group = ScalingGroup(handles, handles.profile.scaling,  # type: ignore[arg-type]
                         fleet=fleet, launch=launch)
    seen: list[bool] = []

    def watch() -> None:
        for _ in range(5):
            seen.append("app-3" in handles.info.components)
            time.sleep(0.1)

    # the fleet's orchestrator must not watch it while it boots (it would judge its boot)
    watcher = _in_thread(watch)
    _in_thread(functools.partial(group._launch_member, "app-3")).join(WAIT_S)
    watcher.join(WAIT_S)
    assert launched == ["app-3"]
    assert seen
    assert not any(seen)
    assert handles.targets.registered["app-3"] - members["app-3"].launched_at >= BOOT_S * 0.9
    assert "app-3" in handles.info.components
    (event,) = handles.events.of_kind(OrchestratorEvent.SCALING_REGISTERED)
    assert event["boot"] == "answered", event
    assert event["boot_s"] >= BOOT_S * 0.9, event


# -- app.start_timeout_s -------------------------------------------------------------


def _variant(tmp_path: Path, base: str, app: dict[str, Any]) -> Profile:
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump({"extends": base, "app": app}, sort_keys=False))
    return load_profile(str(path))


def _spec_of(profile: Profile, tmp_path: Path) -> Any:
    settings = Settings(state_dir=tmp_path, tools_dir=tmp_path / "tools", results_dir=tmp_path)
    slot = AppSlot(member=declare(profile).get("app-1"), port=40123, env={}, workdir=tmp_path,
                   log_dir=tmp_path / "logs")
    return declare_app(profile, settings, slot).spec


@pytest.mark.parametrize("base", ["legacy", "modern"])
def test_the_start_timeout_is_the_apps_start_patience_on_both_eras(
    tmp_path: Path, base: str,
) -> None:
    assert load_profile(base).app.start_timeout_s == 20
    assert _spec_of(load_profile(base), tmp_path).ready_timeout_s == 20
    own = _variant(tmp_path, base, {"command": ["my-service", "{port}"], "start_timeout_s": 45})
    # the harness's patience, not an AWS timing: the run's time scale leaves it alone
    assert _spec_of(own, tmp_path).ready_timeout_s == 45


@pytest.mark.parametrize(("value", "says"), [
    (0, "greater than 0"),
    (-5, "greater than 0"),
    (601, "less than or equal to 600"),
    ("soon", "valid number"),
])
def test_a_bad_start_timeout_names_file_line_and_field(
    tmp_path: Path, value: object, says: str,
) -> None:
    with pytest.raises(ProfileError) as err:
        _variant(tmp_path, "modern", {"start_timeout_s": value})
    text = str(err.value)
    assert text.startswith(f"{tmp_path / 'team.yaml'}:3: app.start_timeout_s: "), text
    assert says in text, text
