"""The `series` phase: a recorded per-second rate series, replayed exactly and seeded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.load.schedule import arrivals, offered_per_second, rate_at
from harness.scenario.scenario import load_scenario
from harness.scenario.workload import SeriesPhase, Workload, load_workload

RATES = [3, 0, 7, 12.5, 12.5, 40, 1, 0, 25, 9]


def workload(phase: dict[str, Any], base_dir: Path | None = None, **extra: Any) -> Workload:
    data = {"journeys": {"browse": {"weight": 3}, "checkout": {"weight": 1}},
            "phases": [phase], **extra}
    return load_workload(data, "test.yaml", base_dir=base_dir)


def series(**fields: Any) -> dict[str, Any]:
    return {"name": "night", "shape": "series", "rates": RATES, **fields}


@pytest.mark.parametrize("process", ["poisson", "uniform"])
def test_arrivals_per_second_are_the_series_within_rounding(process: str) -> None:
    w = workload(series(), arrivals=process)
    counts = offered_per_second(w)
    assert len(counts) == len(RATES)
    for got, want in zip(counts, RATES, strict=True):
        assert abs(got - want) <= 0.5 + 1e-9
    assert sum(counts) == round(sum(RATES))


def test_fractions_carry_over_so_the_total_does_not_drift() -> None:
    w = workload(series(rates=[0.5] * 100))
    counts = offered_per_second(w)
    assert sum(counts) == 50
    assert set(counts) == {0, 1}


def test_same_seed_gives_the_same_times_and_another_seed_other_times() -> None:
    w = workload(series())
    assert list(arrivals(w, seed=3)) == list(arrivals(w, seed=3))
    a, b = list(arrivals(w, seed=3)), list(arrivals(w, seed=4))
    assert len(a) == len(b)  # the counts are the recording's, whatever the seed
    assert [x.offset_s for x in a] != [x.offset_s for x in b]


def test_arrivals_are_in_time_order_inside_their_buckets() -> None:
    w = workload(series(bucket="2s"))
    times = [a.offset_s for a in arrivals(w)]
    assert times == sorted(times)
    assert all(0 <= t < 2 * len(RATES) for t in times)
    assert w.duration == 2 * len(RATES)


def test_uniform_arrivals_are_evenly_spaced_in_a_bucket() -> None:
    w = workload(series(rates=[4]), arrivals="uniform")
    assert [a.offset_s for a in arrivals(w)] == [0.125, 0.375, 0.625, 0.875]


def test_a_bucket_longer_than_a_second_holds_rate_times_bucket_arrivals() -> None:
    w = workload(series(rates=[10, 20], bucket="5s"))
    counts = offered_per_second(w)
    assert sum(counts[:5]) == 50
    assert sum(counts[5:]) == 100
    assert rate_at(w, 7.0) == 20


def test_a_phase_after_the_series_follows_it() -> None:
    data = {"journeys": {"browse": {"weight": 1}}, "phases": [
        series(rates=[5, 5]),
        {"name": "after", "shape": "constant", "rate": 10, "duration": "3s"},
    ], "arrivals": "uniform"}
    w = load_workload(data, "test.yaml")
    assert offered_per_second(w) == [5, 5, 10, 10, 10]


def test_rates_file_is_read_relative_to_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "night.rates").write_text("# from the logs, x3\n3\n0\n\n7\n")
    w = workload(series(rates=None, file="night.rates"), base_dir=tmp_path)
    phase = w.phases[0]
    assert isinstance(phase, SeriesPhase)
    assert phase.rates == [3, 0, 7]
    assert w.duration == 3
    # what travels to the generator processes is the inlined series
    dumped = w.model_dump(mode="json", by_alias=True)
    assert "file" not in dumped["phases"][0]
    again = Workload.model_validate(dumped)
    assert again.model_dump(mode="json", by_alias=True) == dumped
    assert list(arrivals(again)) == list(arrivals(w))


def test_a_bad_line_in_the_rates_file_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "night.rates").write_text("3\n4\nlots\n")
    with pytest.raises(ScenarioError, match=r"phases\[0\]: .*night.rates:3: 'lots' is not a rate"):
        workload(series(rates=None, file="night.rates"), base_dir=tmp_path)


def test_a_missing_rates_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"gone.rates: no such rate file"):
        workload(series(rates=None, file="gone.rates"), base_dir=tmp_path)


def test_a_negative_inline_rate_names_its_index() -> None:
    with pytest.raises(ScenarioError, match=r"test.yaml: phases\[0\].rates\[2\]: .*negative"):
        workload(series(rates=[1, 2, -3]))


def test_rates_and_file_together_are_refused() -> None:
    with pytest.raises(ScenarioError, match="`rates` or `file`, not both"):
        workload(series(file="x.rates"))


def test_a_series_without_rates_says_what_to_give() -> None:
    with pytest.raises(ScenarioError, match=r"phases\[0\]: a series needs `rates"):
        workload({"name": "night", "shape": "series"})


def test_a_duration_that_disagrees_with_the_series_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"not the series' length \(10 rates x 1 s"):
        workload(series(duration="20s"))


def test_a_scenario_file_error_in_a_series_names_the_line(tmp_path: Path) -> None:
    scenario = tmp_path / "night.yaml"
    scenario.write_text(
        "name: night\n"
        "description: a replayed night\n"
        "architectures: [modern]\n"
        "workload:\n"
        "  journeys: {browse: {weight: 1}}\n"
        "  phases:\n"
        "    - name: replay\n"
        "      shape: series\n"
        "      rates:\n"
        "        - 3\n"
        "        - -4\n"
    )
    with pytest.raises(ScenarioError, match=rf"{scenario}:11: workload.phases\[0\].rates\[1\]: "):
        load_scenario(str(scenario))


def test_a_rates_file_that_is_no_regular_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"/dev/zero: not a file"):
        workload(series(rates=None, file="/dev/zero"), base_dir=tmp_path)
