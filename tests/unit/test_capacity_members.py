"""A target's fail-open backup copy is the same member, not another one serving."""

from __future__ import annotations

from typing import Any, cast

from harness.capacity.members import serving
from harness.stacks.components.haproxy import HaproxyAdmin

UP = {"srv_op_state": "2", "srv_admin_state": "0"}
DRAINED = {"srv_op_state": "2", "srv_admin_state": "8"}


class _Admin:
    def __init__(self, states: dict[str, dict[str, str]]) -> None:
        self.states = states

    def server_states(self) -> dict[str, dict[str, str]]:
        return self.states


def _serving(states: dict[str, dict[str, str]]) -> list[str]:
    return serving(cast(HaproxyAdmin, cast(Any, _Admin(states))))


def test_a_fail_open_copy_counts_as_its_target() -> None:
    states = {"app-1": UP, "app-1.failopen": UP, "app-2": DRAINED, "app-2.failopen": DRAINED}
    assert _serving(states) == ["app-1"]


def test_a_drained_member_is_not_serving() -> None:
    assert _serving({"app-1": UP, "app-2": DRAINED}) == ["app-1"]
    assert _serving({"app-1": DRAINED, "app-2": DRAINED}) == []
