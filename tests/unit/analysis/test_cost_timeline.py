"""The cost over time: cumulative dollars from the recorded fleet, ending at the event total."""

from __future__ import annotations

from itertools import pairwise

import pytest

from harness.analysis.cost import ArchCost, LineItem, Traffic, event_cost
from harness.analysis.cost_timeline import CostPoint, cumulative
from harness.analysis.scaling import CapacityPoint
from harness.model.prices import load_prices
from harness.model.profile_file import load_profile

#: 0-10 s: 2 members; a scale-out to 4 launching at 10 s, in service at 20 s; one member
#: replaced 30-40 s; the run ends at 60 s, which at 0.01 is 6000 AWS s (1.67 h)
TIMELINE = [
    CapacityPoint(0.0, 2, 0, 2, None),
    CapacityPoint(10.0, 4, 2, 2, None),
    CapacityPoint(20.0, 4, 0, 4, None),
    CapacityPoint(30.0, 4, 0, 3, None),
    CapacityPoint(40.0, 4, 0, 4, None),
]
RUN_S, TIME_SCALE = 60.0, 0.01
#: member-seconds billed by run second t (2 x 10, then 4 a second)
BILLED = {0.0: 0, 10.0: 20, 30.0: 100, 60.0: 220}


def _cost(arch: str) -> ArchCost:
    return event_cost(load_profile(arch), load_prices(), time_scale=TIME_SCALE, run_s=RUN_S,
                      fleet=TIMELINE, traffic=Traffic(served=12_000))


def _at(points: list[CostPoint], run_s: float) -> float:
    return next(p.usd for p in points if p.run_s == run_s)


def _line(cost: ArchCost, price: str) -> LineItem:
    return next(li for li in cost.lines if li.price == price)


@pytest.mark.parametrize("arch", ["legacy", "modern"])
def test_the_curve_ends_at_the_event_total(arch: str) -> None:
    cost = _cost(arch)
    points = cumulative(cost, TIMELINE)
    assert points[-1].run_s == RUN_S
    assert points[-1].aws_s == RUN_S / TIME_SCALE
    assert points[-1].usd == pytest.approx(cost.total_usd, abs=1e-6)
    assert points[0].run_s == 0.0
    assert all(b.usd >= a.usd for a, b in pairwise(points))


def test_the_fleet_accrues_with_the_members_billed_and_the_rest_as_recorded() -> None:
    cost = _cost("legacy")
    points = cumulative(cost, TIMELINE)
    ec2 = _line(cost, "ec2_instance_hour").subtotal_usd or 0
    rds = _line(cost, "rds_multi_az_instance_hour").subtotal_usd or 0
    clb = _line(cost, "clb_hour")
    assert clb.quantity == 2  # 1.67 AWS hours: two hours begun
    per_hour = (clb.subtotal_usd or 0) / 2
    for t, billed in BILLED.items():
        # one CLB hour from the start, the second from run second 36 (AWS hour 1)
        clb_usd = per_hour * (1 if t < 36 else 2)
        expected = ec2 * billed / 220 + rds * t / RUN_S + clb_usd
        assert _at(points, t) == pytest.approx(expected, abs=1e-6), t
    # the second load-balancer hour is billed from its first second, not before
    assert _at(points, 36.0) - _at(points, 35.0) > per_hour * 0.99


def test_a_fixed_fleet_accrues_evenly_and_a_line_not_measurable_is_left_out() -> None:
    cost = event_cost(load_profile("modern"), load_prices(), time_scale=TIME_SCALE,
                      run_s=RUN_S, fleet=[], traffic=Traffic(served=10))
    points = cumulative(cost, [])
    assert not cost.complete  # e.g. LCU-hours: not in the curve, not counted as 0
    fargate = sum(li.subtotal_usd or 0 for li in cost.lines if li.price.startswith("fargate"))
    alb = _line(cost, "alb_hour").subtotal_usd or 0
    rest = cost.total_usd - fargate - alb
    for t in (0.0, 30.0, 60.0):
        assert _at(points, t) == pytest.approx(
            (fargate + rest) * t / RUN_S + alb / 2 * (1 if t < 36 else 2), abs=1e-6)
