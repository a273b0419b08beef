"""The event's cost from a small synthetic timeline, recomputed by hand to the cent."""

from __future__ import annotations

import pytest

from harness.analysis.cost import ArchCost, LineItem, Traffic, event_cost, fleet_seconds, forecast
from harness.analysis.scaling import CapacityPoint
from harness.model.prices import PriceTable, load_prices
from harness.model.profile import Profile
from harness.model.profile_file import load_profile

#: 0-10 s: the base 2 members; 10 s: a scale-out to 4 (2 launching); 20 s: 4 in service;
#: 30-40 s: one member replaced (3 in service, still 4 desired); 60 s: the load ends
TIMELINE = [
    CapacityPoint(0.0, 2, 0, 2, None),
    CapacityPoint(10.0, 4, 2, 2, None),
    CapacityPoint(20.0, 4, 0, 4, None),
    CapacityPoint(30.0, 4, 0, 3, None),
    CapacityPoint(40.0, 4, 0, 4, None),
]
RUN_S = 60.0
TIME_SCALE = 0.01  # 60 run seconds stand for 6000 AWS seconds


def _near(value: float) -> object:
    """Figures are kept to a millionth of a dollar (and of a unit)."""
    return pytest.approx(value, abs=1e-6)


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return load_prices()


def _line(cost: ArchCost, price: str) -> LineItem:
    return next(li for li in cost.lines if li.price == price)


def _cost(arch: str, prices: PriceTable, **kw: object) -> ArchCost:
    profile: Profile = load_profile(arch)
    return event_cost(profile, prices, time_scale=TIME_SCALE, run_s=RUN_S, fleet=TIMELINE,
                      traffic=Traffic(served=12_000), **kw)  # type: ignore[arg-type]


def test_the_billed_fleet_counts_a_scale_out_from_its_launch_and_a_replaced_member_throughout(
) -> None:
    fleet = fleet_seconds(TIMELINE, RUN_S, base=2)
    # 2 x 10 s, then 4 members from the scale-out's launch to the end (50 s); the replaced
    # member is billed through its replacement (desired stays 4)
    assert fleet.billed_s == 2 * 10 + 4 * 50
    assert fleet.base_s == 2 * 60
    # launching 10-20 s (2 members) and the replacement 30-40 s (1 member)
    assert fleet.not_serving_s == 2 * 10 + 1 * 10
    assert fleet.peak == 4


def test_ec2_instance_hours_match_a_hand_computation_to_the_cent(prices: PriceTable) -> None:
    cost = _cost("legacy", prices)
    ec2 = _line(cost, "ec2_instance_hour")
    # 220 member-seconds / 0.01 = 22,000 s = 6.1111 instance-hours x $0.0208 = $0.1271
    assert ec2.quantity == _near(220 / 0.01 / 3600)
    assert round(ec2.subtotal_usd or 0, 2) == 0.13
    assert ec2.subtotal_usd == _near(22000 / 3600 * 0.0208)
    assert ec2.unit_price_usd == 0.0208
    assert ec2.source.startswith("https://aws.amazon.com/ec2/pricing")
    # scale-out above the 2-member base: (220 - 120) / 220 of the fleet's cost
    assert cost.scaling_added_usd == _near((ec2.subtotal_usd or 0) * 100 / 220)


def test_fargate_vcpu_hours_match_a_hand_computation_to_the_cent(prices: PriceTable) -> None:
    cost = _cost("modern", prices)
    vcpu = _line(cost, "fargate_vcpu_hour")
    gb = _line(cost, "fargate_gb_hour")
    # each second the larger of desired and launching + in service, as for legacy
    billed_s = 2 * 10 + 4 * 50
    task_h = billed_s / TIME_SCALE / 3600  # 6.1111 task-hours
    assert vcpu.quantity == _near(task_h * 0.5)
    assert round(vcpu.subtotal_usd or 0, 2) == round(task_h * 0.5 * 0.04048, 2) == 0.12
    assert round(gb.subtotal_usd or 0, 2) == round(task_h * 1 * 0.004445, 2) == 0.03


def test_the_database_is_billed_for_the_whole_event_and_the_lb_by_started_hours(
        prices: PriceTable) -> None:
    legacy = _cost("legacy", prices)
    hours = RUN_S / TIME_SCALE / 3600  # 1.6667 h
    assert _line(legacy, "rds_multi_az_instance_hour").subtotal_usd == _near(
        hours * 0.50)
    clb = _line(legacy, "clb_hour")
    assert clb.quantity == 2  # a partial hour is billed as a full one
    assert clb.subtotal_usd == _near(0.05)


def test_a_quantity_the_run_does_not_record_is_not_measurable_never_zero(
        prices: PriceTable) -> None:
    cost = _cost("modern", prices)
    lcu = _line(cost, "alb_lcu_hour")
    assert lcu.quantity is None
    assert lcu.subtotal_usd is None
    assert lcu.how.startswith("not measurable: ")
    assert "LCU-hours" in cost.unmeasured
    assert not cost.complete
    # the total holds the measurable lines only
    assert cost.total_usd == _near(sum(li.subtotal_usd or 0 for li in cost.lines))


def test_recorded_connections_and_bytes_give_lcu_hours(prices: PriceTable) -> None:
    profile = load_profile("modern")
    # 0.15 x 0.01: 3 new connections in the run stand for 2,000 on AWS, in one AWS hour
    traffic = Traffic(served=10, new_connections={0: 3}, bytes={0: 0})
    cost = event_cost(profile, prices, time_scale=TIME_SCALE, run_s=RUN_S, fleet=[],
                      traffic=traffic)
    lcu = _line(cost, "alb_lcu_hour")
    # hour 1 (run 0-36 s): 2,000 / 3600 / 25 LCU; hour 2: nothing
    assert lcu.quantity == _near(3 / (0.15 * 0.01) / 3600 / 25)


def test_an_override_changes_the_figure_and_is_flagged(prices: PriceTable) -> None:
    listed = _line(_cost("legacy", prices), "ec2_instance_hour")
    cheaper = prices.with_overrides({"ec2_instance_hour": 0.01})
    line = _line(_cost("legacy", cheaper), "ec2_instance_hour")
    assert line.overridden
    assert not listed.overridden
    assert line.subtotal_usd == _near(22000 / 3600 * 0.01)
    assert "overridden by the scenario's prices.ec2_instance_hour (list price 0.0208)" in (
        line.price_note)


def test_cost_per_million_requests_counts_them_at_aws_size_and_time(prices: PriceTable) -> None:
    cost = _cost("legacy", prices)
    served_aws = 12_000 / (0.15 * 0.01)
    assert cost.served_aws == _near(served_aws)
    assert cost.per_million_usd == _near(cost.total_usd / served_aws * 1e6)


def test_a_forecast_scales_the_lines_and_says_it_is_an_estimate(prices: PriceTable) -> None:
    cost = _cost("legacy", prices)
    six = forecast(cost, 6.0)
    assert six.forecast_h == 6.0
    assert _line(six, "clb_hour").quantity == 6
    assert _line(six, "ec2_instance_hour").subtotal_usd == _near(
        (_line(cost, "ec2_instance_hour").subtotal_usd or 0) * 6 / (RUN_S / TIME_SCALE / 3600))
    assert six.assumptions[0].startswith("an estimate, not a measurement")
    assert _line(six, "sqs_million").subtotal_usd is None  # still not measurable
