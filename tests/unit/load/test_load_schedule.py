from __future__ import annotations

import itertools
from typing import Any

import pytest

from harness.load.schedule import arrivals, offered_per_second, phase_at, rate_at
from harness.scenario.workload import Workload, load_workload


def workload(phases: list[dict[str, Any]], **extra: Any) -> Workload:
    data = {"journeys": {"browse": {"weight": 3}, "checkout": {"weight": 1}}, "phases": phases}
    return load_workload({**data, **extra}, "test.yaml")


CONSTANT = {"name": "main", "shape": "constant", "rate": "50/s", "duration": "4s"}


def test_same_seed_gives_the_same_arrivals() -> None:
    w = workload([CONSTANT])
    assert list(arrivals(w, seed=7)) == list(arrivals(w, seed=7))


def test_another_seed_gives_other_times_and_choices() -> None:
    w = workload([CONSTANT])
    a, b = list(arrivals(w, seed=1)), list(arrivals(w, seed=2))
    assert [x.offset_s for x in a] != [x.offset_s for x in b[: len(a)]]
    assert [x.journey for x in a[:50]] != [x.journey for x in b[:50]]


def test_journey_choices_do_not_depend_on_the_arrival_process() -> None:
    poisson = workload([CONSTANT], arrivals="poisson")
    uniform = workload([CONSTANT], arrivals="uniform")
    n = 100
    assert [a.journey for a in arrivals(poisson)][:n] == [a.journey for a in arrivals(uniform)][:n]


def test_journey_weights_are_respected() -> None:
    w = workload([{**CONSTANT, "rate": 1000, "duration": 20}])
    chosen = [a.journey for a in arrivals(w)]
    share = chosen.count("browse") / len(chosen)
    assert 0.72 < share < 0.78  # weight 3 of 4; 20 000 draws


def test_uniform_constant_rate_offers_exactly_the_rate_each_second() -> None:
    w = workload([CONSTANT], arrivals="uniform")
    assert offered_per_second(w) == [50, 50, 50, 50]


def test_poisson_total_is_close_to_the_expected_count() -> None:
    w = workload([{**CONSTANT, "rate": 500, "duration": 20}], arrivals="poisson")
    total = sum(offered_per_second(w))
    assert abs(total - 10_000) < 5 * 100  # five standard deviations of Poisson(10 000)


def test_arrivals_are_in_time_order_and_numbered() -> None:
    w = workload([CONSTANT, {"name": "r", "shape": "ramp", "from": 10, "to": 90, "duration": 3}])
    got = list(arrivals(w))
    assert [a.seq for a in got] == list(range(len(got)))
    assert all(x.offset_s <= y.offset_s for x, y in itertools.pairwise(got))


def test_linear_ramp_offers_the_area_under_the_rate() -> None:
    w = workload(
        [{"name": "r", "shape": "ramp", "from": 0, "to": 100, "duration": 4}], arrivals="uniform"
    )
    # rate 0 -> 100 over 4 s: seconds hold 12.5, 37.5, 62.5, 87.5 arrivals
    per_second = offered_per_second(w)
    assert sum(per_second) == 200
    assert all(
        abs(got - want) <= 1 for got, want in zip(per_second, [12.5, 37.5, 62.5, 87.5], strict=True)
    )


def test_ramp_down_is_mirrored() -> None:
    w = workload(
        [{"name": "r", "shape": "ramp", "from": 100, "to": 0, "duration": 4}], arrivals="uniform"
    )
    assert offered_per_second(w)[0] > offered_per_second(w)[3]


def test_spike_jumps_at_its_edges() -> None:
    spike = {
        "name": "peak",
        "shape": "spike",
        "base": 10,
        "peak": "200/s",
        "peak_at": "2s",
        "peak_for": "1s",
        "duration": "5s",
    }
    w = workload([spike], arrivals="uniform")
    assert offered_per_second(w) == [10, 10, 200, 10, 10]
    assert rate_at(w, 1.999) == 10
    assert rate_at(w, 2.0) == 200
    assert rate_at(w, 2.999) == 200
    assert rate_at(w, 3.0) == 10


def test_step_has_equal_plateaus_from_first_to_last_rate() -> None:
    step = {"name": "s", "shape": "step", "from": 10, "to": 30, "steps": 3, "duration": 6}
    w = workload([step], arrivals="uniform")
    assert offered_per_second(w) == [10, 10, 20, 20, 30, 30]


def test_gap_between_phases_offers_nothing_and_has_no_phase() -> None:
    later = {"name": "later", "shape": "constant", "rate": 20, "duration": 2, "at": "6s"}
    w = workload([CONSTANT, later], arrivals="uniform")
    assert offered_per_second(w) == [50, 50, 50, 50, 0, 0, 20, 20]
    assert phase_at(w, 4.5) is None
    assert phase_at(w, 6.5) == "later"
    assert phase_at(w, 0.0) == "main"


def test_zero_rate_phase_offers_nothing() -> None:
    w = workload([{**CONSTANT, "rate": 0}])
    assert list(arrivals(w)) == []


def test_choices_stay_within_the_seeded_data() -> None:
    w = workload([{**CONSTANT, "rate": 500}], data={"products": 3, "events": 2})
    got = list(arrivals(w))
    assert {a.product_id for a in got} == {1, 2, 3}
    assert {a.event_id for a in got} == {1, 2}


@pytest.mark.parametrize("rate", ["1/s", "60/m", 1])
def test_rate_spellings_are_equivalent(rate: Any) -> None:
    w = workload([{**CONSTANT, "rate": rate}], arrivals="uniform")
    assert offered_per_second(w) == [1, 1, 1, 1]
