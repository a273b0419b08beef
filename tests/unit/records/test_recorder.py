from __future__ import annotations

import json
import random

from harness.records.recorder import Recorder, new_histogram, percentiles_ms, record_us


def samples(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.lognormvariate(-5, 1.0) for _ in range(n)]  # seconds, median ~7 ms


def test_merge_of_parts_equals_one_recorder_of_all_samples() -> None:
    values = samples(20_000, 1)
    whole = Recorder()
    parts = [Recorder() for _ in range(4)]
    for i, v in enumerate(values):
        second = i % 3
        whole.request(second, "GET /", "ok", v, v / 2)
        parts[i % 4].request(second, "GET /", "ok", v, v / 2)
    merged = Recorder()
    for part in parts:
        # through JSON, as between processes
        merged.merge_wire(json.loads(json.dumps(part.to_wire())))
    assert merged.summary() == whole.summary()
    for s in range(3):
        assert merged.second_row(s) == whole.second_row(s)


def test_percentiles_are_within_the_histogram_precision() -> None:
    values = samples(50_000, 2)
    rec = Recorder()
    for v in values:
        rec.request(0, "GET /", "ok", v, v)
    exact = sorted(values)
    got = rec.summary()
    for key, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)):
        want_ms = exact[int(q * len(exact)) - 1] * 1000
        assert abs(got[key] - want_ms) <= want_ms * 0.002 + 0.002, key
    assert abs(got["max"] - exact[-1] * 1000) <= exact[-1] * 1000 * 0.001


def test_counts_add_up_by_class_and_endpoint() -> None:
    rec = Recorder()
    rec.request(0, "GET /a", "ok", 0.01, 0.01)
    rec.request(0, "GET /a", "http_5xx", 0.02, 0.02)
    rec.request(1, "GET /b", "timeout", 2.0, 2.0)
    s = rec.summary()
    assert s["requests"] == 3
    assert s["ok"] == 1
    assert s["errors"]["http_5xx"] == 1
    assert s["errors"]["timeout"] == 1
    assert s["endpoints"]["GET /a"]["ok"] == 1
    assert rec.second_row(1)["timeout"] == 1


def test_arrivals_count_started_late_dropped_and_missed() -> None:
    rec = Recorder()
    rec.arrival(0, lag_s=0.001)
    rec.arrival(0, lag_s=0.3, late=True)
    rec.arrival(0, lag_s=None)
    rec.missed(0, 2)
    row = rec.second_row(0)
    assert (row["offered"], row["started"], row["late"], row["dropped"], row["missed"]) == (
        5,
        2,
        1,
        1,
        2,
    )
    assert 299 <= row["lag_max_ms"] <= 301


def test_dropped_arrivals_are_kept_per_endpoint_across_the_wire() -> None:
    worker = Recorder()
    worker.arrival(4, lag_s=None, endpoint="GET /products")
    worker.arrival(4, lag_s=None, endpoint="GET /products")
    worker.arrival(4, lag_s=None, endpoint="GET /events/{id}")
    collector = Recorder()
    collector.merge_wire(worker.drain())
    collector.merge_wire(worker.drain())  # an empty delta adds nothing
    assert collector.dropped == {(4, "GET /products"): 2, (4, "GET /events/{id}"): 1}
    assert collector.counts[4].dropped == 3
    assert worker.dropped == {}


def test_compacted_seconds_still_merge_and_read() -> None:
    rec = Recorder()
    rec.request(0, "GET /", "ok", 0.010, 0.005)
    rec.compact(before_second=5)
    other = Recorder()
    other.request(0, "GET /", "ok", 0.020, 0.005)
    rec.merge_wire(other.to_wire())
    assert rec.summary()["requests"] == 2
    assert 19.9 <= rec.summary()["max"] <= 20.1


def test_drain_hands_over_and_forgets() -> None:
    rec = Recorder()
    rec.request(0, "GET /", "ok", 0.01, 0.01)
    rec.writes.append({"kind": "order"})
    wire = rec.drain()
    assert len(wire["hists"]) == 2
    assert wire["writes"] == [{"kind": "order"}]
    assert rec.summary()["requests"] == 0
    assert rec.writes == []


def test_values_beyond_the_range_are_clamped_not_lost() -> None:
    h = new_histogram()
    record_us(h, 10_000.0)
    record_us(h, 0.0)
    assert h.get_total_count() == 2
    assert percentiles_ms(h)["max"] >= 599_000


def test_empty_histogram_reads_as_zeros() -> None:
    assert percentiles_ms(None) == {
        "p50": 0.0,
        "p90": 0.0,
        "p95": 0.0,
        "p99": 0.0,
        "p999": 0.0,
        "max": 0.0,
    }


def test_fast_percentiles_equal_hdrhistograms_own() -> None:
    for seed in range(5):
        h = new_histogram()
        for v in samples(1 + seed * 999, seed):
            record_us(h, v * (10**seed))  # from microseconds to minutes
        want = h.get_percentile_to_value_dict([50, 90, 95, 99, 99.9])
        got = percentiles_ms(h)
        assert [got[k] for k in ("p50", "p90", "p95", "p99", "p999")] == [
            want[p] / 1000 for p in (50, 90, 95, 99, 99.9)
        ]


def test_one_second_s_row_reads_only_that_second_across_compaction_and_drain() -> None:
    """The live view's row of a second (indexed by second) equals a scan of every key."""
    rng = random.Random(7)
    rec = Recorder()
    for i in range(3000):
        second = i % 30
        cls = "ok" if rng.random() > 0.1 else "http_5xx"
        latency = rng.lognormvariate(-4, 1.0)
        rec.request(second, rng.choice(("GET /a", "POST /b")), cls, latency, latency / 2)
    rec.compact(20)  # seconds 0-19 are stored encoded from here
    for second in (0, 19, 20, 29):
        row = rec.second_row(second)
        everything = rec.histogram()
        scanned = Recorder()
        scanned.merge_wire({"hists": [h for h in rec.to_wire()["hists"] if h[0] == second],
                            "lag": [], "counts": [], "writes": []})
        assert row["p99"] == scanned.summary()["p99"] > 0
        assert row["http_5xx"] + row["ok"] == scanned.summary()["requests"]
        assert everything.get_total_count() == 3000
    rec.drain()
    assert rec.second_row(5)["ok"] == 0
    rec.request(5, "GET /a", "ok", 0.01, 0.01)
    assert rec.second_row(5)["ok"] == 1
