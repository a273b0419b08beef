"""The live alarm engine and target tracker on a bounded MetricsLog agree with the full history.

Issue #24: the collector kept every sample of the run and re-evaluated every alarm from
t=0 each tick. Now the MetricsLog keeps only the last `keep_s` seconds and the engine
judges only the new evaluations; these tests replay random sample streams (the shipped
profiles' alarms and scaling policies, at time scales 0.1 and 1) tick by tick, with
irregular tick spacing, and compare with `evaluate()` / `metric_points()` over the
whole stream. A deliberately short keep_s must give different transitions: the check
can fail.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.metrics.alarms import AlarmEngine, Transition, evaluate, window_at
from harness.metrics.periods import datapoints
from harness.model.alarmdef import AlarmDef, MissingData
from harness.model.profile_file import load_profile
from harness.records.samples import MetricsLog, Sample
from harness.scaling.policy import FleetCounts, PolicyDef, TargetTracker, metric_points
from harness.stacks.orchestrators.scaling import policy_of

SCALES = (0.1, 1.0)
TREATMENTS: tuple[MissingData, ...] = ("ignore", "breaching", "missing", "notBreaching")
PROFILES = ("legacy", "modern")


def shipped_alarms(profile: str, scale: float) -> list[AlarmDef]:
    """The profile's alarms, and variants covering every missing-data treatment."""
    alarms = load_profile(profile).alarm_definitions(scale)
    variants = [dataclasses.replace(a, name=f"{a.name}#{treat}", treat_missing_data=treat)
                for a, treat in zip(alarms, TREATMENTS, strict=False)]
    # a fast alarm, as a 10 s period one evaluated every 10 s (scaled)
    fast = [dataclasses.replace(alarms[0], name="fast", period_s=scale * 10,
                                every_s=scale * 10, evaluation_periods=3,
                                datapoints_to_alarm=2)]
    return alarms + variants + fast


def shipped_policy(profile: str, scale: float) -> PolicyDef:
    loaded = load_profile(profile)
    assert loaded.scaling is not None, f"{profile} ships no scaling settings"
    handles = cast(Any, SimpleNamespace(time_scale=scale, profile=loaded))
    policy = policy_of(handles, loaded.scaling)
    assert policy is not None
    return policy


def _levels(alarms: Sequence[AlarmDef]) -> dict[str, list[float]]:
    """Per metric, values on both sides of every threshold an alarm sets on it."""
    out: dict[str, list[float]] = {}
    for a in alarms:
        low, high = a.threshold * 0.5 - 1, a.threshold * 1.5 + 1
        out.setdefault(a.metric, []).extend([low, high])
        if a.minus_metric is not None:  # m1 - m2 around the threshold: vary m1 only
            out.setdefault(a.minus_metric, []).append(3.0)
            out.setdefault(a.metric, []).extend([3.0 + low, 3.0 + high])
    return out


def sample_stream(rnd: random.Random, levels: dict[str, list[float]], members: Sequence[str],
                  duration_s: float, max_gap_s: float) -> list[tuple[float, list[Sample]]]:
    """Ticks at irregular times; per (metric, member) series, runs of one level or no data."""
    series = [(m, member) for m in levels for member in (*members, None)]
    current: dict[tuple[str, str | None], float | None] = {}
    until: dict[tuple[str, str | None], float] = {}
    ticks: list[tuple[float, list[Sample]]] = []
    t = 0.0
    while t <= duration_s:
        batch: list[Sample] = []
        for key in series:
            if until.get(key, -1.0) <= t:  # a new run: a level, or missing data
                current[key] = (None if rnd.random() < 0.25
                                else rnd.choice(levels[key[0]]))
                until[key] = t + rnd.uniform(1, duration_s / 8)
            value = current[key]
            if value is None or rnd.random() < 0.05:
                continue  # no sample this tick (a source that failed once)
            metric, member = key
            if metric == "TargetResponseTime":
                spread = tuple(value * rnd.uniform(0.5, 1.5) for _ in range(rnd.randint(1, 4)))
                batch.append(Sample(t, metric, values=spread, member=member))
            else:
                batch.append(Sample(t, metric, value, member=member))
        ticks.append((t, batch))
        gap = rnd.choice([1.0, 1.0, 0.5, 2.0, rnd.uniform(0.05, max_gap_s)])
        t = round(t + gap, 6)
    return ticks


def replay_engine(alarms: Sequence[AlarmDef], ticks: Sequence[tuple[float, list[Sample]]],
                  keep_s: float | None) -> tuple[list[Transition], int]:
    """The collector's loop: add a tick's samples, advance the engine on the log's window.

    keep_s None: the engine's own lookback with the MetricsLog's margin, as the collector
    sets it. Returns the transitions and the most samples the log ever held.
    """
    engine = AlarmEngine(alarms)
    log = MetricsLog(None, "modern", keep_s=keep_s)
    if keep_s is None:
        log.keep_for(engine.lookback_s())
    seen: list[Transition] = []
    most = 0
    for t, batch in ticks:
        log.add(batch)
        window = log.snapshot()
        most = max(most, len(window))
        fresh = engine.advance(window, t)
        assert [c.at_s for c in fresh] == sorted(c.at_s for c in fresh)
        seen += fresh
    return seen, most


def by_alarm(changes: Sequence[Transition]) -> dict[str, list[Transition]]:
    out: dict[str, list[Transition]] = {}
    for c in changes:
        out.setdefault(c.alarm, []).append(c)
    return out


def full_history(alarms: Sequence[AlarmDef], ticks: Sequence[tuple[float, list[Sample]]]
                 ) -> dict[str, list[Transition]]:
    everything = [s for _, batch in ticks for s in batch]
    until = ticks[-1][0]
    return {a.name: changes for a in alarms if (changes := evaluate(a, everything, until))}


def _members(profile: str) -> list[str]:
    return list(load_profile(profile).app_names)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=st.sampled_from(PROFILES), scale=st.sampled_from(SCALES),
       seed=st.integers(0, 2**32 - 1), max_gap_s=st.floats(0.2, 4.0))
def test_the_incremental_engine_on_the_window_finds_the_full_history_transitions(
        profile: str, scale: float, seed: int, max_gap_s: float) -> None:
    rnd = random.Random(seed)
    alarms = shipped_alarms(profile, scale)
    # several windows of the slowest alarm, and long enough for the log to drop samples
    duration = 8 * AlarmEngine(alarms).lookback_s()
    ticks = sample_stream(rnd, _levels(alarms), _members(profile), duration, max_gap_s)
    live, _ = replay_engine(alarms, ticks, keep_s=None)
    assert by_alarm(live) == full_history(alarms, ticks)


def test_the_streams_cross_the_thresholds() -> None:
    # the property above means something only if alarms change state, and often
    alarms = shipped_alarms("modern", 0.1)
    ticks = sample_stream(random.Random(7), _levels(alarms), _members("modern"),
                          12 * AlarmEngine(alarms).lookback_s(), 3.0)
    changes = full_history(alarms, ticks)
    assert len(changes) >= len(alarms) // 2
    assert sum(len(c) for c in changes.values()) >= 3 * len(alarms)


def test_a_keep_s_shorter_than_the_lookback_gives_other_transitions() -> None:
    # the check can fail: with 3 s kept, an alarm reading 5 periods of 6 s published 6 s
    # late sees none of its samples, so it never goes to ALARM as the full history does
    alarms = shipped_alarms("modern", 0.1)
    ticks = sample_stream(random.Random(7), _levels(alarms), _members("modern"),
                          12 * AlarmEngine(alarms).lookback_s(), 3.0)
    expected = full_history(alarms, ticks)
    tiny, _ = replay_engine(alarms, ticks, keep_s=3.0)
    assert by_alarm(tiny) != expected
    enough, _ = replay_engine(alarms, ticks, keep_s=None)
    assert by_alarm(enough) == expected


def test_the_window_stays_bounded_over_a_long_run(tmp_path: Path) -> None:
    alarms = load_profile("modern").alarm_definitions(0.1)
    engine = AlarmEngine(alarms)
    log = MetricsLog(tmp_path / "metrics.jsonl", "modern")
    log.keep_for(engine.lookback_s())
    assert log.keep_s is not None
    assert log.keep_s >= 2 * engine.lookback_s()
    per_tick = 12
    sizes = []
    for t in range(20_000):
        log.add(Sample(float(t), "CPUUtilization", float(t % 97), member=f"app-{i % 3}")
                for i in range(per_tick))
        engine.advance(log.snapshot(), float(t))
        sizes.append(len(log.samples))
    window = log.snapshot()
    assert window[0].t_s >= 20_000 - 1 - log.keep_s
    # the last keep_s seconds and no more, from the first minutes to the end
    assert max(sizes) <= (log.keep_s + 1) * per_tick
    assert max(sizes[-1000:]) == max(sizes[:1000])
    # the file still gets every sample
    lines = (tmp_path / "metrics.jsonl").read_text().count("\n")
    assert lines == 20_000 * per_tick


def test_datapoints_since_a_time_are_the_tail_of_those_from_the_start() -> None:
    samples = [Sample(t / 3, "CPUUtilization", float(t % 11)) for t in range(600)]
    full = datapoints(samples, "CPUUtilization", period_s=6.0, stat="Average", until_s=200)
    tail = datapoints(samples, "CPUUtilization", period_s=6.0, stat="Average", until_s=200,
                      since_s=100.0)
    # 100 s is in the period [96, 102): the 17th
    assert tail[0].start_s == 96.0
    assert tail == full[16:]


def test_the_log_keeps_twice_the_lookback_or_a_minute_more() -> None:
    short, long = MetricsLog(None, "modern"), MetricsLog(None, "modern")
    short.keep_for(10.0)
    long.keep_for(500.0)
    assert (short.keep_s, long.keep_s) == (70.0, 1000.0)
    long.keep_for(20.0)  # a second reader needing less does not shorten it
    assert long.keep_s == 1000.0


def test_a_log_without_a_keep_keeps_every_sample() -> None:
    log = MetricsLog(None, "modern")
    log.add(Sample(float(t), "CPUUtilization", 1.0) for t in range(5000))
    assert len(log.snapshot()) == 5000


# -- target tracking -----------------------------------------------------------------


def _policy_stream(rnd: random.Random, policy: PolicyDef, members: Sequence[str],
                   duration_s: float, max_gap_s: float) -> list[tuple[float, list[Sample]]]:
    levels = {"CPUUtilization": [10.0, policy.target * 0.85, policy.target * 1.6, 95.0],
              "RequestCount": [0.0, policy.target * 0.2, policy.target, policy.target * 3],
              "InServiceCount": [1.0, 2.0, 3.0]}
    return sample_stream(rnd, levels, members, duration_s, max_gap_s)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=st.sampled_from(PROFILES), scale=st.sampled_from(SCALES),
       per_target=st.booleans(), seed=st.integers(0, 2**32 - 1),
       max_gap_s=st.floats(0.2, 4.0))
def test_the_tracker_on_the_window_decides_as_on_the_full_history(
        profile: str, scale: float, per_target: bool, seed: int,
        max_gap_s: float) -> None:
    rnd = random.Random(seed)
    policy = shipped_policy(profile, scale)
    if per_target:
        policy = dataclasses.replace(policy, metric="RequestCountPerTarget")
    members = _members(profile)
    duration = 4 * policy.lookback_s()
    ticks = _policy_stream(rnd, policy, members, duration, max_gap_s)
    # members warm up now and then (their CPU samples are left out meanwhile)
    warmups = {m: (start, start + policy.warmup_s + 5)
               for m in members if rnd.random() < 0.5
               for start in [rnd.uniform(0, duration)]}
    log = MetricsLog(None, "modern")
    log.keep_for(policy.lookback_s())
    everything: list[Sample] = []
    on_window = TargetTracker(policy, min_capacity=1, max_capacity=10)
    on_full = TargetTracker(policy, min_capacity=1, max_capacity=10)
    next_eval = policy.every_s
    for t, batch in ticks:
        log.add(batch)
        everything += batch
        # the orchestrator evaluates a little after each evaluation time, on its own clock
        now = t + rnd.uniform(0, 0.3)
        if now < next_eval:
            continue
        next_eval = (int(now / policy.every_s + 1e-9) + 1) * policy.every_s
        window = metric_points(log.snapshot(), policy, now, warmups,
                               since_s=now - policy.lookback_s())
        full = metric_points(everything, policy, now, warmups)
        for which in ("high", "low"):
            alarm = policy.alarm(which)
            assert window_at(window, alarm, now) == window_at(full, alarm, now)
        fleet = FleetCounts(desired=rnd.randint(1, 6), running=rnd.randint(1, 6),
                            measured=rnd.randint(0, 6), warming=rnd.choice([0, 0, 1]))
        got = on_window.evaluate(window, now, fleet)
        assert got == on_full.evaluate(full, now, fleet)
    assert (on_window.high, on_window.low) == (on_full.high, on_full.low)


def test_the_tracker_on_a_too_short_window_reads_other_datapoints() -> None:
    # the check can fail: 10 s kept is less than the 3 periods of 6 s (published 6 s late)
    policy = shipped_policy("modern", 0.1)
    ticks = _policy_stream(random.Random(3), policy, _members("modern"), 600, 1.0)
    short = MetricsLog(None, "modern", keep_s=10.0)
    everything: list[Sample] = []
    differ = 0
    for t, batch in ticks:
        short.add(batch)
        everything += batch
        alarm = policy.alarm("high")
        got = window_at(metric_points(short.snapshot(), policy, t), alarm, t)
        differ += got != window_at(metric_points(everything, policy, t), alarm, t)
    assert differ > 0
