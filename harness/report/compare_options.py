"""`harness compare` flags for its verdict rule, parsed and checked (ConfigError: exit 2).

    --min-effect p99=10ms        absolute, in the metric's unit (durations for latency, recovery)
    --min-effect p99=5%          relative to the baseline for latency and recovery
    --min-effect error_rate=0.5% absolute for ratios (0.5 percentage points); 20%rel relative
    --min-effect p95=4ms+5%      both must be exceeded, as the defaults are
    --min-effect recovery=2s     every fault's recovery; recovery:kill-app=2s one fault's
    --min-repeats 3              runs a side before any verdict
    --family-alpha 5%            the chance of any false verdict in one comparison
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from harness.analysis.compare import METRICS, RECOVERY, MinEffect, Rule, metric_unit
from harness.errors import ConfigError
from harness.scenario.slo import parse_ratio
from harness.scenario.units import parse_duration

_NAMES = [m for m, *_ in METRICS] + [RECOVERY, f"{RECOVERY}:<fault>"]
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%(rel)?$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def _metric(name: str, flag: str) -> str:
    """The metric's name as compare keys it: `recovery:kill-app` -> `recovery kill-app`."""
    if name.startswith(f"{RECOVERY}:") and name[len(RECOVERY) + 1:]:
        return f"{RECOVERY} {name[len(RECOVERY) + 1:]}"
    try:
        metric_unit(name)
    except KeyError:
        raise ConfigError(f"{flag}: {name!r} is not a metric; choose one of "
                          f"{', '.join(_NAMES)}") from None
    return name


def _part(text: str, unit: str, flag: str) -> tuple[str, float]:
    """One bound, ("absolute" | "relative", value), in the metric's unit or as a share."""
    if m := _PERCENT.match(text):
        share = float(m.group(1)) / 100
        # a percentage of a ratio (an error rate) is its absolute size, in points;
        # of a latency or a recovery it can only be relative
        if m.group(2) or unit != "ratio":
            return "relative", share
        if share > 1:
            raise ConfigError(f"{flag}: {text!r}: a ratio's change is at most 100%")
        return "absolute", share
    if unit == "ratio":
        if _NUMBER.match(text):
            return "absolute", parse_ratio(float(text))
        raise ConfigError(f"{flag}: {text!r}: write a ratio as 0.5% or 0.005, "
                          "a relative bound as 20%rel")
    if _NUMBER.match(text):  # a bare number: milliseconds or seconds? say which
        raise ConfigError(f"{flag}: {text!r}: give a unit, e.g. 10ms or 2s, or a share, e.g. 5%")
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"{flag}: {exc}; or a share of the baseline, e.g. 5%") from None
    return "absolute", seconds * 1000 if unit == "ms" else seconds


def parse_min_effect(text: str) -> tuple[str, MinEffect]:
    """`p99=10ms` -> ("p99", MinEffect(10.0, 0.0)); ConfigError naming the flag and the fix."""
    flag = f"--min-effect {text}"
    name, sep, value = text.replace(" ", "").partition("=")
    if not sep or not name or not value:
        raise ConfigError(f"{flag}: write METRIC=VALUE, e.g. p99=10ms or error_rate=0.5%")
    metric = _metric(name, flag)
    bounds: dict[str, float] = {}
    for part in value.split("+"):
        kind, amount = _part(part, metric_unit(metric), flag)
        if kind in bounds:
            raise ConfigError(f"{flag}: two {kind} bounds; give at most one of each")
        bounds[kind] = amount
    return metric, MinEffect(bounds.get("absolute", 0.0), bounds.get("relative", 0.0))


def parse_rule(*, min_effect: Sequence[str] = (), min_repeats: int = 3,
               family_alpha: str = "5%") -> Rule:
    """The verdict rule from `harness compare`'s flags; the first bad one raises ConfigError."""
    if min_repeats < 1:
        raise ConfigError(f"--min-repeats {min_repeats}: must be at least 1")
    try:
        alpha = parse_ratio(float(family_alpha) if _NUMBER.match(family_alpha.strip())
                            else family_alpha)
    except ValueError as exc:
        raise ConfigError(f"--family-alpha: {exc}") from None
    if not 0 < alpha <= 0.5:
        raise ConfigError(f"--family-alpha {family_alpha}: must be above 0 and at most 50%, "
                          "e.g. 5%")
    effects: dict[str, MinEffect] = {}
    for text in min_effect:
        metric, effect = parse_min_effect(text)
        if metric in effects:
            raise ConfigError(f"--min-effect: {metric} given twice")
        effects[metric] = effect
    return Rule(confidence=1 - alpha, min_repeats=min_repeats, min_effects=effects)
