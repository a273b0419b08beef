"""The invariants wait out a failover the load ended in, and say so when it never ends."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pymysql
import pytest

from harness import readback
from harness.analysis.invariants import DatabaseState
from harness.errors import StackError
from harness.model.profile_file import load_profile


class _Stack:
    """A stack whose writer endpoint moves (the orchestrator repoints it after promotion)."""

    def __init__(self) -> None:
        self.info = SimpleNamespace(db_writer_port=1001)


def test_the_settle_bound_adds_every_database_timing_at_the_run_scale() -> None:
    legacy = load_profile("legacy")
    db: Any = legacy.database
    at_aws = db.multi_az_failover_s.value + db.restart_s.value + db.dns_ttl_s.value
    assert readback.database_settle_s(legacy, 1.0) == pytest.approx(
        at_aws + readback.SETTLE_MARGIN_S)
    assert readback.database_settle_s(legacy, 0.1) == pytest.approx(
        at_aws * 0.1 + readback.SETTLE_MARGIN_S)


def test_the_writer_is_read_on_its_new_port_once_the_failover_is_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = _Stack()
    tried: list[int] = []

    def read(port: int) -> DatabaseState:
        tried.append(port)
        if len(tried) < 3:
            if len(tried) == 2:
                stack.info.db_writer_port = 1002
            raise pymysql.err.OperationalError(2003, "Can't connect to MySQL server")
        return DatabaseState(stock={1: 5})

    monkeypatch.setattr(readback, "read_database", read)
    monkeypatch.setattr(readback.time, "sleep", lambda _s: None)
    state = readback.read_writer(stack.info, settle_s=60.0)  # type: ignore[arg-type]
    assert state.stock == {1: 5}
    assert tried == [1001, 1001, 1002]


def test_a_writer_that_never_answers_is_a_clear_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = iter(range(0, 1000, 10))

    def read(_port: int) -> DatabaseState:
        raise pymysql.err.OperationalError(2003, "Can't connect to MySQL server")

    monkeypatch.setattr(readback, "read_database", read)
    monkeypatch.setattr(readback.time, "sleep", lambda _s: None)
    monkeypatch.setattr(readback.time, "monotonic", lambda: float(next(clock)))
    with pytest.raises(StackError, match=r"invariants not checked: the database writer "
                       r"\(127\.0\.0\.1:1001\) did not answer within 30 s"):
        readback.read_writer(_Stack().info, settle_s=30.0)  # type: ignore[arg-type]
