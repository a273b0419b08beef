"""Per-second data of one architecture, and exact aggregates over any window and endpoint.

Percentiles over a window or several endpoints come from merging the recorded
HdrHistograms (exact: counts add up), never from averaging per-second
percentiles. Seconds count from the start of the load by intended start time,
as the recorder keeps them (harness/records/recorder.py).

`ArchData` is built from a live `Recorder` (`from_recorder`) or from the rows of
`timeseries.csv` (`from_rows`), so a report can be rebuilt from a results folder.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from hdrh.histogram import HdrHistogram

from harness.records.classify import CLASSES, DROPPED, ERROR_CLASSES
from harness.records.recorder import (
    Recorder,
    SecondCounts,
    decoded,
    free,
    new_histogram,
    percentiles_ms,
)

#: the endpoint name that means "every endpoint"
ALL = "*"
PERCENTILE_KEYS: tuple[str, ...] = ("p50", "p90", "p95", "p99", "p999", "max")
COUNT_FIELDS: tuple[str, ...] = (
    "offered", "started", "achieved", "late", "dropped", "missed", "cpu_pct", "cpu_wait_pct",
)


@dataclass(frozen=True)
class Stats:
    """Aggregates over one scope: requests by class and latency percentiles in ms.

    `requests` are finished requests (they have a latency); arrivals dropped at the
    concurrency cap are counted apart, as class `dropped`, and are failures in
    `error_rate` unless a caller asks to leave them out.
    """

    requests: int
    classes: Mapping[str, int]
    latency_ms: Mapping[str, float]
    offered: int
    achieved: int
    dropped: int = 0

    @property
    def errors(self) -> int:
        """Finished requests that failed (dropped arrivals not included)."""
        return sum(self.classes.get(c, 0) for c in ERROR_CLASSES)

    def failures(self, *, count_dropped: bool = True) -> int:
        return self.errors + (self.dropped if count_dropped else 0)

    def attempts(self, *, count_dropped: bool = True) -> int:
        """Finished requests, plus dropped arrivals when they count."""
        return self.requests + (self.dropped if count_dropped else 0)

    def error_rate_of(self, *, count_dropped: bool = True) -> float:
        """Failures / attempts; 0.0 when there were none (callers check `attempts` first)."""
        attempts = self.attempts(count_dropped=count_dropped)
        return self.failures(count_dropped=count_dropped) / attempts if attempts else 0.0

    @property
    def error_rate(self) -> float:
        """(Errors + dropped arrivals) / (finished requests + dropped arrivals)."""
        return self.error_rate_of()

    @property
    def achieved_ratio(self) -> float:
        """Started / offered arrivals; 1.0 when nothing was offered."""
        return self.achieved / self.offered if self.offered else 1.0

    def metric(self, name: str, *, count_dropped: bool = True) -> float:
        if name == "error_rate":
            return self.error_rate_of(count_dropped=count_dropped)
        if name == "achieved_ratio":
            return self.achieved_ratio
        return float(self.latency_ms[name])


@dataclass
class ArchData:
    """One architecture's recorded data: latency histograms per second x endpoint x class.

    Cells are kept in their encoded form (~0.4 kB, where a decoded histogram is ~170 kB):
    an hour at 200 arrivals a second has tens of thousands of them, which decoded would
    take gigabytes (bench.results_memory). `cell()` decodes one.
    """

    arch: str
    cells: dict[tuple[int, str, str], str] = field(default_factory=dict)
    counts: dict[int, SecondCounts] = field(default_factory=dict)
    #: (second, endpoint) -> arrivals dropped at the concurrency cap (Recorder.dropped)
    dropped: dict[tuple[int, str], int] = field(default_factory=dict)
    _seconds: dict[tuple[int, str], Stats] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_recorder(cls, arch: str, recorder: Recorder) -> ArchData:
        """From the collector's merged recorder after the load stopped."""
        data = cls(arch, counts={s: c for s, c in recorder.counts.items()},
                   dropped=dict(recorder.dropped))
        for row in recorder.rows():
            data.add_cell(row["second"], row["endpoint"], row["class"], row["latency_hdr"])
        return data

    def cell(self, key: tuple[int, str, str]) -> HdrHistogram:
        """One cell's histogram, decoded (a new one each call)."""
        return decoded(self.cells[key])

    def add_cell(self, second: int, endpoint: str, cls: str, encoded: str) -> None:
        key = (second, endpoint, cls)
        before = self.cells.get(key)
        if before is None:
            self.cells[key] = encoded
        else:
            hist = decoded(before)
            other = decoded(encoded)
            hist.add(other)
            free(other)
            self.cells[key] = _encoded(hist)
        self._forget()

    def add_samples(self, second: int, endpoint: str, cls: str, latencies_ms: Iterable[float]
                    ) -> None:
        """Record known latencies (tests and synthetic data)."""
        key = (second, endpoint, cls)
        before = self.cells.get(key)
        hist = new_histogram() if before is None else decoded(before)
        for ms in latencies_ms:
            hist.record_value(max(1, int(ms * 1000)))
        self.cells[key] = _encoded(hist)
        self._forget()

    def add_dropped(self, second: int, endpoint: str, n: int) -> None:
        """Arrivals of `second` dropped at the cap before their first request to `endpoint`."""
        self.dropped[(second, endpoint)] = self.dropped.get((second, endpoint), 0) + n
        self._forget()

    def before(self, second: int) -> ArchData:
        """The data of the seconds before `second` only (harness.analysis.parts cuts at a
        harness failure). The histograms are shared with this data, not copied."""
        return ArchData(
            self.arch, cells={k: h for k, h in self.cells.items() if k[0] < second},
            counts={s: c for s, c in self.counts.items() if s < second},
            dropped={k: n for k, n in self.dropped.items() if k[0] < second},
        )

    def _forget(self) -> None:
        self.__dict__.pop("_per_second", None)
        self._seconds.clear()

    # -- shape --

    @property
    def duration_s(self) -> int:
        """Seconds with data: 0 .. last second + 1."""
        seconds = {k[0] for k in self.cells} | set(self.counts) | {k[0] for k in self.dropped}
        return max(seconds) + 1 if seconds else 0

    def endpoints(self) -> list[str]:
        return sorted({k[1] for k in self.cells} | {k[1] for k in self.dropped})

    # -- aggregates --

    @cached_property
    def _per_second(self) -> dict[tuple[int, str], tuple[str, dict[str, int]]]:
        """Per second x endpoint (and x ALL): the merged histogram (encoded), counts by class.

        Built a second at a time, so only one second's merged histograms are ever decoded.
        """
        merged: dict[tuple[int, str], tuple[str, dict[str, int]]] = {}
        live: dict[tuple[int, str], tuple[HdrHistogram, dict[str, int]]] = {}
        current = None
        for (s, ep, cls) in sorted(self.cells):
            if s != current:
                _close(live, merged)
                current = s
            hist = self.cell((s, ep, cls))
            count = hist.get_total_count()
            for key in ((s, ep), (s, ALL)):
                if key not in live:
                    live[key] = (new_histogram(), dict.fromkeys(CLASSES, 0))
                live[key][0].add(hist)
                live[key][1][cls] = live[key][1].get(cls, 0) + count
            free(hist)
        _close(live, merged)
        return merged

    def histogram(self, s: int, endpoint: str = ALL) -> HdrHistogram | None:
        """Second `s`'s latency histogram, every class merged (None: nothing finished)."""
        cell = self._per_second.get((s, endpoint))
        return None if cell is None else decoded(cell[0])

    def stats(self, start: int = 0, end: int | None = None, endpoint: str = ALL) -> Stats:
        """Exact aggregates over seconds [start, end) for one endpoint (or ALL).

        Offered and achieved arrivals are counted per second only (not per endpoint).
        Dropped arrivals: for every endpoint, the second's count; for one endpoint,
        those whose first request would have gone to it.
        """
        end = self.duration_s if end is None else end
        hist = new_histogram()
        classes = dict.fromkeys(CLASSES, 0)
        offered = achieved = dropped = 0
        for s in range(start, end):
            cell = self._per_second.get((s, endpoint))
            if cell is not None:
                other = decoded(cell[0])
                hist.add(other)
                free(other)
                for cls, n in cell[1].items():
                    classes[cls] = classes.get(cls, 0) + n
            c = self.counts.get(s)
            if c is not None:
                offered += c.offered
                achieved += c.started
            if endpoint == ALL:
                dropped += c.dropped if c is not None else self._dropped_in(s)
            else:
                dropped += self.dropped.get((s, endpoint), 0)
        requests = sum(classes.values())
        latency = percentiles_ms(hist)
        free(hist)
        return Stats(requests, {**classes, DROPPED: dropped}, latency, offered, achieved,
                     dropped)

    def _dropped_in(self, second: int) -> int:
        return sum(n for (s, _ep), n in self.dropped.items() if s == second)

    def second(self, s: int, endpoint: str = ALL) -> Stats:
        """`stats` of one second, cached: recovery, charts and compare ask for each many times."""
        key = (s, endpoint)
        found = self._seconds.get(key)
        if found is None:
            found = self._seconds[key] = self.stats(s, s + 1, endpoint)
        return found

    def rows(self, endpoint: str = ALL) -> list[dict[str, Any]]:
        """One row per second: counts, classes, error rate and latency percentiles (ms)."""
        rows = []
        for s in range(self.duration_s):
            st = self.second(s, endpoint)
            c = self.counts.get(s, SecondCounts())
            rows.append({
                "second": s,
                **{k: getattr(c, k) for k in COUNT_FIELDS},
                "requests": st.requests,
                **{cls: st.classes.get(cls, 0) for cls in CLASSES},
                DROPPED: st.dropped,
                "error_rate": st.error_rate,
                **{k: st.latency_ms[k] for k in PERCENTILE_KEYS},
            })
        return rows


def _close(live: dict[tuple[int, str], tuple[HdrHistogram, dict[str, int]]],
           merged: dict[tuple[int, str], tuple[str, dict[str, int]]]) -> None:
    """Encode one second's merged histograms into `merged` and let them go."""
    for key, (hist, classes) in live.items():
        merged[key] = (_encoded(hist), classes)
        free(hist)
    live.clear()


def _encoded(hist: HdrHistogram) -> str:
    return str(hist.encode().decode())


def window_starts(start: int, end: int, window: int) -> range:
    """Starts of every sliding window of `window` seconds inside [start, end), 1 s apart."""
    if end - start <= window:
        return range(start, start + 1)
    return range(start, end - window + 1)


def scope_seconds(phase_windows: Mapping[str, tuple[float, float]], phase: str | None,
                  duration_s: int) -> tuple[int, int]:
    """[start, end) whole seconds of a phase (seconds that start inside it), or of the run."""
    if phase is None:
        return 0, duration_s
    lo, hi = phase_windows[phase]
    return math.ceil(lo - 1e-9), math.ceil(hi - 1e-9)
