"""The compressed clock as the reports show it: the orderings a run's time scale inverted.

Read from run.json's `clock_orderings` (harness.analysis.orderings); summary.md and
report.html render the same rows. At time scale 1 there is nothing to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.report.record import RunRecord
from harness.report.text import INVERTED_MARK, inverted_consequence, ordering_text

#: the sentence under the recovery table when a figure in it is marked
MARK_NOTE = (f"{INVERTED_MARK}: an ordering of timings this figure hangs on is inverted at this "
             "run's time scale (see \"The compressed clock\")")


@dataclass(frozen=True)
class ClockView:
    time_scale: float
    #: pairs judged (preserved or inverted) over every architecture
    judged: int
    #: fault (or "auto scaling"), arch, at AWS, in this run (with the consequence), decides
    inverted: list[tuple[str, str, str, str, str]]
    #: one line per pair (or architecture) that was not judged, with why
    unjudged: list[str]

    @property
    def lead(self) -> str:
        return ("AWS's timings are scaled, the request path (client timeouts, the SDK's "
                "back-off, the apps' latency) is not: "
                f"{len(self.inverted)} of {self.judged} pairs of timings judged are not in AWS's "
                "order in this run" + (", so the figures they decide (marked "
                                       f"{INVERTED_MARK}) are not what AWS would show."
                                       if self.inverted else "."))


def clock_view(record: RunRecord) -> ClockView | None:
    """What to show of the compressed clock; None at time scale 1 or with nothing judged."""
    scale = record.time_scale
    if scale == 1.0:
        return None
    archs = record.architectures
    inverted = []
    for a in archs:
        for o in a.inverted():
            aws, run = ordering_text(o)
            inverted.append((o.fault or "auto scaling", a.arch, aws,
                             f"{run} → {inverted_consequence(o)}", o.decides))
    unjudged = [f"{o.fault or 'auto scaling'} ({a.arch}): {o.pair[0]} vs {o.pair[1]}: "
                + (o.reason or "not judged") for a in archs for o in a.clock_orderings
                if o.preserved is None]
    unjudged += [f"{a.arch}: not judged: {a.clock_unjudged}" for a in archs if a.clock_unjudged]
    judged = sum(o.preserved is not None for a in archs for o in a.clock_orderings)
    if not (judged or unjudged):
        return None
    return ClockView(scale, judged, inverted, unjudged)
