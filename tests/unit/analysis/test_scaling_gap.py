"""The scaling gap from capacity samples: demand over the in-service capacity until enough."""

from __future__ import annotations

from collections.abc import Sequence

from harness.analysis.scaling import (
    CapacityPoint,
    DesiredChange,
    capacity_points,
    desired_changes,
    overload_windows,
    scaling_gap,
)


def series(in_service: Sequence[int], cpu_sum: Sequence[float], desired: Sequence[int]
           ) -> list[CapacityPoint]:
    return [CapacityPoint(float(t), d, max(0, d - s), s, c)
            for t, (s, c, d) in enumerate(zip(in_service, cpu_sum, desired, strict=True))]


def test_gap_runs_from_sustained_demand_to_the_asked_count_in_service() -> None:
    # 2 in service at a 50 % target hold 100 % of CPU; from 2 s they do 150 %, for good
    in_service = [2, 2, 2, 2, 2, 2, 2, 3, 4, 4]
    cpu = [60, 90, 150, 150, 150, 150, 150, 150, 150, 150]
    desired = [2, 2, 2, 2, 2, 4, 4, 4, 4, 4]
    changes = [DesiredChange(5.0, 2, 4, "target_tracking")]
    gap = scaling_gap(series(in_service, cpu, desired), changes, 50.0)
    # demand from 2 s (3 s in a row above 2 x 50), 4 in service at 8 s
    assert (gap.status, gap.demand_s, gap.enough_s, gap.gap_s) == ("measured", 2.0, 8.0, 6.0)
    assert (gap.in_service_at_demand, gap.needed) == (2, 4)


def test_a_short_burst_is_no_demand() -> None:
    # above 100 % for two seconds only
    gap = scaling_gap(series([2] * 6, [60, 150, 150, 60, 60, 60], [2] * 6), [], 50.0)
    assert gap.status == "not_measurable"
    assert "never exceeded" in gap.reason


def test_pre_scaling_in_service_before_demand_is_a_zero_gap() -> None:
    # a scheduled action asked for 4 at 0 s; 4 were in service when demand came at 3 s
    in_service = [2, 3, 4, 4, 4, 4, 4]
    cpu = [50, 50, 100, 250, 250, 250, 250]
    desired = [4] * 7
    changes = [DesiredChange(0.0, 2, 4, "scheduled_action")]
    gap = scaling_gap(series(in_service, cpu, desired), changes, 50.0)
    # demand: 250 > 4 x 50 from 3 s; 4 = the asked count are in service then already
    assert gap.status == "not_measurable"
    assert gap.demand_s == 3.0


def test_capacity_not_reached_is_a_lower_bound() -> None:
    changes = [DesiredChange(1.0, 2, 5, "target_tracking")]
    gap = scaling_gap(series([2] * 5, [200] * 5, [5] * 5), changes, 50.0)
    assert (gap.status, gap.gap_s, gap.needed) == ("not_reached", 4.0, 5)


def test_without_a_cpu_target_the_gap_is_not_measurable() -> None:
    assert scaling_gap(series([2], [100], [2]), [], None).status == "not_measurable"


def test_points_and_changes_come_from_the_architectures_events() -> None:
    events = [
        {"kind": "scaling.capacity", "arch": "modern", "t_s": 1.0, "desired": 3,
         "launching": 0, "in_service": 3, "cpu_sum_pct": 90.5},
        {"kind": "scaling.capacity", "arch": "legacy", "t_s": 1.0, "desired": 2,
         "launching": 0, "in_service": 2, "cpu_sum_pct": None},
        {"kind": "orchestrator.scaling.desired_changed", "arch": "modern", "t_s": 2.0,
         "old": 3, "new": 5, "cause": "target_tracking"},
    ]
    assert capacity_points(events, "modern") == [CapacityPoint(1.0, 3, 0, 3, 90.5)]
    assert capacity_points(events, "legacy")[0].cpu_sum_pct is None
    assert desired_changes(events, "modern") == [DesiredChange(2.0, 3, 5, "target_tracking")]


def test_a_later_scale_out_does_not_stretch_the_gap() -> None:
    # 2 -> 4 asked at 3 s and in service at 5 s; a marginal 4 -> 5 at 6 s is a new episode
    in_service = [2, 2, 2, 3, 3, 4, 4, 4, 4, 5]
    cpu = [150] * 10
    desired = [2, 2, 2, 4, 4, 4, 5, 5, 5, 5]
    changes = [DesiredChange(2.5, 2, 4, "target_tracking"),
               DesiredChange(6.0, 4, 5, "target_tracking")]
    gap = scaling_gap(series(in_service, cpu, desired), changes, 50.0)
    assert (gap.status, gap.demand_s, gap.needed, gap.gap_s) == ("measured", 0.0, 4, 5.0)


def _warm_up_then_spike(decided_s: float) -> tuple[list[CapacityPoint], list[DesiredChange]]:
    """2 in service at a 50 % target; a start-up transient at 6-9 s, the spike from 52 s.

    The spike holds until 4 are in service at 117 s; 2 -> 4 is decided at `decided_s`.
    """
    points = []
    for t in range(130):
        in_service = 4 if t >= 117 else 3 if t >= 100 else 2
        desired = 4 if t >= decided_s else 2
        cpu = 140.0 if 6 <= t <= 9 else 160.0 if t >= 52 else 60.0
        points.append(CapacityPoint(float(t), desired, desired - in_service, in_service, cpu))
    return points, [DesiredChange(decided_s, 2, 4, "target_tracking")]


def test_episodes_run_from_the_first_to_the_last_second_over_the_target() -> None:
    points, _ = _warm_up_then_spike(72.0)
    # 160 > 3 x 50 still at 100-116 s; with 4 in service (200) no longer
    assert overload_windows(points, 50.0) == [(6.0, 9.0), (52.0, 116.0)]
    # two seconds over, then a gap in the samples' CPU: no episode
    short = series([2] * 5, [150, 150, 60, 150, 150], [2] * 5)
    assert overload_windows(short, 50.0) == []
    unsampled = [CapacityPoint(float(t), 2, 0, 2, None if t == 2 else 150.0) for t in range(6)]
    assert overload_windows(unsampled, 50.0) == [(3.0, 5.0)]


def test_a_warm_up_transient_is_not_the_demand_of_a_later_scale_out() -> None:
    points, changes = _warm_up_then_spike(72.0)
    gap = scaling_gap(points, changes, 50.0)
    assert (gap.status, gap.demand_s, gap.enough_s, gap.gap_s) == ("measured", 52.0, 117.0, 65.0)
    assert (gap.in_service_at_demand, gap.needed) == (2, 4)


def test_a_scale_out_decided_between_episodes_belongs_to_the_one_before() -> None:
    # decided at 30 s, before the spike: on the transient's (late acted on) datapoints
    points, changes = _warm_up_then_spike(30.0)
    gap = scaling_gap(points, changes, 50.0)
    assert (gap.status, gap.demand_s, gap.gap_s) == ("measured", 6.0, 111.0)


def test_a_pre_scaled_episode_needs_the_count_already_asked() -> None:
    # 2 -> 4 asked at 0 s (scheduled); demand from 2 s with 2 in service; 4 at 5 s
    in_service = [2, 2, 2, 2, 3, 4, 4]
    cpu = [50, 50, 250, 250, 250, 250, 250]
    changes = [DesiredChange(0.0, 2, 4, "scheduled_action")]
    gap = scaling_gap(series(in_service, cpu, [4] * 7), changes, 50.0)
    assert (gap.status, gap.demand_s, gap.needed, gap.gap_s) == ("measured", 2.0, 4, 3.0)


def test_demand_no_scale_out_followed_is_not_measurable() -> None:
    # overloaded twice, a scale-in in between, never a scale-out: the first episode is named
    cpu = [150, 150, 150, 60, 60, 150, 150, 150]
    changes = [DesiredChange(4.0, 2, 1, "target_tracking")]
    gap = scaling_gap(series([2] * 8, cpu, [2] * 8), changes, 50.0)
    assert gap.status == "not_measurable"
    assert gap.reason == "demand exceeded the 2 members in service at 0.0 s, " \
                         "but no more were asked for"
    assert (gap.demand_s, gap.gap_s) == (0.0, None)


def test_a_spike_and_the_peak_after_a_short_dip_are_one_demand() -> None:
    # seen in a blackfriday run: the doors-open spike overloads 52-62 s, a 3 s dip, then
    # the peak from 66 s; the scale-out decided at 78 s acted on data from ~48 s on, the
    # spike's too, so the gap runs from 52 s, not from the peak's 66 s
    points = []
    for t in range(130):
        in_service = 4 if t >= 97 else 3
        desired = 4 if t >= 78 else 3
        cpu = 200.0 if 52 <= t <= 62 or t >= 66 else 60.0
        points.append(CapacityPoint(float(t), desired, desired - in_service, in_service, cpu))
    changes = [DesiredChange(78.0, 3, 4, "target_tracking")]
    assert overload_windows(points, 50.0) == [(52.0, 62.0), (66.0, 96.0)]
    gap = scaling_gap(points, changes, 50.0, lookback_s=30.0)
    assert (gap.status, gap.demand_s, gap.gap_s) == ("measured", 52.0, 45.0)
    # without the decision's look-back only the latest episode owns it: a shorter gap
    assert scaling_gap(points, changes, 50.0).demand_s == 66.0


def test_a_transient_outside_the_decisions_data_is_still_passed_over() -> None:
    points, changes = _warm_up_then_spike(72.0)
    gap = scaling_gap(points, changes, 50.0, lookback_s=30.0)
    assert (gap.demand_s, gap.gap_s) == (52.0, 65.0)


def test_a_killed_member_being_replaced_is_no_scaling_gap() -> None:
    # pre-scaled to 6 (in service from 3 s), which hold the load (280 < 6 x 50); a kill at
    # 10 s leaves 5 (280 > 5 x 50) until the replacement serves at 16 s: the fault's
    # recovery, not capacity that scaling asked for late
    in_service = [2, 4, 5, 6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5, 5, 6, 6]
    changes = [DesiredChange(0.0, 2, 6, "scheduled_action")]
    gap = scaling_gap(series(in_service, [50] * 3 + [280] * 15, [6] * 18), changes, 50.0)
    assert gap.status == "not_measurable"
    assert gap.reason == "demand exceeded the 5 members in service at 10.0 s, " \
                         "but no more were asked for"
