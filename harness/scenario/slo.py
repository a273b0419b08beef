"""The SLO part of a scenario: thresholds with verdicts, and how recovery is detected.

    slos:
      - {name: checkout-p99, metric: p99, endpoint: "POST /orders", phase: peak, threshold: 300ms}
      - {name: errors-peak, metric: error_rate, phase: peak, window: 10s, threshold: 1%}
      - {name: keeps-up, metric: achieved_ratio, op: ">=", threshold: 0.98}
      - {name: recovers, metric: recovery_s, fault: kill-app, threshold: 30s, arch: modern}
    recovery: {baseline: 30s, consecutive: 5, error_rate_margin: 1%, p95_factor: 1.5}

Thresholds are parsed into one unit per metric (`SLO.limit`): milliseconds for
latency percentiles, a ratio 0..1 for error_rate and achieved_ratio, seconds for
recovery_s. Percentiles count every request (errors and timeouts too), measured
from the intended start. Error rates count arrivals dropped at the concurrency
cap as failed requests; `dropped: exclude` on an error_rate SLO (or in
`recovery:`) leaves them out, for a scenario that judges the cap separately.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.errors import ScenarioError
from harness.scenario.units import parse_duration
from harness.scenario.workload import Duration, format_validation_error

Metric = Literal[
    "p50", "p90", "p95", "p99", "p999", "max", "error_rate", "achieved_ratio", "recovery_s"
]
LATENCY_METRICS: tuple[str, ...] = ("p50", "p90", "p95", "p99", "p999", "max")
RATIO_METRICS: tuple[str, ...] = ("error_rate", "achieved_ratio")
Op = Literal["<=", "<", ">=", ">"]
ArchChoice = Literal["legacy", "modern", "both"]
#: whether arrivals dropped at the concurrency cap count as failed requests
DroppedChoice = Literal["count", "exclude"]
#: the unit `SLO.limit` and measured values are in, by metric
UNITS: dict[str, str] = {
    **dict.fromkeys(LATENCY_METRICS, "ms"),
    "error_rate": "ratio",
    "achieved_ratio": "ratio",
    "recovery_s": "s",
}

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def parse_ratio(value: Any) -> float:
    """'1%' / 0.01 -> 0.01; raises ValueError with the accepted forms."""
    if isinstance(value, bool):
        raise ValueError("a ratio is a number from 0 to 1 or a percentage like '1%'")
    if isinstance(value, int | float):
        ratio = float(value)
    elif isinstance(value, str) and (m := _PERCENT.match(value)):
        ratio = float(m.group(1)) / 100
    else:
        raise ValueError(f"{value!r} is not a ratio; write e.g. '1%' or 0.01")
    if not 0 <= ratio <= 1:
        raise ValueError(f"{value!r}: a ratio is between 0 and 1 (0 % and 100 %)")
    return ratio


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SLO(_Model):
    """One objective: a metric over arch x endpoint x phase, whole or per sliding window."""

    name: str = Field(min_length=1, description="how reports and junit.xml name this SLO")
    metric: Metric
    endpoint: str = Field("*", description='"*" = every endpoint, or e.g. "POST /orders"')
    phase: str | None = Field(None, description="a phase name; null = the whole run")
    window: Duration | None = Field(
        None, description="sliding window (1 s steps), e.g. '10s'; null = the whole scope at once"
    )
    op: Op = "<="
    threshold: str | float = Field(
        description="'300ms' for latencies, '1%' or 0.01 for ratios, '30s' for recovery_s"
    )
    arch: ArchChoice = "both"
    fault: str | None = Field(
        None, description="only for recovery_s: the fault's name; null = every fault (the worst)"
    )
    dropped: DroppedChoice = Field(
        "count", description="only for error_rate: 'exclude' leaves arrivals dropped at the "
        "concurrency cap out of the rate (default: they count as failed requests)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> SLO:
        self.limit  # noqa: B018 -- parsing the threshold is the check
        if self.window is not None:
            if self.metric == "recovery_s":
                raise ValueError("window: recovery_s is per fault; remove `window`")
            if self.window < 1:
                raise ValueError("window: must be at least 1s (data is per second)")
        if self.fault is not None and self.metric != "recovery_s":
            raise ValueError("fault: only recovery_s SLOs name a fault")
        if self.dropped != "count" and self.metric != "error_rate":
            raise ValueError(
                f"dropped: only error_rate SLOs count dropped arrivals; remove it from this "
                f"{self.metric} SLO"
            )
        return self

    @property
    def count_dropped(self) -> bool:
        return self.dropped == "count"

    @property
    def limit(self) -> float:
        """The threshold in the metric's unit (ms, ratio or s)."""
        try:
            if self.metric in LATENCY_METRICS:
                return parse_duration(self.threshold) * 1000
            if self.metric == "recovery_s":
                return parse_duration(self.threshold)
            return parse_ratio(self.threshold)
        except ValueError as exc:
            raise ValueError(f"threshold: {exc} (metric {self.metric})") from None

    @property
    def unit(self) -> str:
        return UNITS[self.metric]

    def archs(self, available: list[str]) -> list[str]:
        return list(available) if self.arch == "both" else [a for a in available if a == self.arch]

    def holds(self, measured: float) -> bool:
        """True when `measured` meets the threshold."""
        limit = self.limit
        return {
            "<=": measured <= limit,
            "<": measured < limit,
            ">=": measured >= limit,
            ">": measured > limit,
        }[self.op]

    def worse(self, a: float, b: float) -> float:
        """The value of the two that is further from passing."""
        return max(a, b) if self.op in ("<=", "<") else min(a, b)


class Recovery(_Model):
    """When a second counts as back to normal after a fault (DESIGN.md, Measurement rules).

    A second is within the band when its error rate is at most
    max(baseline x error_rate_factor, baseline + error_rate_margin) and its p95 at most
    max(baseline x p95_factor, baseline + p95_margin); the baseline is measured over
    `baseline` seconds before the fault. Recovered = `consecutive` seconds in a row
    within the band, after the first second outside it.
    """

    baseline: Duration = Field(30.0, description="window before each fault that sets the band")
    consecutive: int = Field(5, ge=1, description="seconds in a row within the band")
    error_rate_factor: float = Field(2.0, ge=1)
    error_rate_margin: float = Field(0.01, ge=0, description="absolute, e.g. '1%' or 0.01")
    p95_factor: float = Field(1.5, ge=1)
    p95_margin: Duration = Field(0.05, description="absolute, e.g. '50ms'")
    dropped: DroppedChoice = Field(
        "count", description="'exclude' leaves arrivals dropped at the concurrency cap out of "
        "the error rate that decides impact and recovery (default: they count as failures)",
    )

    @property
    def count_dropped(self) -> bool:
        return self.dropped == "count"

    @model_validator(mode="before")
    @classmethod
    def _ratio(cls, data: Any) -> Any:
        if isinstance(data, dict) and "error_rate_margin" in data:
            try:
                data = {**data, "error_rate_margin": parse_ratio(data["error_rate_margin"])}
            except ValueError as exc:
                raise ValueError(f"error_rate_margin: {exc}") from None
        return data

    @model_validator(mode="after")
    def _positive(self) -> Recovery:
        if self.baseline < 1:
            raise ValueError("baseline: must be at least 1s (data is per second)")
        return self


class Objectives(_Model):
    """The `slos:` list and the `recovery:` parameters of a scenario."""

    slos: list[SLO] = Field(default_factory=list)
    recovery: Recovery = Recovery.model_validate({})

    @model_validator(mode="after")
    def _unique(self) -> Objectives:
        seen: set[str] = set()
        for i, slo in enumerate(self.slos):
            if slo.name in seen:
                raise ValueError(
                    f"slos[{i}].name: {slo.name!r} is used twice; names must be unique"
                )
            seen.add(slo.name)
        return self


def check_phases(objectives: Objectives, phases: list[str], source: str) -> None:
    """ScenarioError when an SLO names a phase the workload does not have."""
    for i, slo in enumerate(objectives.slos):
        if slo.phase is not None and slo.phase not in phases:
            raise ScenarioError(
                f"{source}: slos[{i}].phase: unknown phase {slo.phase!r}; "
                f"the workload has {', '.join(phases) or 'no phases'}"
            )


def load_objectives(data: Any, source: str) -> Objectives:
    """Validate `{slos: [...], recovery: {...}}`; ScenarioError (exit 2) naming file and field."""
    try:
        return Objectives.model_validate(data or {})
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(source, exc)) from None
