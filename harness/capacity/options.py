"""`harness capacity` flags, parsed and checked before any stack starts (ConfigError: exit 2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.errors import ConfigError
from harness.scenario.slo import parse_ratio
from harness.scenario.units import parse_duration
from harness.scenario.workload import parse_rate

from .measure import StepPlan
from .search import SearchSettings, Slos

Scope = Literal["both", "member", "stack"]
SCOPES: tuple[Scope, ...] = ("both", "member", "stack")


@dataclass(frozen=True)
class CapacityOptions:
    slos: Slos
    search: SearchSettings
    plan: StepPlan
    scope: Scope


def _seconds(flag: str, value: str, *, minimum: float) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise ConfigError(f"{flag}: {exc}") from None
    if seconds < minimum:
        raise ConfigError(f"{flag} {value}: must be at least {minimum:g} s")
    return seconds


def _rate(flag: str, value: str) -> float:
    try:
        rate = parse_rate(value)
    except ValueError as exc:
        raise ConfigError(f"{flag}: {exc}") from None
    if rate <= 0:
        raise ConfigError(f"{flag} {value}: must be above 0/s, e.g. 50/s")
    return rate


def _ratio(flag: str, value: str) -> float:
    try:
        return parse_ratio(float(value) if _is_number(value) else value)
    except ValueError as exc:
        raise ConfigError(f"{flag}: {exc}") from None


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def parse(
    *, p99: str, max_error_rate: str, min_achieved: str, start: str, max_rate: str,
    factor: float, tolerance: str, max_steps: int, step: str, warmup: str, timeout: str,
    concurrency: int, workers: int, seed: int, scope: str, confirm: bool,
) -> CapacityOptions:
    """Every flag checked; the first bad one raises ConfigError naming it."""
    p99_ms = _seconds("--p99", p99, minimum=0.001) * 1000
    slos = Slos(p99_ms=p99_ms, max_error_rate=_ratio("--max-error-rate", max_error_rate),
                min_achieved=_ratio("--min-achieved", min_achieved))
    start_rate, top = _rate("--start", start), _rate("--max-rate", max_rate)
    if start_rate > top:
        raise ConfigError(f"--start {start} is above --max-rate {max_rate}")
    if not factor > 1:
        raise ConfigError(f"--factor {factor:g}: must be above 1 (each step multiplies the rate)")
    tol = _ratio("--tolerance", tolerance)
    if tol <= 0:
        raise ConfigError(f"--tolerance {tolerance}: must be above 0, e.g. 5%")
    if max_steps < 1:
        raise ConfigError(f"--max-steps {max_steps}: need at least 1")
    if concurrency < 1:
        raise ConfigError(f"--concurrency {concurrency}: need at least 1")
    if workers < 1:
        raise ConfigError(f"--workers {workers}: need at least 1")
    if scope not in SCOPES:
        raise ConfigError(f"--scope {scope!r}: choose {', '.join(SCOPES)}")
    read_s = _seconds("--timeout", timeout, minimum=0.01)
    if read_s * 1000 < p99_ms:
        raise ConfigError(
            f"--timeout {timeout}: shorter than --p99 {p99}; a request cut off at the timeout "
            "could never show the p99 it had"
        )
    plan = StepPlan(
        warmup_s=_seconds("--warmup", warmup, minimum=0.0),
        measure_s=_seconds("--step", step, minimum=1.0), seed=seed,
        max_concurrency=concurrency, connect_timeout_s=min(read_s, 1.0),
        read_timeout_s=read_s, workers=workers,
    )
    search = SearchSettings(start=start_rate, factor=factor, max_rate=top,
                            min_rate=min(1.0, start_rate), tolerance=tol,
                            max_steps=max_steps, confirm=confirm)
    return CapacityOptions(slos, search, plan, scope)
