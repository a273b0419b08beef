"""The search for the highest arrival rate that meets the SLOs: steps up, then bisection.

Pure logic: `find_capacity` calls a measure function (one short open-model load at
a rate, harness.capacity.measure) and never touches a process, so it is tested
with a fake system that has a known knee.

1. Steps: from `start`, multiply the rate by `factor` while it passes (divide while
   even the start fails), up to `max_rate`.
2. Bisection between the last pass and the first fail, until they are within
   `tolerance` of each other.
3. Confirmation: the candidate is measured once more; a second look that fails
   counts as a fail at that rate (noise near the knee is real), and the next pass
   below becomes the candidate.

The reported capacity is the highest rate that passed below the lowest rate that
did not pass: a rate that failed is never reported, nor one above a failure (a
noisy pass beyond a failure is kept in the curve, not believed). A step the
generator could not keep (its self-check) says nothing about the stack: it is
measured once more (on a shared machine a generator starved for a second is
common), and if it still cannot keep up it bounds what can be measured here: the
result says "limited by the generator".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Verdict = Literal["pass", "fail", "invalid"]
Bound = Literal["slo", "max_rate", "generator", "steps", "none"]


@dataclass(frozen=True)
class Slos:
    """What "sustains" means: every step must meet all three."""

    p99_ms: float = 500.0
    max_error_rate: float = 0.01
    min_achieved: float = 0.99


@dataclass(frozen=True)
class StepResult:
    """One short load at `rate` arrivals/s, measured after its warm-up."""

    rate: float
    offered: int
    achieved_ratio: float
    error_rate: float
    #: latency from intended start, ms; None when no request finished
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    requests_per_s: float = 0.0
    #: the generator kept its schedule (selfcheck); False: the step says nothing of the stack
    valid: bool = True
    #: the generator competed with the stack for CPU (cpushare): a fail may be the generator's
    competed: bool = False
    generator_share: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    """A measured step with its verdict, in the order it ran."""

    stage: Literal["step", "bisect", "confirm", "retry"]
    result: StepResult
    verdict: Verdict
    #: the SLOs it missed ("p99 812 ms > 500 ms"), or why it is invalid
    reasons: list[str]
    #: an invalid step measured again: kept in the curve, not used by the search
    superseded: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "verdict": self.verdict, "reasons": self.reasons,
                "superseded": self.superseded, **asdict(self.result)}


@dataclass(frozen=True)
class SearchSettings:
    start: float = 50.0
    factor: float = 2.0
    max_rate: float = 5000.0
    min_rate: float = 1.0
    #: stop bisecting when (first fail - last pass) / last pass is at most this
    tolerance: float = 0.05
    max_steps: int = 12
    confirm: bool = True


@dataclass(frozen=True)
class SearchResult:
    """The capacity found (None: not even the lowest rate passed) and every step."""

    capacity: float | None
    bound: Bound
    steps: list[Step]
    #: the lowest rate that did not pass, above the capacity
    first_fail: float | None
    #: the SLOs the first failing rate missed: what capacity runs into
    limited_by: list[str]

    @property
    def at_capacity(self) -> StepResult | None:
        """The best passing measurement at the capacity rate."""
        found = [s.result for s in self.steps if s.verdict == "pass"
                 and self.capacity is not None and s.result.rate == self.capacity]
        return found[-1] if found else None

    def to_json(self) -> dict[str, Any]:
        return {"capacity": self.capacity, "bound": self.bound, "first_fail": self.first_fail,
                "limited_by": self.limited_by, "steps": [s.to_json() for s in self.steps]}


def judge(result: StepResult, slos: Slos) -> tuple[Verdict, list[str]]:
    """pass, fail (with the SLOs missed) or invalid (the generator could not keep up)."""
    if not result.valid:
        return "invalid", result.notes or ["the generator could not keep its schedule"]
    missed = []
    if result.p99_ms is None:
        missed.append("no request finished")
    elif result.p99_ms > slos.p99_ms:
        missed.append(f"p99 {result.p99_ms:.0f} ms > {slos.p99_ms:g} ms")
    if result.error_rate > slos.max_error_rate:
        missed.append(f"errors {result.error_rate:.2%} > {slos.max_error_rate:.2%}")
    if result.achieved_ratio < slos.min_achieved:
        missed.append(f"achieved {result.achieved_ratio:.2%} < {slos.min_achieved:.0%}")
    return ("fail" if missed else "pass"), missed


Measure = Callable[[float], StepResult]


class _Search:
    def __init__(self, measure: Measure, slos: Slos, settings: SearchSettings) -> None:
        self.measure, self.slos, self.s = measure, slos, settings
        self.steps: list[Step] = []

    def run(self, rate: float, stage: Literal["step", "bisect", "confirm"]) -> Verdict:
        verdict = self._once(round(rate, 2), stage)
        if verdict == "invalid" and self.budget_left:
            # one retry: the step said nothing about the stack, the next one may
            self.steps[-1] = replace(self.steps[-1], superseded=True)
            verdict = self._once(round(rate, 2), "retry")
        return verdict

    def _once(self, rate: float, stage: Literal["step", "bisect", "confirm", "retry"]
              ) -> Verdict:
        result = self.measure(rate)
        verdict, reasons = judge(result, self.slos)
        self.steps.append(Step(stage, result, verdict, reasons))
        return verdict

    @property
    def budget_left(self) -> bool:
        return len(self.steps) < self.s.max_steps

    @property
    def counted(self) -> list[Step]:
        return [st for st in self.steps if not st.superseded]

    def lowest_not_passed(self) -> float | None:
        rates = [st.result.rate for st in self.counted if st.verdict != "pass"]
        return min(rates) if rates else None

    def best_pass(self) -> float | None:
        ceiling = self.lowest_not_passed()
        rates = [st.result.rate for st in self.counted if st.verdict == "pass"
                 and (ceiling is None or st.result.rate < ceiling)]
        return max(rates) if rates else None


def find_capacity(measure: Measure, slos: Slos, settings: SearchSettings) -> SearchResult:
    """Search the highest passing rate; see the module docstring."""
    s = _Search(measure, slos, settings)
    rate = min(max(settings.start, settings.min_rate), settings.max_rate)
    reached_max = False
    # 1. steps: up while passing, down while failing from the start
    while s.budget_left:
        verdict = s.run(rate, "step")
        low, high = s.best_pass(), s.lowest_not_passed()
        if verdict == "pass":
            if high is not None:
                break
            if rate >= settings.max_rate:
                reached_max = True
                break
            rate = min(rate * settings.factor, settings.max_rate)
        else:
            if low is not None:
                break
            if rate / settings.factor < settings.min_rate:
                break
            rate = rate / settings.factor
    # 2. bisection; 3. confirmation of the candidate
    confirmed: set[float] = set()
    while s.budget_left:
        low, high = s.best_pass(), s.lowest_not_passed()
        if low is None:
            break
        if high is not None and (high - low) / low > settings.tolerance:
            s.run((low + high) / 2, "bisect")
            continue
        if not settings.confirm or low in confirmed:
            break
        confirmed.add(low)
        s.run(low, "confirm")
    return _result(s, reached_max)


def _result(s: _Search, reached_max: bool) -> SearchResult:
    capacity, first_fail = s.best_pass(), s.lowest_not_passed()
    limit = [st for st in s.counted if first_fail is not None and st.result.rate == first_fail
             and st.verdict != "pass"]
    bound: Bound
    if capacity is None:
        bound = "none"
    elif limit and limit[0].verdict == "invalid":
        bound = "generator"
    elif limit:
        bound = "slo"
    elif reached_max:
        bound = "max_rate"
    else:
        bound = "steps"
    return SearchResult(capacity, bound, list(s.steps), first_fail,
                        limit[0].reasons if limit else [])
