"""Which tasks the ECS service replaces, and when, as ECS documents it."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from harness.model.cited import Timing
from harness.model.orchestrator import EcsSettings
from harness.model.profile_file import load_profile
from harness.records.events import OrchestratorEvent
from harness.runtime.events import EventLog
from harness.stacks.orchestrators.ecs import EcsService

TIME_SCALE = 0.05
#: the ALB's verdict on a target is due after unhealthy_threshold (2) x interval (30 s x 0.05)
JUDGED_AFTER_S = 2 * 30 * TIME_SCALE

DOWN_FAILED = {"srv_op_state": "0", "srv_admin_state": "0", "srv_check_result": "2"}
#: registered, checks passing, healthy threshold not reached yet (AWS: `initial`)
DOWN_PASSING = {"srv_op_state": "0", "srv_admin_state": "0", "srv_check_result": "3"}
UP = {"srv_op_state": "2", "srv_admin_state": "0", "srv_check_result": "3"}
DEREGISTERED = {"srv_op_state": "0", "srv_admin_state": "1", "srv_check_result": "2"}


class Recording(EcsService):
    def __init__(self, handles: Any, settings: EcsSettings) -> None:
        super().__init__(handles, settings)
        self.reactions: list[tuple[str, str]] = []

    def react(self, key: str, action: Callable[[], None]) -> None:
        func = getattr(action, "func", action)
        self.reactions.append((key, func.__name__))


def _ecs(states: dict[str, dict[str, str]], running: set[str], grace_s: float = 0) -> Recording:
    modern = load_profile("modern")
    settings = modern.orchestrator
    assert isinstance(settings, EcsSettings)
    settings = settings.model_copy(update={
        "health_check_grace_s": Timing(value=grace_s, source="test: the grace period here"),
    })
    handles = SimpleNamespace(
        haproxy=SimpleNamespace(server_states=lambda: states),
        runtime=SimpleNamespace(is_running=lambda name: name in running),
        info=SimpleNamespace(apps=lambda: sorted(states)),
        profile=modern, time_scale=TIME_SCALE, events=EventLog(None),
        scaled=lambda timing: timing.at(TIME_SCALE),
    )
    return Recording(handles, settings)


def _started(ecs: EcsService, seconds_ago: float, now: float = 1000.0) -> float:
    ecs._started_at = dict.fromkeys(ecs.h.info.apps(), now - seconds_ago)
    return now


#: started_ago_s in run seconds; grace_s the AWS value (x 0.05 here: 120 s -> 6 s)
@pytest.mark.parametrize(("row", "started_ago_s", "grace_s", "unhealthy"), [
    (DOWN_FAILED, 10, 0, True),                  # failed its checks: unhealthy
    (DOWN_PASSING, 10, 0, False),                # initial: still passing towards healthy
    (DOWN_FAILED, JUDGED_AFTER_S / 2, 0, False),  # too new to have failed 2 checks
    (DOWN_FAILED, 3, 120, False),                # within the service's grace period
    (DOWN_FAILED, 7, 120, True),                 # after it
    (DEREGISTERED, 10, 0, False),                # taken out: not the ALB's verdict
    (UP, 10, 0, False),
])
def test_the_albs_verdict_counts_after_the_grace_period(
    row: dict[str, str], started_ago_s: float, grace_s: float, unhealthy: bool
) -> None:
    ecs = _ecs({"app-1": row}, {"app-1"}, grace_s=grace_s)
    now = _started(ecs, started_ago_s)
    assert ecs.alb_unhealthy("app-1", row, now) is unhealthy


def test_a_dead_task_waits_for_the_notice_and_an_alb_unhealthy_one_is_stopped() -> None:
    states = {"app-1": UP, "app-2": DOWN_FAILED, "app-3": UP}
    ecs = _ecs(states, running={"app-2", "app-3"})
    _started(ecs, 600, now=0.0)
    ecs.tick()
    assert ecs.reactions == [("app-1", "_exited"), ("app-2", "_stop_unhealthy")]


def test_a_replacement_is_in_service_once_the_alb_has_it_up() -> None:
    states = {"app-1": DOWN_PASSING}
    ecs = _ecs(states, running={"app-1"})
    seen: list[dict[str, Any]] = []
    ecs.emit = lambda kind, **fields: seen.append({"kind": kind, **fields})  # type: ignore[method-assign]
    ecs._awaiting["app-1"] = 0.0
    ecs.tick()
    assert seen == []
    states["app-1"] = UP
    ecs.tick()
    assert [e["kind"] for e in seen] == [OrchestratorEvent.TASK_IN_SERVICE]
    assert "app-1" not in ecs._awaiting
