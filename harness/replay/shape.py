"""The night as counters: arrivals per second, endpoint and status mixes per minute.

Memory is bounded by the time the logs span, never by their size: one counter per
second that had a request (about 100 bytes each: a day is under 10 MB), and per
minute one counter per endpoint seen in it and per status class. At most
MAX_ENDPOINTS distinct endpoint templates are told apart; later ones are counted
together as OTHER, so a scanner probing random paths cannot grow the table.

A window's mix is summed from the minutes it covers; a minute it cuts counts by the
share of that minute's requests that arrived inside the window (its mix taken as even
over the minute).

A replayed window is at most MAX_WINDOW_S long (one rate a second goes into the rate
file), and --busiest searches logs spanning at most MAX_SPAN_S.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from harness.errors import ConfigError
from harness.replay.formats import CLASSES, Entry
from harness.scenario.units import parse_duration

MAX_ENDPOINTS = 1000
MAX_WINDOW_S = 24 * 3600
MAX_SPAN_S = 31 * 24 * 3600
OTHER = "(other endpoints)"
#: room for every endpoint id in one int key per minute
_SLOTS = 1 << 12
assert MAX_ENDPOINTS < _SLOTS


class Tally:
    """Counters of every request read, in any order."""

    def __init__(self) -> None:
        self.per_second: defaultdict[int, int] = defaultdict(int)
        #: minute * _SLOTS + endpoint id -> requests
        self._endpoint_minutes: defaultdict[int, int] = defaultdict(int)
        #: minute * 8 + status class -> requests
        self._class_minutes: defaultdict[int, int] = defaultdict(int)
        self._ids: dict[str, int] = {}
        self.endpoints: list[str] = []
        self.requests = 0

    def add(self, entry: Entry, endpoint: str) -> None:
        second = entry.second
        self.per_second[second] += 1
        minute = second // 60
        eid = self._ids.get(endpoint)
        if eid is None:
            eid = self._new_id(endpoint)
        self._endpoint_minutes[minute * _SLOTS + eid] += 1
        self._class_minutes[minute * 8 + entry.status_class] += 1
        self.requests += 1

    def _new_id(self, endpoint: str) -> int:
        if len(self.endpoints) >= MAX_ENDPOINTS - 1:
            endpoint = OTHER
            if endpoint in self._ids:
                return self._ids[endpoint]
        self._ids[endpoint] = len(self.endpoints)
        self.endpoints.append(endpoint)
        return self._ids[endpoint]

    @property
    def span(self) -> tuple[int, int]:
        """(first second, last second) with a request; ConfigError when there was none."""
        if not self.per_second:
            raise ConfigError("no request could be read from the logs; check the files "
                              "and --format")
        return min(self.per_second), max(self.per_second)

    def series(self, start: int, end: int) -> list[int]:
        """Requests in each second of [start, end)."""
        counts = self.per_second
        return [counts.get(s, 0) for s in range(start, end)]

    def endpoint_mix(self, start: int, end: int) -> dict[str, float]:
        """Requests per endpoint in [start, end), from the per-minute counters."""
        mix: dict[str, float] = defaultdict(float)
        weights: dict[int, float] = {}
        for key, count in self._endpoint_minutes.items():
            minute = key // _SLOTS
            if minute not in weights:
                weights[minute] = self._inside(minute, start, end)
            if weights[minute]:
                mix[self.endpoints[key % _SLOTS]] += count * weights[minute]
        return dict(mix)

    def class_mix(self, start: int, end: int) -> dict[str, float]:
        """Requests per status class (2xx ... other) in [start, end)."""
        mix = dict.fromkeys(CLASSES, 0.0)
        weights: dict[int, float] = {}
        for key, count in self._class_minutes.items():
            minute = key // 8
            if minute not in weights:
                weights[minute] = self._inside(minute, start, end)
            if weights[minute]:
                mix[CLASSES[key % 8]] += count * weights[minute]
        return mix

    def _inside(self, minute: int, start: int, end: int) -> float:
        """The share of a minute's requests that arrived inside [start, end)."""
        lo, hi = minute * 60, minute * 60 + 60
        if start <= lo and hi <= end:
            return 1.0
        if hi <= start or end <= lo:
            return 0.0
        counts = self.series(lo, hi)
        inside = sum(counts[max(start - lo, 0):min(end, hi) - lo])
        return inside / max(sum(counts), 1)


def busiest(counts: list[int], width: int) -> int:
    """Start index of the `width` consecutive seconds with the most requests (earliest wins)."""
    if width >= len(counts):
        return 0
    total = sum(counts[:width])
    best, best_at = total, 0
    for i in range(width, len(counts)):
        total += counts[i] - counts[i - width]
        if total > best:
            best, best_at = total, i - width + 1
    return best_at


@dataclass(frozen=True)
class Shaped:
    """The replayed series: the window's requests per second, scaled and compressed."""

    #: requests per second of each replayed second
    rates: list[float]
    scale: float
    compress: int


def shape(counts: Iterable[int], *, scale: float, compress: int) -> Shaped:
    """Each `compress` seconds become one at their mean rate, then x `scale`.

    Compressing keeps the rates (the load the stack sees) and shortens the night:
    2 replays a 10-minute window in 5 minutes, each second at the mean of two.
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise ConfigError(f"--scale {scale:g}: give a factor above 0, e.g. 3")
    if compress < 1:
        raise ConfigError(f"--compress {compress}: give a whole ratio of 1 or more, e.g. 2")
    values = list(counts)
    rates = []
    for i in range(0, len(values), compress):
        group = values[i:i + compress]
        rates.append(sum(group) / len(group) * scale)
    return Shaped(rates, scale, compress)


@dataclass(frozen=True)
class Window:
    """The part of the logs replayed: [start, end) in epoch seconds, and how it was chosen."""

    start: int
    end: int
    #: "the busiest 10m", "--from/--to", "the whole logs"
    chosen: str

    @property
    def seconds(self) -> int:
        return self.end - self.start


def utc(second: int) -> str:
    """An epoch second as `2025-11-28T20:00:00Z`."""
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(flag: str, text: str) -> int:
    """An ISO 8601 time (`2025-11-28T20:00:00Z`, `...+01:00`; none given: UTC) -> epoch s."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{flag} {text!r}: not an ISO 8601 time; write e.g. "
                          "2025-11-28T20:00:00Z") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # the load balancers log UTC
    return math.floor(when.timestamp())


def pick_window(tally: Tally, *, start: str | None, end: str | None,
                busiest_for: str | None) -> Window:
    """The window to replay: --from/--to, the busiest stretch, or the whole logs."""
    first, last = tally.span
    if busiest_for is not None:
        if start is not None or end is not None:
            raise ConfigError("--busiest finds the window itself; drop --from/--to "
                              "(or --busiest)")
        try:
            width = math.ceil(parse_duration(busiest_for))
        except ValueError as exc:
            raise ConfigError(f"--busiest: {exc}") from None
        if width < 1:
            raise ConfigError(f"--busiest {busiest_for!r}: give a length of 1s or more, e.g. 10m")
        if last - first > MAX_SPAN_S:
            raise ConfigError(f"the logs span {utc(first)} to {utc(last + 1)}, more than "
                              f"{MAX_SPAN_S // 86400} days to search; narrow them with "
                              "--from/--to")
        counts = tally.series(first, last + 1)
        if width >= len(counts):
            return Window(first, last + 1, f"the whole logs (shorter than --busiest {busiest_for})")
        at = first + busiest(counts, width)
        return Window(at, at + width, f"the busiest {busiest_for}")
    lo = first if start is None else parse_time("--from", start)
    hi = last + 1 if end is None else parse_time("--to", end)
    if hi <= lo:
        raise ConfigError(f"--from {utc(lo)} is not before --to {utc(hi)}")
    if hi <= first or lo > last:
        raise ConfigError(f"--from/--to ({utc(lo)} to {utc(hi)}) is outside the logs, "
                          f"which span {utc(first)} to {utc(last + 1)}")
    if hi - lo > MAX_WINDOW_S:
        raise ConfigError(f"the window {utc(lo)} to {utc(hi)} is longer than "
                          f"{MAX_WINDOW_S // 3600} h; pick part of it with --busiest 10m or "
                          "--from/--to")
    chosen = "the whole logs" if start is None and end is None else "--from/--to"
    return Window(lo, hi, chosen)
