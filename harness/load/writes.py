"""The acknowledged-writes log: every order and reservation the load attempted, with its outcome.

The invariant check reads it after the drain, the way Jepsen's set checker
does: acknowledged but missing = lost; indeterminate but present = recovered.
One JSON object per line, appended by the process that collects the results.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.records.files import AppendLog, failed, read_jsonl

Outcome = Literal["acknowledged", "failed", "indeterminate"]


@dataclass(frozen=True, slots=True)
class Write:
    """One attempted write."""

    kind: str  # "order" or "reservation"
    idempotency_key: str
    outcome: Outcome
    #: order_id / reservation_id from the answer; None unless acknowledged
    id: int | None
    status: int
    error_class: str
    #: wall-clock seconds (time.time()) when the request was sent and answered
    sent_at: float
    done_at: float
    attrs: dict[str, Any] = field(default_factory=dict)


def outcome_of(status: int, error_class: str) -> Outcome:
    """201/200 acknowledged; a 4xx or a refused connection never wrote; the rest may have."""
    if error_class == "ok" and status in (200, 201):
        return "acknowledged"
    if 400 <= status < 500 or error_class == "connection_refused":
        return "failed"
    return "indeterminate"


class WritesLog:
    """Appends writes to a JSONL file; ResultsError when the results folder cannot take them.

    Unlike the event journal it raises (in the load's collector, which stops the load):
    the invariants read this log, and one with writes missing would count orders the
    database holds as never attempted, against the architecture.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        except OSError as exc:
            raise failed(path, exc) from None
        self._file = AppendLog(path)

    def extend(self, writes: Iterable[dict[str, Any]]) -> None:
        lines = [json.dumps(w, separators=(",", ":")) + "\n" for w in writes]
        if lines and not self._file.append(lines):
            assert self._file.error is not None
            raise self._file.error


def to_wire(write: Write) -> dict[str, Any]:
    return asdict(write)


class WritesFile:
    """The log as an iterable read again on every pass: an hour's ~3 * 10^5 writes are
    never all in memory at once (the checks fold them per key as they go)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[Write]:
        return read(self.path)


def read(path: Path, notes: list[str] | None = None) -> Iterator[Write]:
    """The writes of a log, for the invariant check (a last line cut off is left out, noted)."""
    for row in read_jsonl(path, notes):
        # the few names every write repeats are shared, not one copy per write
        for name in _REPEATED:
            if isinstance(row.get(name), str):
                row[name] = sys.intern(row[name])
        yield Write(**row)


_REPEATED = ("kind", "outcome", "error_class")
