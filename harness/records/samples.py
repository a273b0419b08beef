"""One recorded sample and `metrics.jsonl`: the contract between the collector and analysis.

A line per sample: `{"arch", "t_s", "metric", "member", "value"}`, or `"values"` (a list)
for a distribution such as TargetResponseTime, whose percentiles need every request.
`t_s` is seconds from the start of the load, the same clock as events.jsonl and the
per-second series. `member` names the instance/task for per-member metrics, else null.
A count metric has a sample only for seconds in which it counted something, as
CloudWatch has no datapoint for an ELB count with no requests.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.records.files import AppendLog, read_jsonl

METRICS_FILE = "metrics.jsonl"
#: seconds a MetricsLog keeps beyond what its live readers say they read (`keep_for`)
KEEP_MARGIN_S = 60.0


@dataclass(frozen=True)
class Sample:
    t_s: float
    metric: str
    value: float | None = None
    values: tuple[float, ...] = ()
    member: str | None = None

    def observations(self) -> tuple[float, ...]:
        """The values this sample contributes to a period's statistics."""
        return self.values if self.value is None else (self.value,)

    def to_json(self, arch: str) -> dict[str, Any]:
        row: dict[str, Any] = {"arch": arch, "t_s": round(self.t_s, 3), "metric": self.metric,
                               "member": self.member}
        if self.value is None:
            row["values"] = [round(v, 6) for v in self.values]
        else:
            row["value"] = round(self.value, 6)
        return row

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Sample:
        value = row.get("value")
        return cls(
            t_s=float(row["t_s"]), metric=str(row["metric"]), member=row.get("member"),
            value=None if value is None else float(value),
            values=tuple(float(v) for v in row.get("values", ())),
        )


class MetricsLog:
    """Appends one architecture's samples to metrics.jsonl (thread-safe), and keeps the recent.

    The file gets every sample. In memory it keeps only the samples of the last `keep_s`
    seconds (behind the newest sample), what its live readers (the alarm engine, the
    target tracker) read with a margin: the collector sets it (`keep_for`) before the
    first tick. None (the default) keeps every sample. A run of an hour then holds as
    many samples as one of a few minutes (issue #24: the whole history grew ~2 MB a minute).
    """

    def __init__(self, path: Path | None, arch: str, *, keep_s: float | None = None) -> None:
        self.path = path
        self.arch = arch
        self.keep_s = keep_s
        self.samples: deque[Sample] = deque()
        self._lock = threading.Lock()
        # the collector's thread appends: a full disk stops the file (the run's watch
        # hears of it), never the collector, which would look like a harness part dying
        self._file = AppendLog(path) if path is not None else None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def keep_for(self, lookback_s: float) -> None:
        """Its live readers read at most the last `lookback_s` seconds: keep those, and a margin.

        The margin (twice as much, at least `KEEP_MARGIN_S` more) covers a tick that
        comes late (a busy machine) and a reader whose clock is a little ahead.
        """
        keep = max(2 * lookback_s, lookback_s + KEEP_MARGIN_S)
        with self._lock:
            self.keep_s = keep if self.keep_s is None else max(self.keep_s, keep)
            self._prune()

    def add(self, samples: Iterable[Sample]) -> None:
        batch = list(samples)
        with self._lock:
            self.samples.extend(batch)
            self._prune()
            if self._file is not None and batch:
                self._file.append(json.dumps(s.to_json(self.arch)) + "\n" for s in batch)

    def _prune(self) -> None:
        # samples arrive in time order (a tick's batch at the tick's time): the oldest first
        if self.keep_s is None or not self.samples:
            return
        oldest = self.samples[-1].t_s - self.keep_s
        while self.samples[0].t_s < oldest:
            self.samples.popleft()

    def snapshot(self) -> list[Sample]:
        """The samples kept: the last `keep_s` seconds, oldest first."""
        with self._lock:
            return list(self.samples)


def read_samples(path: Path, notes: list[str] | None = None) -> dict[str, list[Sample]]:
    """metrics.jsonl as samples per architecture (empty when the file does not exist).

    A last line cut off mid-write (a full disk, a killed run) is left out and noted.
    """
    per_arch: dict[str, list[Sample]] = {}
    if not path.exists():
        return per_arch
    for row in read_jsonl(path, notes):
        per_arch.setdefault(str(row["arch"]), []).append(Sample.from_json(row))
    return per_arch
