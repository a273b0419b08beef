"""The generator's CPU share and the "competed with the stack" judgement, on synthetic intervals.

The sampler's readings are replaced by intervals with known CPU seconds; the
judgement is pure logic. One real sampler test reads this process's own CPU.
"""

from __future__ import annotations

import os

from harness.load.cpushare import (
    DEFAULT_HEADROOM_SHARE,
    CpuSampler,
    Interval,
    headroom,
    judge,
)


def _seconds(n: int, *, generator: float, machine: float, cores: int = 2) -> list[Interval]:
    """n one-second intervals with the given shares of all cores."""
    return [Interval(float(i), float(i + 1), generator * cores, machine * cores) for i in range(n)]


def test_shares_over_the_load() -> None:
    r = judge(_seconds(10, generator=0.2, machine=0.5), cores=2, stack_cpus=1.5)
    assert r is not None
    assert abs(r.generator_share - 0.2) < 1e-9
    assert abs(r.machine_share - 0.5) < 1e-9
    assert r.wall_s == 10
    assert r.generator_cpu_s == 4.0


def test_headroom_is_what_the_stack_limit_leaves() -> None:
    assert headroom(2, 1.5) == 0.25
    assert headroom(4, 1.5) == 2.5 / 4
    assert headroom(2, 3.0) == 0.0  # a limit above the machine leaves no room
    assert headroom(2, None) == DEFAULT_HEADROOM_SHARE


def test_saturated_machine_and_generator_beyond_its_room_is_flagged() -> None:
    r = judge(_seconds(20, generator=0.4, machine=0.97), cores=2, stack_cpus=1.5)
    assert r is not None
    assert r.competed
    assert r.competed_intervals == 20
    assert "competed with the stack" in r.warnings[0]
    assert "40%" in r.warnings[0]  # the figures are in the warning


def test_busy_generator_on_an_idle_machine_did_not_compete() -> None:
    # the generator used more than its room, but a core was free all along
    r = judge(_seconds(20, generator=0.45, machine=0.7), cores=2, stack_cpus=1.5)
    assert r is not None
    assert not r.competed
    assert r.saturated_intervals == 0
    assert r.warnings == []


def test_saturated_by_others_is_reported_but_not_as_the_generator() -> None:
    r = judge(_seconds(20, generator=0.1, machine=0.99), cores=2, stack_cpus=1.5)
    assert r is not None
    assert not r.competed
    assert r.saturated_intervals == 20
    assert "other processes" in r.warnings[0]


def test_one_competed_second_in_forty_is_tolerated() -> None:
    calm = _seconds(39, generator=0.1, machine=0.5)
    spike = [Interval(39.0, 40.0, 0.9, 1.96)]
    r = judge([*calm, *spike], cores=2, stack_cpus=1.5)
    assert r is not None
    assert r.competed_intervals == 1
    assert not r.competed
    assert r.generator_peak_share == 0.45


def test_a_smaller_stack_leaves_more_room() -> None:
    # 0.4 of 2 cores is beyond the room a 1.5 vCPU stack leaves, within a 1.0 vCPU stack's
    intervals = _seconds(10, generator=0.4, machine=0.95)
    big, small = (judge(intervals, cores=2, stack_cpus=c) for c in (1.5, 1.0))
    assert big is not None
    assert small is not None
    assert big.competed
    assert not small.competed


def test_nothing_to_judge() -> None:
    assert judge([], cores=2, stack_cpus=1.5) is None
    assert judge([Interval(1.0, 1.0, 0.0, 0.0)], cores=2, stack_cpus=None) is None


def test_sampler_reads_a_real_process_and_keeps_the_window() -> None:
    sampler = CpuSampler([os.getpid()], every_s=10.0)
    sampler.sample()
    total = sum(i * i for i in range(300_000))  # some CPU of our own
    assert total > 0
    sampler.sample()
    sampler.sample()
    found = sampler.intervals(0.0, 1e12)
    assert len(found) == 2
    assert found[0].generator_cpu_s >= 0.0
    assert sampler.intervals(0.0, 1.0) == []  # nothing sampled in 1970
