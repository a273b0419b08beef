"""Per deploy: what it cost in failed requests, and how soon it was rolled back or noticed.

Read back from the `deploy.*` events (harness.deploys) and the per-second series:

- the deploy's window runs from `deploy.start` until it settled: all traffic on the
  release (`deploy.traffic_shifted`) or back on the old one (`deploy.done` after a
  rollback); a deploy that never settled counts until the end of the run;
- failed requests are every failure (errors and dropped arrivals) in that window, in
  whole seconds (the series' resolution);
- it was noticed when it was rolled back (CodeDeploy's alarm) or when its first alarm
  went to ALARM (harness.analysis.detection: a person being paged), whichever came
  first; the failures until then are what the release cost before anyone knew.
  Not noticed within the run is said as such, with the failures until its end.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.analysis.detection import FaultDetection
from harness.analysis.recovery import event_time
from harness.analysis.series import ArchData
from harness.records.events import DeployEvent, Source


@dataclass(frozen=True)
class DeploySummary:
    deploy: str
    strategy: str
    version: str
    #: CodeDeploy's traffic shifting (modern); None for an in-place deploy
    config: str | None
    rollback_alarm: str | None
    start_s: float
    #: succeeded, rolled_back, failed, traffic_shifted (all traffic on the release, the
    #: run ended during the termination wait) or unfinished (the run ended first)
    outcome: str
    #: seconds from the start until traffic stopped moving; None = not within the run
    settled_after_s: float | None
    #: requests and failures from the start until it settled (or the run ended)
    requests: int
    failed_requests: int
    #: latency percentiles in that window (None: nothing finished)
    p95_ms: float | None
    p99_ms: float | None
    #: p95 over as long a window just before the deploy (at most its start), to compare
    before_p95_ms: float | None
    #: seconds from the start to the rollback alarm's ALARM and to traffic back on blue
    rollback_alarm_after_s: float | None
    rolled_back_after_s: float | None
    #: the first alarm to go to ALARM after the start (any alarm), and when
    first_alarm: str | None
    first_alarm_after_s: float | None
    #: "rollback", "alarm", or None = nobody would have noticed within the run
    noticed_by: str | None
    noticed_after_s: float | None
    #: failures from the start until noticed (or, not noticed, until the end of the run)
    failed_before_noticed: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarize(events: Iterable[Mapping[str, Any]], data: ArchData,
              detections: Sequence[FaultDetection], arch: str | None = None
              ) -> list[DeploySummary]:
    """One summary per deploy of this architecture's events, in start order."""
    by_deploy: dict[str, list[Mapping[str, Any]]] = {}
    for e in events:
        if arch is not None and e.get("arch", arch) != arch:
            continue
        if str(e.get("kind", "")).startswith(Source.DEPLOY) and "deploy" in e:
            by_deploy.setdefault(str(e["deploy"]), []).append(e)
    detected = {d.fault: d for d in detections}
    end_s = float(data.duration_s)
    out = [_one(name, steps, data, detected.get(name), end_s)
           for name, steps in by_deploy.items() if _first(steps, DeployEvent.START)]
    return sorted(out, key=lambda d: d.start_s)


def _first(steps: Sequence[Mapping[str, Any]], kind: DeployEvent) -> Mapping[str, Any] | None:
    return next((e for e in steps if e.get("kind") == kind), None)


def _one(name: str, steps: Sequence[Mapping[str, Any]], data: ArchData,
         detection: FaultDetection | None, end_s: float) -> DeploySummary:
    start = _first(steps, DeployEvent.START)
    assert start is not None
    t0 = event_time(start)
    done = _first(steps, DeployEvent.DONE)
    rollback = _first(steps, DeployEvent.ROLLBACK)
    ended = done or _first(steps, DeployEvent.FAILED) or _first(steps, DeployEvent.UNFINISHED)
    outcome = str(ended.get("outcome", ended["kind"].removeprefix(Source.DEPLOY))) if ended else (
        "unfinished")
    shifted = _first(steps, DeployEvent.TRAFFIC_SHIFTED)
    if outcome == "unfinished" and shifted is not None and rollback is None:
        outcome = "traffic_shifted"  # all on the release; the run ended in the termination wait
    settle = done if rollback is not None else shifted
    settled = event_time(settle) if settle is not None else None
    rolled = event_time(done) - t0 if rollback is not None and done is not None else None
    alarm_at = rollback.get("alarm_at_s") if rollback is not None else None
    first_alarm = detection.alarm if detection and detection.detected else None
    first_after = detection.detect_s if detection and detection.detected else None
    noticed: list[tuple[float, str]] = []
    if rolled is not None:
        noticed.append((rolled, "rollback"))
    if first_after is not None:
        noticed.append((first_after, "alarm"))
    noticed_after, noticed_by = min(noticed) if noticed else (None, None)
    until = settled if settled is not None else end_s
    requests, failed, latency = _window(data, t0, until)
    _, _, before_latency = _window(data, max(0.0, t0 - max(1.0, until - t0)), math.floor(t0))
    _, before, _ = _window(data, t0, t0 + noticed_after if noticed_after is not None else end_s)
    return DeploySummary(
        deploy=name, strategy=str(start.get("strategy", "")), version=str(start.get("version")),
        config=start.get("config"), rollback_alarm=start.get("rollback_alarm"),
        start_s=round(t0, 3), outcome=outcome,
        settled_after_s=None if settled is None else round(settled - t0, 3),
        requests=requests, failed_requests=failed,
        p95_ms=latency.get("p95"), p99_ms=latency.get("p99"),
        before_p95_ms=before_latency.get("p95"),
        rollback_alarm_after_s=None if alarm_at is None else round(float(alarm_at) - t0, 3),
        rolled_back_after_s=None if rolled is None else round(rolled, 3),
        first_alarm=first_alarm,
        first_alarm_after_s=None if first_after is None else round(first_after, 3),
        noticed_by=noticed_by,
        noticed_after_s=None if noticed_after is None else round(noticed_after, 3),
        failed_before_noticed=before,
    )


def _window(data: ArchData, lo: float, hi: float) -> tuple[int, int, dict[str, float]]:
    """Attempts, failures and latency percentiles in the whole seconds covering [lo, hi)."""
    first, last = max(0, math.floor(lo)), max(0, math.ceil(hi))
    if last <= first:
        return 0, 0, {}
    st = data.stats(first, last)
    latency = {k: round(float(v), 3) for k, v in st.latency_ms.items() if v is not None}
    return st.attempts(), st.failures(), latency if st.requests else {}
