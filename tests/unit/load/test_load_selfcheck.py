from __future__ import annotations

from harness.load.selfcheck import check
from harness.records.recorder import Recorder


def seconds_of(lag_s: float, n: int = 20, *, behind: int = 0, cpu: float = 30.0) -> Recorder:
    rec = Recorder()
    for s in range(n):
        slow = s < behind
        for _ in range(100):
            rec.arrival(s, lag_s=0.5 if slow else lag_s, late=slow)
        rec.cpu(s, 99.0 if slow else cpu)
    return rec


def test_a_generator_on_time_is_valid() -> None:
    result = check(seconds_of(0.002))
    assert result.valid
    assert result.reasons == []


def test_a_generator_behind_in_many_seconds_is_invalid_and_says_why() -> None:
    result = check(seconds_of(0.002, behind=5))
    assert not result.valid
    assert result.behind_seconds == [0, 1, 2, 3, 4]
    assert "behind its schedule in 5 of 20 seconds" in result.reasons[0]
    assert "5 of them with a saturated CPU" in result.reasons[0]
    assert result.max_cpu_pct == 99.0


def test_one_slow_second_in_twenty_is_tolerated() -> None:
    assert check(seconds_of(0.002, behind=1)).valid


def test_arrivals_dropped_at_the_cap_do_not_blame_the_generator() -> None:
    # a slow target fills the cap: arrivals are dropped at once, not started late
    rec = seconds_of(0.002)
    for s in range(20):
        for _ in range(50):
            rec.arrival(s, lag_s=None)
    assert check(rec).valid


def test_arrivals_no_generator_reported_make_the_run_invalid() -> None:
    rec = seconds_of(0.002)
    rec.missed(3, 100)
    result = check(rec)
    assert not result.valid
    assert "never started 100 of 2100" in result.reasons[0]


def test_arrivals_dropped_while_the_generator_cpu_is_saturated_blame_the_generator() -> None:
    rec = seconds_of(0.002, cpu=97.0)
    for s in range(20):
        rec.arrival(s, lag_s=None)
    result = check(rec)
    assert not result.valid
    assert len(result.behind_seconds) == 20


def test_a_busy_generator_that_keeps_its_schedule_is_valid() -> None:
    assert check(seconds_of(0.002, cpu=97.0)).valid


def test_a_generator_waiting_for_a_shared_core_counts_as_saturated() -> None:
    # 45 % of a core running and 50 % of the second in the run queue: it wanted the CPU all
    # along and dropped arrivals because it could not handle answers, not because of the target
    rec = Recorder()
    for s in range(20):
        for _ in range(50):
            rec.arrival(s, lag_s=0.002)
        for _ in range(50):
            rec.arrival(s, lag_s=None)
        rec.cpu(s, 45.0, wait_pct=50.0)
    result = check(rec)
    assert not result.valid
    assert "20 of them with a saturated CPU" in result.reasons[0]
    calm = Recorder()
    for s in range(20):
        for _ in range(50):
            calm.arrival(s, lag_s=0.002)
            calm.arrival(s, lag_s=None)
        calm.cpu(s, 45.0, wait_pct=5.0)
    assert check(calm).valid
