"""The run's event journal, `events.jsonl`: faults, orchestrator actions, health changes.

One JSON object per line with the wall-clock time (`ts`, ISO 8601 UTC, and
`wall`, epoch seconds) and the run-relative time (`t_s`, monotonic seconds since
the run's clock started), so events line up with the load's per-second series.
Thread-safe: the fault executor, its workers and the orchestrators all write here.
Every kind is a member of harness.records.events.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.records.events import EventKind, Source
from harness.records.files import AppendLog


class EventLog:
    """Appends events to a JSON-lines file (or keeps them in memory only when path is None)."""

    def __init__(
        self,
        path: Path | None,
        *,
        t0: float | None = None,
        echo: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.path = path
        #: time.monotonic() at the run's start; t_s is measured from here
        self.t0 = time.monotonic() if t0 is None else t0
        self.events: list[dict[str, Any]] = []
        self._echo = echo
        self._lock = threading.Lock()
        # append-only, read back tolerantly (a last line cut off is left out): a failed
        # write stops the file, never the thread that emits, and tells the run's watch
        self._file = AppendLog(path) if path is not None else None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def elapsed(self) -> float:
        """Seconds since the run's clock started."""
        return time.monotonic() - self.t0

    def emit(self, kind: EventKind, **fields: Any) -> dict[str, Any]:
        """Record one event now; return it (its kind as the plain string, as read back)."""
        wall = time.time()
        event: dict[str, Any] = {
            "ts": datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds"),
            "wall": round(wall, 6),
            "t_s": round(self.elapsed(), 6),
            "kind": str(kind),
            **fields,
        }
        line = json.dumps(event, sort_keys=False, default=str)
        with self._lock:
            self.events.append(event)
            if self._file is not None:
                self._file.append([line + "\n"])
        if self._echo is not None:
            self._echo(event)
        return event

    def of_kind(self, prefix: EventKind | Source) -> list[dict[str, Any]]:
        """Events of one kind, or of every kind of one source (`Source.FAULT`)."""
        with self._lock:
            return [e for e in self.events if str(e["kind"]).startswith(prefix)]
