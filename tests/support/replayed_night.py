"""A synthetic replayed night and a rehearsal of it with known counts (report and analysis
tests): 2 s of warm-up, then 3 replayed seconds at 10, 20, 30 requests/s (x2 per journey)."""

from __future__ import annotations

from harness.analysis.series import ArchData
from harness.records.recorder import Recorder
from harness.scenario.replayed import ReplayedNight, ReplaySource

SOURCE = ReplaySource.model_validate({
    "phase": "replay",
    "window": {"start": "2025-11-28T20:00:00Z", "end": "2025-11-28T20:00:03Z",
               "chosen": "--from/--to"},
    "scale": 2, "compress": 1, "requests_per_journey": 2,
    "files": 1, "lines": 31, "skipped": 1, "requests": 30,
    "status": {"2xx": 24, "3xx": 3, "4xx": 1, "5xx": 2},
})
NIGHT = ReplayedNight(source=SOURCE, start_s=2.0, bucket_s=1.0,
                      requests_per_s=[10.0, 20.0, 30.0],
                      status_shares=SOURCE.status_shares())
#: the rehearsal's requests in the replayed seconds, by class
REHEARSED = {"ok": 40, "http_4xx": 2, "http_5xx": 3, "timeout": 4, "connection_refused": 1}
DROPPED = 2


def rehearsal(arch: str = "modern") -> ArchData:
    """Warm-up seconds 0-1 (ok only), then seconds 2-4 offered 5, 10, 15 journeys with
    REHEARSED's requests and DROPPED arrivals spread over them."""
    rec = Recorder()
    for s in (0, 1):
        for _ in range(7):
            rec.arrival(s, lag_s=0.001)
            rec.request(s, "GET /products", "ok", 0.01, 0.01)
    for s, journeys in ((2, 5), (3, 10), (4, 15)):
        for i in range(journeys):
            dropped = s == 4 and i < DROPPED
            rec.arrival(s, lag_s=None if dropped else 0.001, endpoint="GET /products")
    seconds = [2, 3, 4]
    n = 0
    for cls, count in REHEARSED.items():
        for _ in range(count):
            rec.request(seconds[n % 3], "GET /products", cls, 0.02, 0.02)
            n += 1
    return ArchData.from_recorder(arch, rec)
