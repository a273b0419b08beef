"""Run-level metrics of any multiset of a run's seconds, from exactly merged histograms.

`harness compare` needs p50/p95/p99, error rate and achieved/offered of the
whole run, and of thousands of bootstrap resamples of its seconds. Merging
HdrHistograms object by object would take minutes, so each second's histogram
is laid out as one row of counts over the buckets the run used; a resample is a
weight per second (how often it was drawn), its merged histogram the weighted
sum of rows (exact: integer counts), and its percentiles are read off the sum
with the same rule as `harness.records.recorder.percentiles_ms`. With every weight
1, the metrics equal `ArchData.stats()` of the whole run (a unit test holds them
to it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from harness.analysis.series import ALL, ArchData
from harness.records.recorder import PERCENTILES

Array = npt.NDArray[np.float64]
#: the metrics this module computes; latency ones in ms
LATENCY_METRICS: tuple[str, ...] = ("p50", "p95", "p99")
RATIO_METRICS: tuple[str, ...] = ("error_rate", "achieved_ratio")
#: resamples merged at once
CHUNK = 256
#: HdrHistogram's counter width in bytes -> numpy type (as percentiles_ms reads them)
_WORD = {2: np.int16, 4: np.int32, 8: np.int64}


@dataclass(frozen=True)
class SecondTable:
    """One run's seconds as arrays: bucket counts (seconds x buckets) and per-second totals."""

    #: the latency in ms that each used bucket stands for (its highest equivalent value)
    bucket_ms: Array
    counts: Array
    requests: Array
    errors: Array
    offered: Array
    achieved: Array

    @classmethod
    def of(cls, data: ArchData, endpoint: str = ALL) -> SecondTable:
        seconds = range(data.duration_s)
        rows: list[dict[int, int]] = []
        values: dict[int, float] = {}
        for s in seconds:
            row: dict[int, int] = {}
            hist = data.histogram(s, endpoint)
            if hist is not None and hist.get_total_count():
                used = hist._counts_index_for(hist.get_max_value()) + 1
                raw = np.frombuffer(memoryview(hist.counts).cast("B"),
                                    dtype=_WORD[hist.word_size], count=used)
                for index in np.flatnonzero(raw).tolist():
                    row[index] = int(raw[index])
                    if index not in values:
                        values[index] = hist.get_highest_equivalent_value(
                            hist.get_value_from_index(index)) / 1000
            rows.append(row)
        order = sorted(values)
        column = {index: i for i, index in enumerate(order)}
        counts = np.zeros((len(rows), len(order)), dtype=np.float64)
        for i, row in enumerate(rows):
            for index, n in row.items():
                counts[i, column[index]] = n
        stats = [data.second(s, endpoint) for s in seconds]
        return cls(
            bucket_ms=np.asarray([values[i] for i in order], dtype=np.float64),
            counts=counts,
            # error rates count arrivals dropped at the cap as failures, as Stats does
            requests=np.asarray([st.attempts() for st in stats], dtype=np.float64),
            errors=np.asarray([st.failures() for st in stats], dtype=np.float64),
            offered=np.asarray([st.offered for st in stats], dtype=np.float64),
            achieved=np.asarray([st.achieved for st in stats], dtype=np.float64),
        )

    @property
    def seconds(self) -> int:
        return len(self.requests)

    def metric(self, name: str, weights: Array | None = None) -> Array:
        """The metric of each resample (row of `weights`, seconds wide); NaN = no data.

        `weights` None is the run itself (one value). Error rate without a finished
        request and latency without one are NaN, never 0; achieved/offered without
        an offered arrival is NaN too.
        """
        w = np.ones((1, self.seconds)) if weights is None else weights
        if name == "error_rate":
            return _ratio(w @ self.errors, w @ self.requests)
        if name == "achieved_ratio":
            return _ratio(w @ self.achieved, w @ self.offered)
        if name not in PERCENTILES:
            raise KeyError(f"no run-level metric {name!r}")
        return self._percentile(PERCENTILES[name], w)

    def _percentile(self, p: float, w: Array) -> Array:
        out = np.full(len(w), np.nan)
        if not self.bucket_ms.size:
            return out
        # in chunks: resamples x buckets of a long run would take hundreds of MB at once
        for lo in range(0, len(w), CHUNK):
            cumulative = np.cumsum(w[lo:lo + CHUNK] @ self.counts, axis=1)
            total = cumulative[:, -1]
            has = total > 0
            # percentiles_ms's rank rule: the first bucket holding the rank p x total
            target = np.maximum(np.floor(p * total / 100 + 0.5), 1)
            index = np.argmax(cumulative >= target[:, None], axis=1)
            out[lo:lo + CHUNK][has] = self.bucket_ms[index[has]]
        return out


def _ratio(num: Array, den: Array) -> Array:
    out = np.full(len(num), np.nan)
    ok = den > 0
    out[ok] = num[ok] / den[ok]
    return out
