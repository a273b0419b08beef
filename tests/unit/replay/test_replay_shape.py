"""Per-second counts, windows (--from/--to, --busiest), scale, compression and the mixes."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.replay.formats import Entry
from harness.replay.journey_mix import fit
from harness.replay.shape import MAX_ENDPOINTS, OTHER, Tally, busiest, pick_window, shape, utc

T0 = 1764360000  # 2025-11-28T20:00:00Z, a minute's start


def tally_of(counts: dict[int, int], endpoint: str = "GET /products", status: int = 0) -> Tally:
    tally = Tally()
    for second, n in counts.items():
        for _ in range(n):
            tally.add(Entry(second, "GET", "/", status), endpoint)
    return tally


def test_busiest_finds_the_heaviest_stretch_and_the_earliest_of_equals() -> None:
    assert busiest([1, 5, 5, 1, 9, 0], 2) == 1  # 5+5 and 1+9: the first
    assert busiest([1, 5, 4, 1, 9, 0], 2) == 3
    assert busiest([3, 3, 3, 3], 2) == 0
    assert busiest([1, 2], 5) == 0


def test_busiest_window_is_found_in_the_logs() -> None:
    counts = {T0 + s: 10 for s in range(600)} | {T0 + 300 + s: 50 for s in range(60)}
    window = pick_window(tally_of(counts), start=None, end=None, busiest_for="1m")
    assert (window.start, window.end) == (T0 + 300, T0 + 360)
    assert window.chosen == "the busiest 1m"


def test_from_to_take_iso_times_in_any_zone() -> None:
    tally = tally_of({T0 + s: 1 for s in range(3600)})
    window = pick_window(tally, start="2025-11-28T21:10:00+01:00", end="2025-11-28T20:20:00",
                         busiest_for=None)
    assert (window.start, window.end) == (T0 + 600, T0 + 1200)


@pytest.mark.parametrize(("start", "end", "busiest_for", "message"), [
    ("2025-11-28T20:10:00Z", "2025-11-28T20:05:00Z", None, "is not before --to"),
    ("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", None, "outside the logs"),
    ("yesterday", None, None, "--from 'yesterday': not an ISO 8601 time"),
    ("2025-11-28T20:10:00Z", None, "10m", "drop --from/--to"),
    (None, None, "soon", "--busiest: 'soon' is not a duration"),
])
def test_bad_windows_say_what_to_give(start: str | None, end: str | None,
                                      busiest_for: str | None, message: str) -> None:
    tally = tally_of({T0 + s: 1 for s in range(3600)})
    with pytest.raises(ConfigError, match=message):
        pick_window(tally, start=start, end=end, busiest_for=busiest_for)


def test_a_window_longer_than_a_day_is_refused() -> None:
    tally = tally_of({T0: 1, T0 + 2 * 86400: 1})
    with pytest.raises(ConfigError, match="longer than 24 h; pick part of it"):
        pick_window(tally, start=None, end=None, busiest_for=None)


def test_no_requests_at_all_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no request could be read"):
        pick_window(Tally(), start=None, end=None, busiest_for=None)


def test_scale_multiplies_each_second() -> None:
    assert shape([10, 0, 7], scale=3, compress=1).rates == [30, 0, 21]


def test_compress_replays_each_group_at_its_mean_rate() -> None:
    assert shape([10, 20, 30, 50, 7], scale=2, compress=2).rates == [30, 80, 14]


@pytest.mark.parametrize(("scale", "compress"), [(0, 1), (-1, 1), (float("inf"), 1), (1, 0)])
def test_bad_scale_or_compress_is_refused(scale: float, compress: int) -> None:
    with pytest.raises(ConfigError):
        shape([1], scale=scale, compress=compress)


def test_a_window_cutting_a_minute_counts_only_that_minutes_requests_inside() -> None:
    tally = Tally()
    for s in range(60):
        tally.add(Entry(T0 + s, "GET", "/", 0), "GET /a" if s < 30 else "GET /b")
    # the whole minute's mix is spread evenly, by the share of requests inside
    assert tally.endpoint_mix(T0, T0 + 15) == {"GET /a": 7.5, "GET /b": 7.5}
    assert tally.endpoint_mix(T0, T0 + 60) == {"GET /a": 30, "GET /b": 30}
    assert tally.endpoint_mix(T0 + 60, T0 + 120) == {}


def test_status_classes_are_counted_for_the_window() -> None:
    tally = tally_of({T0: 3})
    tally.add(Entry(T0 + 1, "GET", "/", 3), "GET /products")
    assert tally.class_mix(T0, T0 + 60) == {"2xx": 3, "3xx": 0, "4xx": 0, "5xx": 1, "other": 0}


def test_endpoints_beyond_the_limit_are_counted_together() -> None:
    tally = Tally()
    for i in range(MAX_ENDPOINTS + 50):
        tally.add(Entry(T0, "GET", "/", 0), f"GET /page-{i}")
    mix = tally.endpoint_mix(T0, T0 + 1)
    assert len(mix) == MAX_ENDPOINTS
    assert mix[OTHER] == 51
    assert sum(mix.values()) == MAX_ENDPOINTS + 50


def test_a_shop_mix_maps_exactly_onto_the_journeys() -> None:
    mix = fit({"GET /products": 300, "GET /products/{id}": 400, "POST /orders": 100,
               "GET /events/{id}": 100, "POST /events/{id}/reservations": 100,
               "GET /favicon.ico": 50})
    assert mix.weights == pytest.approx({"browse": 0.6, "checkout": 0.2, "ticket_rush": 0.2})
    assert mix.requests_per_arrival == pytest.approx(2.0)
    assert mix.replay_share == pytest.approx(mix.log_share)
    assert mix.unmapped == pytest.approx({"GET /favicon.ico": 50 / 1050})


def test_a_mix_the_journeys_cannot_make_is_matched_as_closely_as_they_can() -> None:
    # only product views: browse and checkout both add another request to each view
    mix = fit({"GET /products/{id}": 900, "GET /products": 100})
    assert set(mix.weights) == {"browse", "checkout"}
    off = max(abs(mix.log_share[e] - mix.replay_share[e]) for e in mix.log_share)
    assert 0 < off < 0.5


def test_a_log_with_no_shop_endpoint_is_carried_by_browse() -> None:
    mix = fit({"GET /": 10})
    assert mix.weights == {"browse": 1.0}
    assert mix.mapped_share == 0


def test_utc_writes_iso_with_z() -> None:
    assert utc(T0) == "2025-11-28T20:00:00Z"
