"""The run's overall verdict and exit code: 0 pass, 1 an SLO or invariant failed, 3 invalid.

Exit code 2 (bad input or environment) mostly never gets this far: it is a HarnessError
raised before there is anything to judge; a run that an error stopped before any load,
or that was interrupted, gets it too (report.assemble). An invalid run (the generator
could not keep its schedule) is 3 even when SLOs failed too: its numbers cannot be trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from harness.analysis.slo import SloResult

PASS, FAIL, INVALID = 0, 1, 3
#: the CLI's exit code for bad input or environment, and for an interrupt
STOPPED = 2


class InvariantLike(Protocol):
    """harness.analysis.invariants.Invariant, or its JSON read back from run.json."""

    @property
    def name(self) -> str: ...

    @property
    def ok(self) -> bool: ...


@dataclass(frozen=True)
class Verdict:
    exit_code: int
    status: str
    #: one line per failed SLO / invariant / validity problem
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def verdict(
    slos: Sequence[SloResult],
    invariants: Mapping[str, Iterable[InvariantLike]],
    invalid: Mapping[str, Sequence[str]],
) -> Verdict:
    """Combine SLO results, invariants per arch and validity problems per arch."""
    reasons = [f"{arch}: invalid run: {why}" for arch, whys in invalid.items() for why in whys]
    if reasons:
        return Verdict(INVALID, "invalid", reasons)
    for r in slos:
        if not r.passed:
            reasons.append(f"{r.arch}: SLO {r.name} failed: {r.detail}")
    for arch, checks in invariants.items():
        reasons += [f"{arch}: invariant {i.name} violated" for i in checks if not i.ok]
    return Verdict(FAIL, "failed", reasons) if reasons else Verdict(PASS, "passed", [])
