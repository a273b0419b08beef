"""The scaling gap from capacity samples: demand over the in-service capacity until enough."""

from __future__ import annotations

from harness.analysis.scaling import (
    CapacityPoint,
    DesiredChange,
    capacity_points,
    desired_changes,
    scaling_gap,
)


def series(in_service: list[int], cpu_sum: list[float], desired: list[int]) -> list[CapacityPoint]:
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
