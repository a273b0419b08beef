"""Acknowledged writes from a team's own locustfile: lost-write detection on their writes.

In the locustfile, after each write request:

    from harness.load.acked import record_write

    class Shopper(HttpUser):
        @task
        def pay(self):
            key = str(uuid.uuid4())
            response = self.client.post("/payments", json={"id": key, "amount": 5})
            record_write(response, table="payments", column="id", key=key)

`record_write` notes the write with its outcome, from the response as the built-in
journeys judge theirs: a 2xx answer is acknowledged, a 4xx answer or a refused
connection definitely failed, anything else (5xx, timeout, reset) is indeterminate
(pass `outcome=` when the service says it otherwise). After the drain the harness
looks each key up in `table.column` on the database writer, the way Jepsen's set
checker does: acknowledged but missing is lost (the run fails), failed but present is
unexpected (the run fails), indeterminate and present is recovered (informational).

Outside a harness run (plain `locust -f`) it does nothing, so the locustfile runs as before.
"""

from __future__ import annotations

import re
import time
from typing import Any, Protocol

from harness.load.writes import Outcome, Write, to_wire
from harness.records.classify import classify_exception, classify_status

#: a table (optionally `database.table`) or column name: no quoting needed, nothing injected
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,63}$")
_OUTCOMES = ("acknowledged", "failed", "indeterminate")


class _Recorder(Protocol):
    writes: list[dict[str, Any]]


#: the running model's recorder (harness.load.generator.ClosedModel); None outside a run
_recorder: _Recorder | None = None


def attach(recorder: _Recorder | None) -> None:
    """Where `record_write` notes writes in this generator process (None: nowhere)."""
    global _recorder
    _recorder = recorder


def kind_of(table: str, column: str) -> str:
    """The writes log's kind of a team's write: `payments.id`."""
    return f"{table}.{column}"


def record_write(response: Any, *, table: str, column: str, key: str | int,
                 outcome: Outcome | None = None) -> None:
    """Note one write the locustfile sent: its response, and the row it makes or changes.

    `table` and `column` name where the harness looks for `key` after the drain (a plain
    name, or `database.table`); `outcome` overrides what the response says.
    """
    for what, name in (("table", table), ("column", column)):
        parts = name.split(".") if what == "table" else [name]
        if len(parts) > 2 or not all(IDENTIFIER.match(p) for p in parts):
            raise ValueError(f"record_write: {what} {name!r} is not a plain SQL name "
                             "(letters, digits, _ and $)")
    if outcome is not None and outcome not in _OUTCOMES:
        raise ValueError(f"record_write: outcome {outcome!r}: one of {', '.join(_OUTCOMES)}")
    if _recorder is None:
        return
    status = int(getattr(response, "status_code", 0) or 0)
    error = getattr(response, "error", None)
    if 200 <= status < 300 and error is None:
        error_class = "ok"
    elif status >= 400:
        error_class = classify_status(status)
    elif isinstance(error, BaseException):
        error_class = classify_exception(error)
    else:
        error_class = "other"
    now = time.time()
    _recorder.writes.append(to_wire(Write(
        kind=kind_of(table, column), idempotency_key=str(key),
        outcome=outcome or _outcome(status, error_class), id=None, status=status,
        error_class=error_class, sent_at=now, done_at=now,
        attrs={"table": table, "column": column},
    )))


def _outcome(status: int, error_class: str) -> Outcome:
    if error_class == "ok":
        return "acknowledged"
    if 400 <= status < 500 or error_class == "connection_refused":
        return "failed"
    return "indeterminate"
