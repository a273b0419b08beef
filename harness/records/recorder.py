"""Per second x endpoint x class: latency and service-time histograms, plus arrival counts.

Histograms are HdrHistogram (microseconds, 3 significant digits). Measured
against DDSketch(1 %) on 204k latency-like samples (bench notes in the report):
HDR's worst percentile error was 0.16 % (DDSketch 0.9 %), its max is exact
(DDSketch's is not kept), merging is exact and 3x cheaper at 2 digits, and the
compressed wire form of a sparse per-second histogram is ~100 bytes in ~0.1 ms
(DDSketch has no compact encoding; pickling took 38 ms). Recording costs ~3 µs
a value in both.

Seconds are counted from the start of the load, by a request's intended start
time, so a second's latencies line up with the arrivals offered in it.
A recorder is plain data: workers fill one, drain it to a JSON-able "wire"
dict every second, and the collector merges wires exactly (counts add up).
"""

from __future__ import annotations

import array
import bisect
import itertools
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from hdrh.histogram import HdrHistogram

from harness.records.classify import CLASSES, ERROR_CLASSES

LOWEST_US = 1
#: values above are clamped; ten minutes is far beyond any request timeout
HIGHEST_US = 600_000_000
DIGITS = 3
PERCENTILES: dict[str, float] = {"p50": 50, "p90": 90, "p95": 95, "p99": 99, "p999": 99.9}

Key = tuple[int, str, str, str]  # second, endpoint, class, "latency" | "service"


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def record_us(hist: HdrHistogram, seconds: float) -> None:
    us = int(seconds * 1_000_000)
    hist.record_value(LOWEST_US if us < LOWEST_US else HIGHEST_US if us > HIGHEST_US else us)


def percentiles_ms(hist: HdrHistogram | None) -> dict[str, float]:
    """p50 … p999 and max in milliseconds; zeros for an empty histogram.

    The same values as HdrHistogram's get_percentile_to_value_dict(), which walks
    all 18k counters in Python (0.5 ms); a cumulative sum in C and a bisection
    per percentile take a tenth of that, which matters when a long run writes
    tens of thousands of per-second rows.
    """
    total = 0 if hist is None else hist.get_total_count()
    if hist is None or total == 0:
        return {**dict.fromkeys(PERCENTILES, 0.0), "max": 0.0}
    # Counters past the max value's are zero. (A private helper; the unit test compares
    # this function with HdrHistogram's own, so a change there cannot go unnoticed.)
    used = hist._counts_index_for(hist.get_max_value()) + 1
    raw = array.array(_WORD[hist.word_size])
    raw.frombytes(memoryview(hist.counts).cast("B")[: used * hist.word_size])
    cumulative = list(itertools.accumulate(raw))
    result = {}
    for key, p in PERCENTILES.items():
        target = max(int(p * total / 100 + 0.5), 1)
        index = bisect.bisect_left(cumulative, target)
        value = hist.get_highest_equivalent_value(hist.get_value_from_index(index))
        result[key] = value / 1000
    result["max"] = hist.get_max_value() / 1000
    return result


_WORD = {2: "h", 4: "i", 8: "q"}


@dataclass
class SecondCounts:
    """What happened to the arrivals scheduled in one second."""

    offered: int = 0
    #: arrivals scheduled in this second that started (whenever they did)
    started: int = 0
    #: arrivals that actually started within this second (the achieved rate)
    achieved: int = 0
    late: int = 0
    dropped: int = 0
    missed: int = 0
    #: the busiest generator process's CPU in this second, percent of one core
    cpu_pct: float = 0.0
    #: the longest a generator process waited for a core in this second (runnable, not
    #: running), percent of the second: on a shared machine a generator that wants the CPU
    #: all the time gets less than 100 %, and cpu_pct alone would not show it was saturated
    cpu_wait_pct: float = 0.0

    def add(self, other: SecondCounts) -> None:
        self.offered += other.offered
        self.started += other.started
        self.achieved += other.achieved
        self.late += other.late
        self.dropped += other.dropped
        self.missed += other.missed
        self.cpu_pct = max(self.cpu_pct, other.cpu_pct)
        self.cpu_wait_pct = max(self.cpu_wait_pct, other.cpu_wait_pct)


class Recorder:
    """Histograms and counts of one process, or the exact merge of many."""

    def __init__(self) -> None:
        # A closed second's histograms are kept encoded: a live one is ~150 kB.
        self._hists: dict[Key, HdrHistogram | str] = {}
        # the keys of each second: the live view reads one second a second, and a scan of
        # every key (~6 * 10^4 after an hour) took the harness's CPU from the stack's
        self._keys_of: dict[int, list[Key]] = {}
        self._lag: dict[int, HdrHistogram | str] = {}
        self.counts: dict[int, SecondCounts] = {}
        self.writes: list[dict[str, Any]] = []
        #: (second, endpoint of the journey's first request) -> arrivals dropped at the cap
        self.dropped: dict[tuple[int, str], int] = {}
        # (second, endpoint, class) -> its live latency and service histograms: one lookup
        # per request on the generator's hot path instead of two.
        self._pairs: dict[tuple[int, str, str], tuple[HdrHistogram, HdrHistogram]] = {}

    # -- recording (generator side) --

    def request(
        self, second: int, endpoint: str, cls: str, latency_s: float, service_s: float
    ) -> None:
        """One finished request: latency from its intended start, service time from its send."""
        pair = self._pairs.get((second, endpoint, cls))
        if pair is None:
            pair = self._pairs[(second, endpoint, cls)] = (
                self._live((second, endpoint, cls, "latency")),
                self._live((second, endpoint, cls, "service")),
            )
        record_us(pair[0], latency_s)
        record_us(pair[1], service_s)

    def arrival(
        self,
        second: int,
        *,
        lag_s: float | None,
        late: bool = False,
        started_second: int | None = None,
        endpoint: str = "",
    ) -> None:
        """An offered arrival; lag_s None means it was dropped (concurrency cap).

        `second` is when it was scheduled, `started_second` when it started (default: the same).
        A dropped arrival is also counted under `endpoint`, the request it would have sent
        first, so per-endpoint error rates see it.
        """
        c = self._second(second)
        c.offered += 1
        if lag_s is None:
            c.dropped += 1
            key = (second, endpoint)
            self.dropped[key] = self.dropped.get(key, 0) + 1
            return
        c.started += 1
        c.late += late
        self._second(second if started_second is None else started_second).achieved += 1
        lag = self._lag.get(second)
        if not isinstance(lag, HdrHistogram):
            lag = self._lag[second] = _decoded(lag)
        record_us(lag, lag_s)

    def missed(self, second: int, count: int = 1) -> None:
        """Arrivals that were due but never processed (the run was stopped)."""
        c = self._second(second)
        c.offered += count
        c.missed += count

    def cpu(self, second: int, pct: float, wait_pct: float = 0.0) -> None:
        c = self._second(second)
        c.cpu_pct = max(c.cpu_pct, pct)
        c.cpu_wait_pct = max(c.cpu_wait_pct, wait_pct)

    # -- transport and merge --

    def to_wire(self) -> dict[str, Any]:
        """A JSON-able copy with histograms in HdrHistogram's compressed encoding."""
        return {
            "hists": [[*key, _encoded(h)] for key, h in self._hists.items()],
            "lag": [[s, _encoded(h)] for s, h in self._lag.items()],
            "counts": [[s, asdict(c)] for s, c in self.counts.items()],
            "dropped": [[s, ep, n] for (s, ep), n in self.dropped.items()],
            "writes": self.writes,
        }

    def drain(self) -> dict[str, Any]:
        """to_wire(), then forget everything (a worker sends deltas)."""
        wire = self.to_wire()
        self._hists, self._lag, self.counts, self.writes, self._pairs = {}, {}, {}, [], {}
        self.dropped, self._keys_of = {}, {}
        return wire

    def merge_wire(self, wire: dict[str, Any]) -> None:
        """Add another recorder's wire form: counts add up, histograms merge exactly."""
        for second, endpoint, cls, kind, encoded in wire["hists"]:
            # each wire brings its own copies of the same few names; a long run keeps a
            # key per second x endpoint x class x kind, so they are shared, not kept anew
            key = (second, sys.intern(endpoint), sys.intern(cls), sys.intern(kind))
            self._live(key).decode_and_add(encoded)
        for second, encoded in wire["lag"]:
            lag = self._lag.get(second)
            if not isinstance(lag, HdrHistogram):
                lag = self._lag[second] = _decoded(lag)
            lag.decode_and_add(encoded)
        for second, counts in wire["counts"]:
            self._second(second).add(SecondCounts(**counts))
        for second, endpoint, n in wire.get("dropped", []):
            dropped_key = (second, sys.intern(endpoint))
            self.dropped[dropped_key] = self.dropped.get(dropped_key, 0) + n
        self.writes.extend(wire["writes"])

    def compact(self, before_second: int) -> None:
        """Encode the histograms of seconds before `before_second` to save memory."""
        self._pairs.clear()
        for key, h in self._hists.items():
            if key[0] < before_second and isinstance(h, HdrHistogram):
                self._hists[key] = _retired(h)
        for s, h in self._lag.items():
            if s < before_second and isinstance(h, HdrHistogram):
                self._lag[s] = _retired(h)

    # -- reading --

    def seconds(self) -> list[int]:
        return sorted({k[0] for k in self._hists} | set(self.counts))

    def endpoints(self) -> list[str]:
        return sorted({k[1] for k in self._hists})

    def histogram(
        self,
        kind: str = "latency",
        *,
        seconds: range | None = None,
        endpoint: str | None = None,
        classes: tuple[str, ...] = CLASSES,
    ) -> HdrHistogram:
        """One merged histogram over the selected seconds, endpoints and classes."""
        merged = new_histogram()
        for (s, ep, cls, k), h in self._selected(seconds):
            if k != kind or cls not in classes:
                continue
            if (seconds is None or s in seconds) and (endpoint is None or ep == endpoint):
                hist = _view(h)
                merged.add(hist)
                _release(h, hist)
        return merged

    def _selected(self, seconds: range | None) -> Iterator[tuple[Key, HdrHistogram | str]]:
        """The stored histograms of `seconds` (all when None), without scanning the rest."""
        if seconds is None or len(seconds) > len(self._keys_of):
            yield from self._hists.items()
            return
        for second in seconds:
            for key in self._keys_of.get(second, ()):
                yield key, self._hists[key]

    def class_counts(
        self, *, second: int | None = None, endpoint: str | None = None
    ) -> dict[str, int]:
        counts = dict.fromkeys(CLASSES, 0)
        chosen = None if second is None else range(second, second + 1)
        for (s, ep, cls, kind), h in self._selected(chosen):
            if kind == "latency" and second in (None, s) and endpoint in (None, ep):
                counts[cls] += _count(h)
        return counts

    def lag_ms(self, second: int) -> tuple[float, float]:
        """(p99, max) of the start lag of the arrivals of one second."""
        h = self._lag.get(second)
        if h is None:
            return 0.0, 0.0
        hist = _view(h)
        p99, top = hist.get_value_at_percentile(99) / 1000, hist.get_max_value() / 1000
        _release(h, hist)
        return p99, top

    def second_row(self, second: int) -> dict[str, Any]:
        """One second, summed over endpoints: counts, classes, latency percentiles."""
        c = self.counts.get(second, SecondCounts())
        lag_p99, lag_max = self.lag_ms(second)
        merged = self.histogram(seconds=range(second, second + 1))
        latency = percentiles_ms(merged)
        free(merged)  # once a second for the whole run: not left to the cyclic collector
        return {
            "second": second,
            **asdict(c),
            **self.class_counts(second=second),
            "lag_p99_ms": lag_p99,
            "lag_max_ms": lag_max,
            **latency,
        }

    def rows(self) -> Iterator[dict[str, Any]]:
        """Per second x endpoint x class rows with latency and service percentiles."""
        for (s, ep, cls, kind), h in sorted(self._hists.items()):
            if kind != "latency":
                continue
            lat = _view(h)
            service = self._hists[(s, ep, cls, "service")]
            svc = _view(service)
            row = {
                "second": s,
                "endpoint": ep,
                "class": cls,
                "count": lat.get_total_count(),
                **percentiles_ms(lat),
                **{f"service_{k}": v for k, v in percentiles_ms(svc).items()},
                "latency_hdr": _encoded(h),
                "service_hdr": _encoded(service),
            }
            _release(h, lat)
            _release(service, svc)
            yield row

    def summary(self) -> dict[str, Any]:
        """Totals of the whole run: offered, started, ok, errors by class, latency in ms."""
        totals = SecondCounts()
        for c in self.counts.values():
            totals.add(c)
        # One pass, each histogram decoded once: a long run has tens of thousands.
        by_endpoint: dict[str, HdrHistogram] = {}
        service = new_histogram()
        ep_classes: dict[str, dict[str, int]] = {}
        for (_s, ep, cls, kind), h in self._hists.items():
            hist = _view(h)
            if kind == "service":
                service.add(hist)
            else:
                if ep not in by_endpoint:
                    by_endpoint[ep] = new_histogram()
                    ep_classes[ep] = dict.fromkeys(CLASSES, 0)
                by_endpoint[ep].add(hist)
                ep_classes[ep][cls] += hist.get_total_count()
            _release(h, hist)
        latency = new_histogram()
        classes = dict.fromkeys(CLASSES, 0)
        for ep, hist in by_endpoint.items():
            latency.add(hist)
            for cls, n in ep_classes[ep].items():
                classes[cls] += n
        return {
            "offered": totals.offered,
            "started": totals.started,
            "late": totals.late,
            "dropped": totals.dropped,
            "missed": totals.missed,
            "requests": sum(classes.values()),
            "ok": classes["ok"],
            "errors": {cls: classes[cls] for cls in ERROR_CLASSES},
            **percentiles_ms(latency),
            "service": percentiles_ms(service),
            "endpoints": {
                ep: {**ep_classes[ep], **percentiles_ms(by_endpoint[ep])}
                for ep in sorted(by_endpoint)
            },
        }

    def _live(self, key: Key) -> HdrHistogram:
        h = self._hists.get(key)
        if h is None:
            self._keys_of.setdefault(key[0], []).append(key)
        if not isinstance(h, HdrHistogram):
            h = self._hists[key] = _decoded(h)
        return h

    def _second(self, second: int) -> SecondCounts:
        c = self.counts.get(second)
        if c is None:
            c = self.counts[second] = SecondCounts()
        return c


def free(hist: HdrHistogram) -> None:
    """Let a histogram that is done with go at once (it cannot be encoded afterwards).

    hdrh's encoder points back at its histogram: a cycle that only the cyclic garbage
    collector frees, and it runs by object counts, not bytes. At ~170 kB a histogram, the
    collector of a long run held hundreds of MB of them waiting (bench.results_memory).
    """
    hist.encoder = None


def decoded(encoded: str) -> HdrHistogram:
    """A new histogram from its encoding (a fifth of the time of decode_and_add into a new one,
    which also leaves a decoded histogram behind for the cyclic GC)."""
    return HdrHistogram.decode(encoded)


def _retired(hist: HdrHistogram) -> str:
    """A histogram's encoding, and the histogram freed at once."""
    encoded = str(hist.encode().decode())
    free(hist)
    return encoded


def _decoded(encoded: str | None) -> HdrHistogram:
    if encoded is None:
        return new_histogram()
    hist = new_histogram()
    hist.decode_and_add(encoded)
    return hist


def _encoded(h: HdrHistogram | str) -> str:
    # A stored (compacted) form is passed on as it is: re-encoding costs as much as decoding.
    return h if isinstance(h, str) else str(h.encode().decode())


def _count(h: HdrHistogram | str) -> int:
    hist = _view(h)
    n = int(hist.get_total_count())
    _release(h, hist)
    return n


def _view(h: HdrHistogram | str) -> HdrHistogram:
    """A stored histogram to read: itself if live, else decoded (give it to `_release`)."""
    return h if isinstance(h, HdrHistogram) else decoded(h)


def _release(stored: HdrHistogram | str, hist: HdrHistogram) -> None:
    """Free what `_view` decoded at once: writing an hour's load-seconds.* decodes ~10^5
    of them, and left to the cyclic collector (see `free`) they raised the harness's peak
    from 113 to 187 MB (bench.results_memory)."""
    if hist is not stored:
        free(hist)

