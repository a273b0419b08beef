"""A newly registered target's admission: the ALB's one check, the CLB's healthy threshold."""

from __future__ import annotations

from typing import cast

from harness.stacks.components.haproxy import HaproxyAdmin, TargetGroupSettings
from harness.stacks.components.targets import TargetGroup, passed_first_checks


def _row(op: str = "0", admin: str = "0", health: int = 0) -> dict[str, str]:
    return {"srv_op_state": op, "srv_admin_state": admin, "srv_check_health": str(health)}


class ScriptedAdmin:
    """`show servers state` rows played from a list; admissions and commands recorded."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.rows = rows
        self.admitted: list[str] = []
        self.calls: list[str] = []

    def server_states(self, backend: str = "app") -> dict[str, dict[str, str]]:
        row = self.rows.pop(0) if len(self.rows) > 1 else self.rows[0]
        return {"app-4": row}

    def admit(self, server: str, backend: str = "app") -> None:
        self.admitted.append(server)

    def command(self, cmd: str) -> str:
        self.calls.append(cmd)
        return ""


def _group(rows: list[dict[str, str]], initial: int | None = 1, window_s: float = 60.0
           ) -> tuple[TargetGroup, ScriptedAdmin]:
    admin = ScriptedAdmin(rows)
    settings = TargetGroupSettings(deregistration_delay_s=0, fail_open=False,
                                   initial_checks=initial, initial_window_s=window_s)
    return TargetGroup(cast(HaproxyAdmin, admin), settings), admin


def test_haproxy_health_counter_says_how_many_checks_a_down_target_passed() -> None:
    assert not passed_first_checks(_row(health=0), 1)
    assert passed_first_checks(_row(health=1), 1)
    assert not passed_first_checks(_row(health=1), 2)
    assert not passed_first_checks(_row(admin="1", health=3), 1)  # deregistered again
    assert not passed_first_checks(_row(op="2", health=6), 1)  # already up


def test_a_new_alb_target_is_admitted_after_its_first_passing_check() -> None:
    # registered (health 0), a check fails (still 0), then one passes: admitted at once
    group, admin = _group([_row(health=0), _row(health=0), _row(health=1)])
    waits: list[float] = []
    assert group.admit_new("app-4", wait=lambda s: waits.append(s) is None)
    assert admin.admitted == ["app-4"]
    assert len(waits) == 2


def test_a_target_deregistered_meanwhile_is_left_alone() -> None:
    group, admin = _group([_row(health=0), _row(admin="1", health=0)])
    assert not group.admit_new("app-4", wait=lambda s: True)
    assert admin.admitted == []


def test_a_target_that_never_passed_in_time_waits_for_the_healthy_threshold() -> None:
    group, admin = _group([_row(health=0)], window_s=0.0)
    assert not group.admit_new("app-4", wait=lambda s: True)
    assert admin.admitted == []


def test_a_stopping_stack_ends_the_watch() -> None:
    group, admin = _group([_row(health=0)])
    assert not group.admit_new("app-4", wait=lambda s: False)
    assert admin.admitted == []


def test_without_an_initial_threshold_below_rise_nothing_watches() -> None:
    # the CLB: a new instance needs the healthy threshold, HAProxy's rise does it alone
    group, admin = _group([_row(health=5)], initial=None)
    group.register("app-4")
    assert not group.admit_new("app-4", wait=lambda s: True)
    assert admin.admitted == []
    assert admin.calls == ["set server app/app-4 state drain; set server app/app-4 health down; "
                           "set server app/app-4 state ready"]
