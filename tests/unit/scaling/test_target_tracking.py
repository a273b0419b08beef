"""Target tracking on synthetic metric series: periods, alarm datapoints, cooldowns, bounds.

Every expectation is computed by hand in the comment beside it. The policy is AWS's
at time scale 0.1: 6 s periods (60 s), 3 datapoints to scale out, 15 to scale in.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.model.scaling import ScheduledAction, apply_scheduled
from harness.records.samples import Sample
from harness.scaling.policy import FleetCounts, PolicyDef, TargetTracker, metric_points

POLICY = PolicyDef(
    metric="CPUUtilization", target=50.0, period_s=6.0, out_datapoints=3, in_datapoints=15,
    in_ratio=0.9, delay_s=0.0, every_s=6.0, scale_out_cooldown_s=30.0,
    scale_in_cooldown_s=30.0, warmup_s=0.0, disable_scale_in=False,
)


def cpu(members: dict[str, float], seconds: range) -> list[Sample]:
    """One CPU sample a second per member, at a constant value each."""
    return [Sample(float(t), "CPUUtilization", v, member=m)
            for t in seconds for m, v in members.items()]


def tracker(min_capacity: int = 1, max_capacity: int = 10,
            policy: PolicyDef = POLICY) -> TargetTracker:
    return TargetTracker(policy, min_capacity=min_capacity, max_capacity=max_capacity)


def test_cpu_period_is_the_average_of_every_member_sample() -> None:
    # period [0, 6): app-1 at 80 and app-2 at 40 every second -> (6*80 + 6*40) / 12 = 60
    points = metric_points(cpu({"app-1": 80, "app-2": 40}, range(6)), POLICY, until_s=6)
    assert [p.value for p in points] == [60.0]


def test_a_warming_member_is_left_out_of_the_average() -> None:
    # app-3 warms up during [0, 6): only app-1 (90) counts in period 0; in period 1 all three
    samples = cpu({"app-1": 90, "app-3": 0}, range(12))
    points = metric_points(samples, POLICY, until_s=12, warmups={"app-3": (0.0, 6.0)})
    assert [p.value for p in points] == [90.0, 45.0]


def test_request_count_per_target_divides_requests_by_targets_in_service() -> None:
    policy = replace(POLICY, metric="RequestCountPerTarget", target=100.0)
    # period [0, 6): 60 requests a second over two targets = 360 requests, 2 in service
    samples = [Sample(float(t), "RequestCount", 30.0, member=m)
               for t in range(6) for m in ("app-1", "app-2")]
    samples += [Sample(float(t), "InServiceCount", 2.0) for t in range(6)]
    # period [6, 12): no request at all: no datapoint, never a made-up zero
    samples += [Sample(float(t), "InServiceCount", 2.0) for t in range(6, 12)]
    points = metric_points(samples, policy, until_s=12)
    assert [p.value for p in points] == [180.0, None]


def test_scale_out_waits_for_three_breaching_datapoints() -> None:
    t = tracker()
    points = metric_points(cpu({"app-1": 100, "app-2": 100}, range(18)), POLICY, until_s=18)
    fleet = FleetCounts(desired=2, running=2, measured=2)
    # at 12 s only two periods are published: the 3-of-3 alarm is not in ALARM yet
    assert t.evaluate(points[:2], 12.0, fleet) is None
    decision = t.evaluate(points, 18.0, fleet)
    # ceil(2 x 100 / 50) = 4
    assert decision is not None
    assert (decision.direction, decision.desired) == ("out", 4)


def test_publication_delay_holds_the_datapoints_back() -> None:
    policy = replace(POLICY, delay_s=6.0)
    t = tracker(policy=policy)
    points = metric_points(cpu({"app-1": 100}, range(24)), policy, until_s=24)
    fleet = FleetCounts(desired=1, running=1, measured=1)
    # at 18 s the third period (ends 18 s) is visible only at 24 s
    assert t.evaluate(points, 18.0, fleet) is None
    decision = t.evaluate(points, 24.0, fleet)
    assert decision is not None
    assert decision.desired == 2


def test_one_breach_below_three_datapoints_does_not_scale() -> None:
    # 100, 100, 40: two of three datapoints breach: no ALARM
    samples = cpu({"app-1": 100}, range(12)) + cpu({"app-1": 40}, range(12, 18))
    points = metric_points(samples, POLICY, until_s=18)
    assert tracker().evaluate(points, 18.0, FleetCounts(1, 1, 1)) is None


def test_scale_out_cooldown_counts_the_capacity_already_added() -> None:
    t = tracker()
    points = metric_points(cpu({"app-1": 100, "app-2": 100}, range(60)), POLICY, until_s=60)
    first = t.evaluate(points[:3], 18.0, FleetCounts(desired=2, running=2, measured=2))
    assert first is not None
    assert first.desired == 4
    # 6 s later the two new members are launching, not measured: ceil(2 x 100 / 50) = 4,
    # which is no more than desired: nothing more is launched
    assert t.evaluate(points[:4], 24.0, FleetCounts(desired=4, running=4, measured=2)) is None
    # after the 30 s cooldown (at 54 s) the running count is the base: ceil(4 x 100/50) = 8
    later = t.evaluate(points[:9], 54.0, FleetCounts(desired=4, running=4, measured=2))
    assert later is not None
    assert later.desired == 8


def test_scale_out_stops_at_max_capacity() -> None:
    points = metric_points(cpu({"app-1": 100, "app-2": 100}, range(18)), POLICY, until_s=18)
    decision = tracker(max_capacity=3).evaluate(points, 18.0, FleetCounts(2, 2, 2))
    # ceil(2 x 100 / 50) = 4, bounded by max 3
    assert decision is not None
    assert decision.desired == 3
    assert tracker(max_capacity=2).evaluate(points, 18.0, FleetCounts(2, 2, 2)) is None


def test_scale_in_needs_fifteen_low_datapoints_and_stops_at_min() -> None:
    # 10 % on 4 members for 90 s = 15 periods below 45 (= 50 x 0.9)
    points = metric_points(cpu({f"app-{i}": 10 for i in range(1, 5)}, range(90)), POLICY,
                           until_s=90)
    fleet = FleetCounts(desired=4, running=4, measured=4)
    assert tracker(min_capacity=2).evaluate(points[:14], 84.0, fleet) is None
    decision = tracker(min_capacity=2).evaluate(points, 90.0, fleet)
    # ceil(4 x 10 / 50) = 1, bounded by min 2
    assert decision is not None
    assert (decision.direction, decision.desired) == ("in", 2)


def test_scale_in_cooldown_blocks_the_next_scale_in() -> None:
    t = tracker()
    points = metric_points(cpu({"app-1": 20}, range(150)), POLICY, until_s=150)
    first = t.evaluate(points[:15], 90.0, FleetCounts(desired=4, running=4, measured=4))
    assert first is not None
    assert first.desired == 2
    # 6 s later: ceil(2 x 20 / 50) = 1 would scale in, but the 30 s cooldown holds it
    assert t.evaluate(points[:16], 96.0, FleetCounts(2, 2, 2)) is None
    second = t.evaluate(points[:20], 120.0, FleetCounts(2, 2, 2))
    assert second is not None
    assert second.desired == 1


def test_no_scale_in_while_a_member_warms_up_or_when_disabled() -> None:
    points = metric_points(cpu({"app-1": 10}, range(90)), POLICY, until_s=90)
    assert tracker().evaluate(points, 90.0, FleetCounts(4, 4, 3, warming=1)) is None
    off = replace(POLICY, disable_scale_in=True)
    assert tracker(policy=off).evaluate(points, 90.0, FleetCounts(4, 4, 4)) is None


@pytest.mark.parametrize(("action", "expected"), [
    # raising the minimum above desired raises desired (pre-scaling before an event)
    (ScheduledAction(at_s=30, min_capacity=4), (4, 6, 4)),
    # lowering the maximum below desired lowers it
    (ScheduledAction(at_s=30, max_capacity=1), (1, 1, 1)),
    # an explicit desired count inside the bounds
    (ScheduledAction(at_s=30, desired=5), (2, 6, 5)),
])
def test_scheduled_action_moves_desired_inside_new_bounds(
        action: ScheduledAction, expected: tuple[int, int, int]) -> None:
    assert apply_scheduled(action, min_capacity=2, max_capacity=6, desired=3) == expected
