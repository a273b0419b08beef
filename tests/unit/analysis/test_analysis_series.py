"""Per-second series: exact merges of recorded histograms over windows and endpoints."""

from __future__ import annotations

from harness.analysis.series import ALL, ArchData, scope_seconds, window_starts
from harness.records.recorder import Recorder, SecondCounts, new_histogram, percentiles_ms


def test_window_percentile_merges_histograms_instead_of_averaging() -> None:
    data = ArchData("modern")
    # second 0: 99 fast requests; second 1: 1 slow one. Averaging the per-second p50s would
    # give ~505 ms; the merged p50 over both seconds is the fast value.
    data.add_samples(0, "GET /products", "ok", [10.0] * 99)
    data.add_samples(1, "GET /products", "ok", [1000.0])
    direct = new_histogram()
    for ms in [10.0] * 99 + [1000.0]:
        direct.record_value(int(ms * 1000))
    stats = data.stats(0, 2)
    assert stats.latency_ms == percentiles_ms(direct)
    assert stats.latency_ms["p50"] < 11
    assert stats.latency_ms["max"] >= 999


def test_endpoint_scope_and_all_endpoints() -> None:
    data = ArchData("legacy")
    data.add_samples(0, "GET /products", "ok", [5.0] * 10)
    data.add_samples(0, "POST /orders", "ok", [50.0] * 8)
    data.add_samples(0, "POST /orders", "http_5xx", [70.0] * 2)
    orders = data.stats(endpoint="POST /orders")
    assert orders.requests == 10
    assert orders.errors == 2
    assert orders.error_rate == 0.2
    everything = data.stats(endpoint=ALL)
    assert everything.requests == 20
    assert everything.error_rate == 0.1


def test_achieved_ratio_counts_started_over_offered() -> None:
    data = ArchData("legacy")
    data.counts[0] = SecondCounts(offered=100, started=90, achieved=90, dropped=10)
    data.counts[1] = SecondCounts(offered=100, started=100, achieved=100)
    assert data.stats(0, 2).achieved_ratio == 0.95
    assert data.stats(5, 6).achieved_ratio == 1.0  # nothing offered: nothing missed


def test_from_recorder_keeps_counts_and_cells() -> None:
    rec = Recorder()
    for _ in range(3):
        rec.arrival(0, lag_s=0.001)
        rec.request(0, "GET /products", "ok", 0.02, 0.019)
    rec.arrival(1, lag_s=None)
    data = ArchData.from_recorder("modern", rec)
    assert data.stats().requests == 3
    assert data.counts[1].dropped == 1
    assert data.duration_s == 2


def test_rows_leave_no_second_out() -> None:
    data = ArchData("modern")
    data.add_samples(0, "GET /products", "ok", [5.0])
    data.add_samples(3, "GET /products", "ok", [5.0])
    assert [r["second"] for r in data.rows()] == [0, 1, 2, 3]
    assert data.rows()[1]["requests"] == 0


def test_window_starts_and_phase_scope() -> None:
    assert list(window_starts(0, 30, 10)) == list(range(21))
    assert list(window_starts(0, 5, 10)) == [0]
    assert scope_seconds({"peak": (30.0, 90.0)}, "peak", 120) == (30, 90)
    assert scope_seconds({"peak": (30.5, 90.0)}, "peak", 120) == (31, 90)
    assert scope_seconds({}, None, 120) == (0, 120)
