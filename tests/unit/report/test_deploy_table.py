"""How a deploy reads in summary.md and the terminal: rollback, first alarm, or not detected."""

from __future__ import annotations

from dataclasses import replace

from harness.analysis.deploys import DeploySummary
from harness.report.deploytable import deploys_line, noticed, rolled_back

ROLLED_BACK = DeploySummary(
    deploy="bad-release", strategy="codedeploy_blue_green", version="bad-errors",
    config="Canary10Percent5Minutes", rollback_alarm="alb-target-5xx", start_s=15.0,
    outcome="rolled_back", settled_after_s=27.1, requests=1634, failed_requests=56,
    p95_ms=80.0, p99_ms=120.0, before_p95_ms=70.0,
    rollback_alarm_after_s=27.0, rolled_back_after_s=27.1, first_alarm="alb-target-5xx",
    first_alarm_after_s=27.0, noticed_by="alarm", noticed_after_s=27.0, failed_before_noticed=56)
IN_PLACE = replace(
    ROLLED_BACK, strategy="opsworks_rolling", config=None, rollback_alarm=None,
    outcome="succeeded", rollback_alarm_after_s=None, rolled_back_after_s=None,
    first_alarm=None, first_alarm_after_s=None, noticed_by=None, noticed_after_s=None,
    failed_requests=21, failed_before_noticed=800)


def test_a_rollback_names_its_alarm_and_times() -> None:
    assert rolled_back(ROLLED_BACK) == "27.1 s (alb-target-5xx in ALARM after 27.0 s)"
    assert "rolled back after 27.1 s" in deploys_line([ROLLED_BACK])


def test_an_unnoticed_in_place_deploy_says_so_and_counts_to_the_end() -> None:
    assert rolled_back(IN_PLACE) == "no automatic rollback"
    assert noticed(IN_PLACE) == "800 (not noticed within the run)"
    assert deploys_line([IN_PLACE]) == "bad-release succeeded, 21 failed until settled, " \
                                       "not detected"


def test_no_deploy_is_a_dash() -> None:
    assert deploys_line([]) == "—"
