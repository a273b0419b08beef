"""The compressed clock: each ordering rule flips where a time scale inverts it, holds elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

from harness.analysis.orderings import (
    ClockOrdering,
    clock_orderings,
    from_record,
    recorded_profile,
    relation,
    withhold_estimates,
)
from harness.analysis.recovery import FaultWindow, detect
from harness.model.profile import Profile
from harness.model.profile_file import load_profile
from harness.scenario.faults import parse_timeline
from harness.scenario.scenario import available, load_scenario
from harness.scenario.slo import Recovery
from tests.support.synthetic import synthetic

WHY = "assumption: a test's own figure"


def _profile(arch: str, changes: dict[str, Any] | None = None) -> Profile:
    """A shipped profile with some keys (dotted paths) replaced."""
    raw = load_profile(arch).model_dump(mode="json")
    for path, value in (changes or {}).items():
        *parents, last = path.split(".")
        node = raw
        for key in parents:
            node = node[key]
        node[last] = value
    return Profile.model_validate(raw)


def _floor(value: float, seconds: float) -> dict[str, Any]:
    """A timing with a floor: `value` at AWS, never below `seconds` in a run."""
    return {"value": value, "source": WHY, "floor": {"value": seconds, "source": WHY}}


def _faults(*items: dict[str, Any]) -> list[Any]:
    return parse_timeline(list(items), source="test")


FAILOVER = {"name": "writer-dies", "type": "db_failover", "at": "10s"}
KILL = {"name": "kill-app", "type": "kill", "target": "app-1", "at": "10s"}


def _pair(orderings: list[ClockOrdering], a: str, b: str, fault: str | None = "writer-dies"
          ) -> ClockOrdering:
    """The ordering whose names contain `a` and `b`; of several, the plainest (`x`, not `x + y`)."""
    found = [o for o in orderings if o.fault == fault and a in o.pair[0] and b in o.pair[1]]
    assert found, [o.pair for o in orderings if o.fault == fault]
    return min(found, key=lambda o: len(o.pair[0]) + len(o.pair[1]))


def _judge(arch: str | Profile, faults: list[Any], scale: float, a: str, b: str,
           fault: str | None = "writer-dies", **kw: Any) -> ClockOrdering:
    profile = _profile(arch) if isinstance(arch, str) else arch
    return _pair(clock_orderings(profile, faults, scale, **kw), a, b, fault)


# -- the relation ------------------------------------------------------------------------


def test_relation_counts_a_scaled_timing_equal_to_its_round_value() -> None:
    assert relation(30 * 0.1, 3.0) == "="
    assert relation(3.5, 3.0) == ">"
    assert relation(0.5, 6.0) == "<"


# -- database outage ---------------------------------------------------------------------


def test_failover_against_query_timeout_inverts_at_a_tenth() -> None:
    # behind RDS Proxy the outage is the promotion: the failover figure less its DNS TTL
    o = _judge("modern", _faults(FAILOVER), 0.1, "database.failover_s", "db_query_timeout_s")
    assert o.pair[0] == "database.failover_s - database.dns_ttl_s"
    assert (o.aws_s, o.run_s) == ((25.0, 3.0), (2.5, 3.0))
    assert (o.aws, o.run, o.preserved) == (">", "<", False)
    assert o.touches == ("errors", "recovery")


def test_failover_against_query_timeout_holds_at_aws_timing() -> None:
    o = _judge("modern", _faults(FAILOVER), 1.0, "database.failover_s", "db_query_timeout_s")
    assert (o.aws, o.run, o.preserved) == (">", ">", True)


def test_a_floor_on_the_failover_keeps_its_order() -> None:
    profile = _profile("modern", {"database.failover_s": _floor(30, 5)})
    o = _judge(profile, _faults(FAILOVER), 0.1, "database.failover_s", "db_query_timeout_s")
    assert o.run_s == (4.5, 3.0)
    assert o.preserved is True


def test_without_proxy_the_outage_is_the_failover_figure_its_dns_wait_included() -> None:
    o = _judge("modern-no-proxy", _faults(FAILOVER), 0.1, "failover_s", "db_query_timeout_s")
    assert o.pair[0] == "database.failover_s"
    assert o.aws_s == (30.0, 3.0)
    assert (o.aws, o.run, o.preserved) == (">", "=", False)  # 3 s = 3 s


@pytest.mark.parametrize(("arch", "outage", "aws_s"), [
    ("modern", "database.failover_s - database.dns_ttl_s", 25.0),
    ("modern-no-proxy", "database.failover_s", 30.0),
    ("legacy", "database.multi_az_failover_s", 90.0),
])
def test_the_dns_ttl_is_counted_once_inside_each_failover_figure(
    arch: str, outage: str, aws_s: float,
) -> None:
    o = _judge(arch, _faults(FAILOVER), 1.0, "failover_s", "db_query_timeout_s")
    assert (o.pair[0], o.aws_s[0]) == (outage, aws_s)


def test_reads_through_the_promoted_readers_restart_invert_at_a_tenth() -> None:
    # Aurora restarts the reader it promotes: 25 s of failed reads at AWS, 2.5 s (under the
    # 3 s query timeout) at 0.1; the planned failover restarts it too
    for mode in ("unplanned", "planned"):
        faults = _faults({**FAILOVER, "mode": mode})
        o = _judge("modern", faults, 0.1, "the promoted reader restarts", "db_query_timeout_s")
        assert (o.aws, o.run, o.preserved) == (">", "<", False)
        assert _judge("modern", faults, 1.0, "the promoted reader restarts",
                      "db_query_timeout_s").preserved is True
    no_restart = _profile("modern", {"database.failover_restarts_reader.value": False})
    assert not [o for o in clock_orderings(no_restart, _faults(FAILOVER), 0.1)
                if "promoted reader" in o.pair[0]]


def test_a_planned_aurora_failover_is_as_long_as_an_unplanned_one() -> None:
    planned = _faults({**FAILOVER, "mode": "planned"})
    o = _judge("modern-no-proxy", planned, 1.0, "database.failover_s", "db_query_timeout_s")
    assert o.aws_s[0] == 30.0


def test_outage_against_connect_timeout_inverts_below_it() -> None:
    args = (_faults(FAILOVER), "failover_s", "db_connect_timeout_s")
    assert _judge("modern-no-proxy", args[0], 0.02, *args[1:]).preserved is False  # 0.7 s < 1 s
    assert _judge("modern-no-proxy", args[0], 0.1, *args[1:]).preserved is True


def test_legacy_outage_is_the_multi_az_failover_its_dns_wait_included() -> None:
    o = _judge("legacy", _faults(FAILOVER), 0.1, "multi_az_failover_s", "db_query_timeout_s")
    assert o.aws_s == (90.0, 3.0)
    assert o.preserved is True


def test_outage_against_lb_eject_window_flips_with_a_floor_on_the_interval() -> None:
    floored = _profile("legacy", {"load_balancer.health_check.interval_s": _floor(30, 10)})
    o = _judge(floored, _faults(FAILOVER), 0.1, "multi_az_failover_s", "LB eject")
    assert (o.aws_s, o.run_s) == ((90.0, 60.0), (9.0, 20.0))
    assert (o.aws, o.run, o.preserved) == (">", "<", False)
    assert "detection" in o.touches
    assert _judge("legacy", _faults(FAILOVER), 0.1, "multi_az_failover_s",
                  "LB eject").preserved is True


def test_outage_against_re_admit_window_flips_when_the_outage_is_floored() -> None:
    floored = _profile("modern-no-proxy", {"database.failover_s": _floor(30, 20)})
    o = _judge(floored, _faults(FAILOVER), 0.1, "failover_s", "LB re-admit")
    assert (o.aws, o.run, o.preserved) == ("<", ">", False)
    assert _judge("modern-no-proxy", _faults(FAILOVER), 0.1, "failover_s",
                  "LB re-admit").preserved is True


def test_a_shallow_check_has_no_eject_pair_for_a_database_outage() -> None:
    shallow = _profile("modern", {
        "load_balancer.health_check.path": {"value": "/health", "source": WHY},
        "load_balancer.health_check.depth": {"value": "shallow", "source": WHY}})
    pairs = [o.pair for o in clock_orderings(shallow, _faults(FAILOVER), 0.1)]
    assert not [p for p in pairs if "LB eject" in p[1]]


def test_borrow_timeout_against_query_timeout_inverts_at_a_hundredth() -> None:
    args = ("connection_borrow_timeout_s", "db_query_timeout_s")
    o = _judge("modern", _faults(FAILOVER), 0.01, *args)
    assert (o.aws_s, o.run_s) == ((120.0, 3.0), (1.2, 3.0))
    assert o.preserved is False
    assert _judge("modern", _faults(FAILOVER), 0.1, *args).preserved is True


def test_outage_against_borrow_timeout_flips_when_the_failover_is_floored() -> None:
    floored = _profile("modern", {"database.failover_s": _floor(30, 20)})
    o = _judge(floored, _faults(FAILOVER), 0.1, "database.failover_s",
               "connection_borrow_timeout_s")
    assert (o.aws, o.run, o.preserved) == ("<", ">", False)
    assert _judge("modern", _faults(FAILOVER), 0.1, "database.failover_s",
                  "connection_borrow_timeout_s").preserved is True


def test_no_proxy_no_borrow_pairs() -> None:
    pairs = clock_orderings(_profile("modern-no-proxy"), _faults(FAILOVER), 0.1)
    assert not [o for o in pairs if "borrow" in o.pair[0] + o.pair[1]]


def test_a_cut_database_edge_is_an_outage_of_its_duration_in_run_time() -> None:
    cut = _faults({"name": "cut", "type": "down", "target": "app->db", "at": "10s",
                   "duration": "2s"})
    o = _judge("modern", cut, 0.1, "the fault's duration", "db_query_timeout_s", fault="cut")
    assert (o.aws_s, o.run_s) == ((20.0, 3.0), (2.0, 3.0))
    assert o.preserved is False


# -- an app killed -------------------------------------------------------------------------


def test_ecs_notice_against_eject_flips_with_a_floor_on_the_notice() -> None:
    floored = _profile("modern", {"orchestrator.task_stopped_notice_s": _floor(5, 10)})
    o = _judge(floored, _faults(KILL), 0.1, "task_stopped_notice_s", "LB eject",
               fault="kill-app")
    assert (o.aws, o.run, o.preserved) == ("<", ">", False)
    assert _judge("modern", _faults(KILL), 0.1, "task_stopped_notice_s", "LB eject",
                  fault="kill-app").preserved is True


def test_ecs_replacement_against_eject_holds_when_both_scale() -> None:
    o = _judge("modern", _faults(KILL), 0.05, "task_replacement_s", "LB eject",
               fault="kill-app")
    assert (o.aws_s, o.run_s) == ((35.0, 60.0), (1.75, 3.0))
    assert o.preserved is True


def test_asg_notice_against_eject_flips_with_a_floor() -> None:
    args = ("status_check_notice_s", "LB eject")
    o = _judge("legacy", _faults(KILL), 0.1, *args, fault="kill-app")
    assert (o.aws, o.run, o.preserved) == ("=", "=", True)
    floored = _profile("legacy", {"orchestrator.status_check_notice_s": _floor(60, 7)})
    assert _judge(floored, _faults(KILL), 0.1, *args, fault="kill-app").preserved is False


def test_asg_grace_against_launch_and_admission_with_elb_checks() -> None:
    elb = {"orchestrator.health_check_type": {"value": "ELB", "source": WHY}}
    args = ("health_check_grace_s", "launch_s + LB admits")
    o = _judge(_profile("legacy", elb), _faults(KILL), 0.1, *args, fault="kill-app")
    # 300 s against 150 s + 10 checks x 30 s: the grace runs out before a replacement serves
    assert (o.aws_s, o.run_s) == ((300.0, 450.0), (30.0, 45.0))
    assert o.preserved is True
    floored = _profile("legacy", {**elb,
                                  "orchestrator.health_check_grace_s": _floor(300, 200)})
    o = _judge(floored, _faults(KILL), 0.1, *args, fault="kill-app")
    assert (o.aws, o.run, o.preserved) == ("<", ">", False)
    # with EC2 checks the grace decides nothing about a dead instance
    assert not [p for p in clock_orderings(_profile("legacy"), _faults(KILL), 0.1)
                if "grace" in p.pair[0]]


# -- an app hung ---------------------------------------------------------------------------


def test_eject_window_against_floored_idle_timeout_inverts_a_hang() -> None:
    pause = _faults({"name": "hang", "type": "pause", "target": "app-1", "at": "10s",
                     "duration": "5s"})
    o = _judge("legacy", pause, 0.1, "LB eject", "idle_timeout_s", fault="hang")
    assert (o.aws_s, o.run_s) == ((60.0, 60.0), (6.0, 30.0))
    assert (o.aws, o.run, o.preserved) == ("=", "<", False)
    assert _judge("legacy", pause, 1.0, "LB eject", "idle_timeout_s",
                  fault="hang").preserved is True


def test_the_floored_check_timeout_outlasts_the_interval_at_a_twentieth() -> None:
    # 5 s < 30 s at AWS; at 0.05 the 2 s floor outlasts the 1.5 s interval, which AWS refuses
    pause = _faults({"name": "hang", "type": "pause", "target": "app-1", "at": "10s",
                     "duration": "5s"})
    o = _judge("legacy", pause, 0.05, "health_check.timeout_s", "health_check.interval_s",
               fault="hang")
    assert (o.aws_s, o.run_s) == ((5.0, 30.0), (2.0, 1.5))
    assert (o.aws, o.run, o.preserved) == ("<", ">", False)
    assert _judge("legacy", pause, 0.1, "health_check.timeout_s", "health_check.interval_s",
                  fault="hang").preserved is True


# -- AWS calls failing ---------------------------------------------------------------------


def _throttle(duration: str) -> list[Any]:
    return _faults({"name": "throttle", "type": "aws_throttle", "percent": 30, "at": "10s",
                    "duration": duration})


def test_a_throttle_shorter_than_the_sdk_back_off_inverts() -> None:
    o = _judge("modern", _throttle("2s"), 0.05, "the fault's duration", "SDK back-off",
               fault="throttle")
    assert (o.aws_s, o.run_s) == ((40.0, 3.0), (2.0, 3.0))  # Go SDK: 3 attempts, 1 + 2 s
    assert o.preserved is False


def test_a_throttle_longer_than_the_back_off_holds() -> None:
    o = _judge("legacy", _throttle("10s"), 0.1, "the fault's duration", "SDK back-off",
               fault="throttle")
    assert o.run_s == (10.0, 7.0)  # AsyncAws: 4 attempts, 1 + 2 + 4 s
    assert o.preserved is True


# -- the health check against the apps' latency (measured) ---------------------------------


def _unfloored() -> Profile:
    return _profile("legacy", {"load_balancer.health_check.timeout_s": {"value": 5,
                                                                       "source": WHY}})


def test_latency_between_the_run_and_the_aws_check_timeout_inverts() -> None:
    o = _judge(_unfloored(), _faults(KILL), 0.1, "health_check.timeout_s", "p99",
               fault="kill-app", p99_ms={"kill-app": 1000.0})
    assert (o.aws_s, o.run_s) == ((5.0, 1.0), (0.5, 1.0))
    assert (o.aws, o.run, o.preserved) == (">", "<", False)


def test_latency_below_both_timeouts_holds() -> None:
    o = _judge(_unfloored(), _faults(KILL), 0.1, "health_check.timeout_s", "p99",
               fault="kill-app", p99_ms={"kill-app": 200.0})
    assert o.preserved is True


def test_latency_without_measured_data_is_not_judged() -> None:
    o = _judge(_unfloored(), _faults(KILL), 0.1, "health_check.timeout_s", "p99",
               fault="kill-app")
    assert o.preserved is None
    assert o.reason == "not judged: no measured data"
    o = _judge(_unfloored(), _faults(KILL), 0.1, "health_check.timeout_s", "p99",
               fault="kill-app", p99_ms={"kill-app": None})
    assert o.reason == "not judged: no request finished in its window"


# -- a deploy watched by an alarm; auto scaling ----------------------------------------------


CANARY = {"name": "ship", "type": "deploy", "version": "bad-errors", "at": "10s",
          "config": "Canary10Percent5Minutes", "rollback_alarm": "alb-target-5xx"}


def test_rollback_alarm_against_canary_step_flips_with_a_floor_on_the_step() -> None:
    args = ("alarm alb-target-5xx goes off", "canary_interval_s")
    o = _judge("modern", _faults(CANARY), 0.05, *args, fault="ship")
    assert (o.aws_s, o.run_s) == ((360.0, 300.0), (18.0, 15.0))
    assert o.preserved is True
    floored = _profile("modern", {"deploy.canary_interval_s": _floor(300, 20)})
    o = _judge(floored, _faults(CANARY), 0.05, *args, fault="ship")
    assert (o.aws, o.run, o.preserved) == (">", "<", False)
    assert o.touches == ("errors", "detection")


def test_scaling_launch_against_cooldown_flips_with_a_floor_on_the_launch() -> None:
    args = ("task_replacement_s", "scale_out_cooldown_s")
    assert _judge("modern", [], 0.1, *args, fault=None).preserved is True
    floored = _profile("modern", {"orchestrator.task_replacement_s": _floor(30, 40)})
    o = _judge(floored, [], 0.1, *args, fault=None)
    assert (o.aws, o.run, o.preserved) == ("<", ">", False)
    assert o.touches == ("scaling",)


# -- time scale 1, the recorded run, the estimate ------------------------------------------


@pytest.mark.parametrize("name", available())
def test_at_time_scale_one_no_ordering_of_a_shipped_scenario_is_inverted(name: str) -> None:
    scenario = load_scenario(name)
    for arch in ("legacy", "modern", "modern-no-proxy"):
        orderings = clock_orderings(_profile(arch), scenario.faults, 1.0,
                                    p99_ms={f.name or "": 900.0 for f in scenario.faults})
        assert not [o for o in orderings if o.inverted], arch


def _recovered(time_scale: float) -> Any:
    data = synthetic("modern", 60, error_rate=lambda s: 0.5 if 20 <= s < 25 else 0.0)
    params = Recovery.model_validate({"baseline": "10s", "consecutive": 3})
    return detect(data, FaultWindow("writer-dies", "db_failover", "db-writer", 20.0), params,
                  time_scale=time_scale)


def test_the_aws_estimate_is_withheld_for_an_inverted_recovery() -> None:
    recovery = _recovered(0.1)
    assert recovery.recovery_aws_s is not None
    orderings = clock_orderings(_profile("modern"), _faults(FAILOVER), 0.1)
    [withheld] = withhold_estimates([recovery], orderings)
    assert withheld.recovery_aws_s is None
    assert withheld.recovery_s == recovery.recovery_s
    assert withheld.aws_estimate_withheld == (
        "database.failover_s - database.dns_ttl_s vs app.client.db_query_timeout_s inverted "
        "at time scale 0.1")


def test_the_aws_estimate_is_kept_when_every_ordering_holds() -> None:
    # at 0.2 the 30 s failover (its DNS wait included) is 6 s: past the 3 s query timeout
    recovery = _recovered(0.2)
    orderings = clock_orderings(_profile("modern-no-proxy"), _faults(FAILOVER), 0.2)
    [kept] = withhold_estimates([recovery], orderings)
    assert kept == recovery


def test_an_unreadable_recorded_profile_is_said_not_judged() -> None:
    unreadable = recorded_profile({"name": "x"})
    orderings, why = from_record(unreadable, {"faults": [FAILOVER]}, 0.1, [], None)
    assert orderings == []
    assert why is not None
    assert why.startswith("the recorded stack profile does not read back")
    assert from_record(recorded_profile({}), {}, 0.1, [], None) == (
        [], "no stack profile was recorded")


def test_a_recorded_profile_reads_back_into_the_typed_profile() -> None:
    profile = load_profile("modern")
    read_back = recorded_profile(profile.model_dump(mode="json"))
    assert isinstance(read_back, type(profile))
    # every setting; not where the file declared them (App.image_declared_at), which a
    # record does not keep
    assert read_back.model_dump() == profile.model_dump()
