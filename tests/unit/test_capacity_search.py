"""The capacity search on fake systems with a known knee: pure logic, no process is started."""

from __future__ import annotations

import random

import pytest

from harness.capacity.search import (
    Measure,
    SearchSettings,
    Slos,
    StepResult,
    find_capacity,
    judge,
)

SLOS = Slos()


def _system(knee: float, *, fail_with: str = "p99") -> tuple[list[float], Measure]:
    """A system that meets every SLO up to `knee` arrivals/s and misses one above it."""
    asked: list[float] = []

    def measure(rate: float) -> StepResult:
        asked.append(rate)
        over = rate > knee
        return StepResult(
            rate=rate, offered=int(rate * 8),
            achieved_ratio=0.9 if over and fail_with == "achieved" else 1.0,
            error_rate=0.05 if over and fail_with == "errors" else 0.0,
            p50_ms=5.0, p95_ms=20.0, p99_ms=900.0 if over and fail_with == "p99" else 40.0,
            requests_per_s=rate,
        )

    return asked, measure


@pytest.mark.parametrize("knee", [37.0, 180.0, 333.0, 1234.0])
def test_finds_the_knee_within_tolerance(knee: float) -> None:
    asked, measure = _system(knee)
    found = find_capacity(measure, SLOS, SearchSettings(start=50, tolerance=0.05))
    assert found.capacity is not None
    assert found.capacity <= knee
    assert found.capacity >= knee / 1.05 - 1e-9
    assert found.bound == "slo"
    assert found.limited_by[0].startswith("p99")
    assert len(asked) <= 12


def test_bisects_between_last_pass_and_first_fail() -> None:
    asked, measure = _system(300.0)
    found = find_capacity(measure, SLOS, SearchSettings(start=50, tolerance=0.05, confirm=False))
    assert [s.stage for s in found.steps][:4] == ["step"] * 4  # 50, 100, 200, 400
    assert asked[:4] == [50, 100, 200, 400]
    assert asked[4] == 300  # the middle of 200 and 400
    assert all(200 <= r <= 400 for r in asked[4:])


def test_a_start_that_fails_steps_down() -> None:
    asked, measure = _system(20.0)
    found = find_capacity(measure, SLOS, SearchSettings(start=100, tolerance=0.05))
    assert asked[:3] == [100, 50, 25]
    assert asked[3] == 12.5  # 25 failed too: keep halving until a pass
    assert found.capacity is not None
    assert 20 / 1.05 <= found.capacity <= 20


def test_nothing_passes_is_not_measurable() -> None:
    _asked, measure = _system(0.1)
    found = find_capacity(measure, SLOS, SearchSettings(start=8, min_rate=1))
    assert found.capacity is None
    assert found.bound == "none"


def test_passing_up_to_max_rate_says_so() -> None:
    _asked, measure = _system(1e9)
    found = find_capacity(measure, SLOS, SearchSettings(start=100, max_rate=700))
    assert found.capacity == 700
    assert found.bound == "max_rate"


def test_step_budget_gives_a_lower_bound() -> None:
    _asked, measure = _system(1e9)
    found = find_capacity(measure, SLOS, SearchSettings(start=50, max_steps=3))
    assert found.capacity == 200
    assert found.bound == "steps"
    assert len(found.steps) == 3


@pytest.mark.parametrize("seed", range(20))
def test_noise_near_the_knee_never_reports_a_rate_that_failed(seed: int) -> None:
    """Near the knee a step passes or fails at random; the answer is never a failed rate."""
    rng = random.Random(seed)
    knee = 400.0

    def measure(rate: float) -> StepResult:
        # within 15 % below the knee a step fails one time in three
        flaky = knee / 1.15 < rate <= knee and rng.random() < 1 / 3
        bad = rate > knee or flaky
        return StepResult(rate=rate, offered=100, achieved_ratio=1.0, error_rate=0.0,
                          p50_ms=5.0, p95_ms=20.0, p99_ms=800.0 if bad else 50.0)

    found = find_capacity(measure, SLOS, SearchSettings(start=50, tolerance=0.03, max_steps=20))
    failed = {s.result.rate for s in found.steps if s.verdict != "pass"}
    assert found.capacity is not None
    assert found.capacity not in failed
    assert all(found.capacity < f for f in failed)  # nor a rate above a failure
    assert found.capacity <= knee


def test_a_confirmation_that_fails_moves_the_answer_down() -> None:
    seen: dict[float, int] = {}

    def measure(rate: float) -> StepResult:
        seen[rate] = seen.get(rate, 0) + 1
        # 200 passes the first time and fails the second: it was luck
        bad = rate > 200 or (rate == 200 and seen[rate] > 1)
        return StepResult(rate=rate, offered=100, achieved_ratio=1.0, error_rate=0.0,
                          p50_ms=5.0, p95_ms=20.0, p99_ms=800.0 if bad else 50.0)

    found = find_capacity(measure, SLOS, SearchSettings(start=50, tolerance=0.3, max_steps=12))
    assert seen[200] == 2
    assert found.capacity is not None
    assert found.capacity < 200
    assert any(s.stage == "confirm" and s.verdict == "fail" for s in found.steps)


def test_generator_that_cannot_keep_up_bounds_the_search() -> None:
    def measure(rate: float) -> StepResult:
        return StepResult(rate=rate, offered=100, achieved_ratio=1.0, error_rate=0.0,
                          p50_ms=5.0, p95_ms=20.0, p99_ms=50.0, valid=rate < 300,
                          notes=[] if rate < 300 else ["generator fell behind"])

    found = find_capacity(measure, SLOS, SearchSettings(start=50, tolerance=0.05))
    assert found.bound == "generator"
    assert found.capacity is not None
    assert found.capacity < 300
    assert "generator fell behind" in found.limited_by


@pytest.mark.parametrize(("fail_with", "word"), [("errors", "errors"), ("achieved", "achieved")])
def test_every_slo_counts(fail_with: str, word: str) -> None:
    _asked, measure = _system(150.0, fail_with=fail_with)
    found = find_capacity(measure, SLOS, SearchSettings(start=50))
    assert found.capacity is not None
    assert found.capacity <= 150
    assert found.limited_by[0].startswith(word)


def test_judge_names_what_was_missed() -> None:
    r = StepResult(rate=10, offered=80, achieved_ratio=0.95, error_rate=0.02,
                   p50_ms=1.0, p95_ms=2.0, p99_ms=600.0)
    verdict, reasons = judge(r, Slos(p99_ms=500, max_error_rate=0.01, min_achieved=0.99))
    assert verdict == "fail"
    assert len(reasons) == 3
    nothing = StepResult(rate=10, offered=80, achieved_ratio=0.0, error_rate=0.0,
                         p50_ms=None, p95_ms=None, p99_ms=None)
    assert "no request finished" in judge(nothing, SLOS)[1]


def test_a_step_the_generator_could_not_keep_is_measured_again() -> None:
    """A generator starved for a second (a shared machine) must not cap the search."""
    tries: dict[float, int] = {}

    def measure(rate: float) -> StepResult:
        tries[rate] = tries.get(rate, 0) + 1
        starved = rate == 100 and tries[rate] == 1  # only the first look at 100/s
        return StepResult(rate=rate, offered=100, achieved_ratio=1.0, error_rate=0.0,
                          p50_ms=5.0, p95_ms=20.0, p99_ms=900.0 if rate > 300 else 50.0,
                          valid=not starved)

    found = find_capacity(measure, SLOS, SearchSettings(start=50, tolerance=0.05))
    assert tries[100] == 2
    assert [s.stage for s in found.steps][1:3] == ["step", "retry"]
    assert found.steps[1].superseded
    assert found.capacity is not None
    assert 300 / 1.05 <= found.capacity <= 300
    assert found.bound == "slo"
