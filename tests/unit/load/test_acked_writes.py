"""`record_write`: a locustfile marks its writes; the outcome comes from the response."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from harness.load import acked


class _Recorder:
    def __init__(self) -> None:
        self.writes: list[dict[str, Any]] = []


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    rec = _Recorder()
    acked.attach(rec)
    yield rec
    acked.attach(None)


def _response(status: int, error: BaseException | None = None) -> Any:
    return SimpleNamespace(status_code=status, error=error)


@pytest.mark.parametrize(("response", "outcome", "error_class"), [
    (_response(201), "acknowledged", "ok"),
    (_response(204), "acknowledged", "ok"),
    (_response(409), "failed", "http_4xx"),
    (_response(0, ConnectionRefusedError()), "failed", "connection_refused"),
    (_response(503), "indeterminate", "http_5xx"),
    (_response(0, TimeoutError()), "indeterminate", "timeout"),
    (_response(302), "indeterminate", "other"),
])
def test_the_outcome_is_read_from_the_response(
    recorder: _Recorder, response: Any, outcome: str, error_class: str
) -> None:
    acked.record_write(response, table="payments", column="id", key=42)
    (write,) = recorder.writes
    assert write["outcome"] == outcome
    assert write["error_class"] == error_class
    assert write["kind"] == acked.kind_of("payments", "id")
    # a write's kind is the table and key column it names, not an event kind
    assert acked.kind_of("payments", "id") == "payments.id"
    assert write["idempotency_key"] == "42"
    assert write["attrs"] == {"table": "payments", "column": "id"}


def test_the_locustfile_may_say_the_outcome_itself(recorder: _Recorder) -> None:
    acked.record_write(_response(202), table="shop.payments", column="id", key="k",
                       outcome="indeterminate")
    assert recorder.writes[0]["outcome"] == "indeterminate"
    assert recorder.writes[0]["kind"] == acked.kind_of("shop.payments", "id")


@pytest.mark.parametrize(("table", "column", "outcome", "says"), [
    ("payments; DROP TABLE x", "id", None, "table 'payments; DROP TABLE x'"),
    ("a.b.c", "id", None, "table 'a.b.c'"),
    ("payments", "`id`", None, "column '`id`'"),
    ("payments", "id", "maybe", "outcome 'maybe'"),
])
def test_a_name_or_outcome_it_cannot_use_is_refused_at_once(
    recorder: _Recorder, table: str, column: str, outcome: Any, says: str
) -> None:
    with pytest.raises(ValueError, match=f"record_write: {says}"):
        acked.record_write(_response(201), table=table, column=column, key=1, outcome=outcome)
    assert recorder.writes == []


def test_outside_a_harness_run_it_does_nothing() -> None:
    acked.attach(None)
    acked.record_write(_response(201), table="payments", column="id", key=1)  # no error
