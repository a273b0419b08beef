"""Per deploy: failed requests until it settled, rollback and first alarm, before noticed."""

from __future__ import annotations

from typing import Any

import pytest

from harness.analysis.deploys import summarize
from harness.analysis.detection import FaultDetection
from harness.analysis.series import ArchData
from harness.records.events import DeployEvent


def _data(seconds: int, errors: dict[int, int]) -> ArchData:
    """10 requests a second; `errors[s]` of them in second s are 5xx."""
    data = ArchData("modern")
    for s in range(seconds):
        bad = errors.get(s, 0)
        data.add_samples(s, "GET /products", "ok", [5.0] * (10 - bad))
        if bad:
            data.add_samples(s, "GET /products", "http_5xx", [5.0] * bad)
    return data


def _ev(kind: DeployEvent, t_s: float, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "t_s": t_s, "deploy": "release", "arch": "modern",
            **fields}


def _detected(after_s: float | None, alarm: str = "alb-target-5xx") -> list[FaultDetection]:
    return [FaultDetection("release", 10.0, alarm if after_s is not None else None, after_s)]


BLUE_GREEN_START = _ev(DeployEvent.START, 10.0, strategy="codedeploy_blue_green",
                       version="bad-errors", config="Canary10Percent5Minutes",
                       rollback_alarm="alb-target-5xx")


def test_a_rolled_back_deploy_counts_failures_until_traffic_is_back_on_blue() -> None:
    events = [BLUE_GREEN_START, _ev(DeployEvent.SHIFT, 15.0, percent=10),
              _ev(DeployEvent.ROLLBACK, 22.2, alarm="alb-target-5xx", alarm_at_s=22.1),
              _ev(DeployEvent.DONE, 22.3, outcome="rolled_back")]
    # one 5xx a second from the canary (15 s) until the rollback (22 s), then none
    data = _data(40, dict.fromkeys(range(15, 23), 1))
    (d,) = summarize(events, data, _detected(12.1))
    assert d.outcome == "rolled_back"
    assert d.settled_after_s == 12.3
    assert d.rolled_back_after_s == 12.3
    assert d.rollback_alarm_after_s == 12.1
    assert (d.failed_requests, d.requests) == (8, 130)  # seconds 10..22
    assert d.p95_ms == pytest.approx(5.0, rel=0.01)
    assert d.before_p95_ms == pytest.approx(5.0, rel=0.01)  # seconds 0..9
    assert d.noticed_by == "alarm"  # paged at 12.1 s, a moment before traffic was back
    assert d.noticed_after_s == 12.1
    assert d.failed_before_noticed == 8  # seconds 10..22 (whole seconds)


def test_an_in_place_deploy_nobody_noticed_counts_until_the_end_of_the_run() -> None:
    events = [_ev(DeployEvent.START, 5.0, strategy="opsworks_rolling", version="bad-errors"),
              _ev(DeployEvent.TRAFFIC_SHIFTED, 9.0),
              _ev(DeployEvent.DONE, 9.0, outcome="succeeded")]
    data = _data(30, dict.fromkeys(range(7, 30), 2))
    (d,) = summarize(events, data, _detected(None))
    assert d.config is None
    assert d.outcome == "succeeded"
    assert (d.failed_requests, d.requests) == (4, 40)  # seconds 5..8
    assert d.rolled_back_after_s is None
    assert d.first_alarm is None
    assert d.noticed_by is None
    assert d.failed_before_noticed == 46  # seconds 5..29: everything until the run ended


def test_a_blue_green_deploy_whose_termination_wait_outlived_the_run_shifted_traffic() -> None:
    events = [BLUE_GREEN_START, _ev(DeployEvent.TRAFFIC_SHIFTED, 30.0),
              _ev(DeployEvent.UNFINISHED, 60.0)]
    (d,) = summarize(events, _data(60, {}), _detected(None))
    assert d.outcome == "traffic_shifted"
    assert d.settled_after_s == 20.0
    assert d.failed_requests == 0


def test_other_architectures_events_are_not_counted() -> None:
    events = [{**BLUE_GREEN_START, "arch": "legacy"}]
    assert summarize(events, _data(20, {}), [], arch="modern") == []
