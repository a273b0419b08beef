"""The seeded arrival schedule: phases + seed -> when each journey starts and what it does.

Pure and deterministic: the same workload and seed give the same arrivals in
the same order on any machine, for both architectures. Arrival times come from
inverting the cumulative rate Λ(t) = ∫ rate: arrival k is at Λ⁻¹(x_k), where
x_k = k + 0.5 (uniform) or a sum of unit exponential gaps (a Poisson process
whose rate follows the phases). Journey choices and their parameters come from
a second generator, so switching `arrivals` does not change which journeys run.

A series phase (a recorded night) is replayed exactly instead: each bucket gets
round(Λ at its end) - round(Λ at its start) arrivals, so the count per bucket is the
recorded one and the running total never drifts; inside the bucket they fall at even
gaps (uniform) or at seeded random times (poisson: given the count, a Poisson
process's times are uniform order statistics).
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from harness.scenario.workload import SeriesPhase, Workload


class Arrival(NamedTuple):
    """One scheduled journey start."""

    #: position in the schedule, from 0
    seq: int
    #: seconds from the start of the load
    offset_s: float
    journey: str
    #: the journey's choices, drawn from the seed: product id, quantity, event id, seats
    product_id: int
    quantity: int
    event_id: int
    seats: int


@dataclass(frozen=True)
class Segment:
    """A piece of the rate curve, linear between its ends."""

    start_s: float
    length_s: float
    rate_start: float
    rate_end: float
    #: a series bucket: exactly its (rounded) area's arrivals, not a random count
    exact: bool = False

    @property
    def area(self) -> float:
        """Expected arrivals in this segment."""
        return (self.rate_start + self.rate_end) / 2 * self.length_s

    def rate_at(self, t: float) -> float:
        slope = (self.rate_end - self.rate_start) / self.length_s
        return self.rate_start + slope * (t - self.start_s)

    def time_of(self, x: float) -> float:
        """The time at which this segment's cumulative arrivals reach x (0 <= x <= area)."""
        r0 = self.rate_start
        slope = (self.rate_end - r0) / self.length_s
        # The stable root of r0*τ + slope*τ²/2 = x; it also covers slope = 0 and r0 = 0.
        disc = max(r0 * r0 + 2 * slope * x, 0.0)
        tau = 2 * x / (r0 + math.sqrt(disc))
        return self.start_s + min(tau, self.length_s)


def segments(workload: Workload) -> list[Segment]:
    """The workload's rate curve as linear segments with absolute start times."""
    if workload.locustfile is not None:
        return []  # a locustfile's users set their own pace: no schedule
    result = []
    for phase, (_name, start, _end) in zip(workload.phases, workload.phase_windows(), strict=True):
        at = start
        for length, r0, r1 in phase.segments():
            if length > 0:
                result.append(Segment(at, length, r0, r1, phase.exact_counts))
            at += length
    return result


def rate_at(workload: Workload, t: float) -> float:
    """Offered arrivals per second at offset t (0 outside the phases and in gaps).

    Called once a second of the run: it looks into the one phase running at t (a
    series by index), so a night-long series costs no more than a constant phase.
    """
    if workload.locustfile is not None:
        return 0.0
    for phase, (_name, start, end) in zip(workload.phases, workload.phase_windows(), strict=True):
        if not start <= t < end:
            continue
        if isinstance(phase, SeriesPhase):
            return phase.rates[min(int((t - start) // phase.bucket), len(phase.rates) - 1)]
        at = start
        for length, r0, r1 in phase.segments():
            if length > 0 and at <= t < at + length:
                return Segment(at, length, r0, r1).rate_at(t)
            at += length
    return 0.0


def phase_at(workload: Workload, t: float) -> str | None:
    """The name of the phase running at offset t, None in gaps and after the end."""
    for name, start, end in workload.phase_windows():
        if start <= t < end:
            return name
    return None


def arrivals(workload: Workload, seed: int | None = None) -> Iterator[Arrival]:
    """Every arrival of the run, in time order; lazily, so a long run costs no memory."""
    seed = workload.seed if seed is None else seed
    # String seeds are hashed with SHA-512 by `random`, stable across processes and versions.
    gaps = random.Random(f"harness:{seed}:arrivals")
    choices = random.Random(f"harness:{seed}:journeys")
    names = list(workload.journeys)
    cumulative = list(itertools.accumulate(workload.journeys[n].weight for n in names))
    total = cumulative[-1] if cumulative else 0.0
    products, events = workload.data.products, workload.data.events
    poisson = workload.arrivals == "poisson"
    # random() and bisect instead of choices()/randint(): a third of the cost per arrival,
    # which the generator pays for every arrival, at any rate.
    draw = choices.random

    def arrival(index: int, offset_s: float) -> Arrival:
        return Arrival(
            index,
            offset_s,
            names[min(bisect.bisect_right(cumulative, draw() * total), len(names) - 1)],
            int(draw() * products) + 1,
            int(draw() * 3) + 1,
            int(draw() * events) + 1,
            int(draw() * 4) + 1,
        )

    index = 0
    done = 0.0  # cumulative expected arrivals before the current segment
    x = gaps.expovariate(1.0) if poisson else 0.5
    for seg in segments(workload):
        area = seg.area
        if seg.exact:
            for offset_s in _bucket_times(seg, _whole(done + area) - _whole(done), gaps, poisson):
                yield arrival(index, offset_s)
                index += 1
            done += area
            # a phase after the series starts its own arrivals from here
            x = done + (gaps.expovariate(1.0) if poisson else 0.5)
            continue
        while x < done + area:
            yield arrival(index, seg.time_of(x - done))
            index += 1
            x += gaps.expovariate(1.0) if poisson else 1.0
        done += area


def _whole(x: float) -> int:
    """x rounded half up (not to even), so a series of halves alternates 0, 1, 0, 1."""
    return math.floor(x + 0.5)


def _bucket_times(seg: Segment, n: int, gaps: random.Random, poisson: bool) -> list[float]:
    """The offsets of a series bucket's n arrivals, in order, inside [start, end)."""
    if n <= 0:
        return []
    if poisson:
        return [seg.start_s + u * seg.length_s for u in sorted(gaps.random() for _ in range(n))]
    step = seg.length_s / n
    return [seg.start_s + (k + 0.5) * step for k in range(n)]


def offered_per_second(workload: Workload, seed: int | None = None) -> list[int]:
    """Scheduled arrivals in each whole second of the run."""
    counts = [0] * math.ceil(workload.duration)
    for a in arrivals(workload, seed):
        counts[min(int(a.offset_s), len(counts) - 1)] += 1
    return counts
