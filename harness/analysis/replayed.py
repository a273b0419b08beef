"""The original night beside the rehearsal: the log's rate against offered and answered, and
the log's status mix against each architecture's.

Both sides in requests: the log counts requests, the rehearsal offers journeys (the
series is the log's requests per second / the replay's requests per journey), so the
offered journeys are shown x requests per journey, and "answered" is what the run
recorded: requests that got an HTTP status, in the second they were due.

The mixes are not of one system: the log's 4xx and 5xx are last year's system's answers,
the rehearsal's this stack's. The rehearsal records classes, not codes: its `ok` holds
2xx, 3xx and the shop's expected 409 (out of stock, sold out), which a log counts as 4xx;
a timeout or a refused or reset connection has no status at all and is a row of its own,
never a 5xx.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from harness.analysis.series import ArchData
from harness.records.classify import DROPPED, FAILURE_CLASSES
from harness.scenario.replayed import ReplayedNight

#: classes with an HTTP status: what "answered" counts
ANSWERED: tuple[str, ...] = ("ok", "http_4xx", "http_5xx")
#: every class of a rehearsal's attempts, ok first
REHEARSAL_CLASSES: tuple[str, ...] = ("ok", *FAILURE_CLASSES)


@dataclass(frozen=True)
class MixRow:
    """One row of the status mix table: the log's classes beside the rehearsal's."""

    label: str
    log: tuple[str, ...]
    rehearsal: tuple[str, ...]
    #: shown even when every side counted none
    always: bool = False


MIX_ROWS: tuple[MixRow, ...] = (
    MixRow("2xx, 3xx: success, redirect", ("2xx", "3xx"), ("ok",), always=True),
    MixRow("4xx: client error", ("4xx",), ("http_4xx",), always=True),
    MixRow("5xx: server error", ("5xx",), ("http_5xx",), always=True),
    MixRow("no status: timeout", (), ("timeout",)),
    MixRow("no status: connection refused", (), ("connection_refused",)),
    MixRow("no status: connection reset", (), ("connection_reset",)),
    MixRow("no status logged ('-') or 1xx", ("other",), ()),
    MixRow("failed, no known class", (), ("other",)),
    MixRow("not sent: dropped at the concurrency cap", (), (DROPPED,)),
)


@dataclass(frozen=True)
class ReplayFigures:
    """One architecture's run of the replayed phase, set beside the original night."""

    #: whole seconds [start_s, end_s) from the start of the load: the series phase, cut at
    #: a harness failure
    start_s: int
    end_s: int
    #: why end_s is before the phase's end (a harness failure); None: the whole phase
    cut: str | None
    #: the log's requests x scale in those seconds
    log_requests: float
    #: journeys the schedule offered, and x requests per journey
    offered: int
    offered_requests: float
    #: requests finished, any class (the rehearsal's requests sent)
    sent: int
    #: requests that got an HTTP status (ok, http_4xx, http_5xx)
    answered: int
    #: attempts by class: REHEARSAL_CLASSES (dropped: arrivals never sent)
    classes: dict[str, int]
    #: each class's share of the attempts (sent + dropped); all 0: no attempt
    shares: dict[str, float]
    #: answered / log_requests; None: the log had no request in those seconds
    answered_ratio: float | None
    #: offered_requests / log_requests; None: likewise
    offered_ratio: float | None


def log_rate(night: ReplayedNight, second: int) -> float | None:
    """The log's requests x scale in run second `second` (None: outside the series)."""
    index = math.floor((second - night.start_s) / night.bucket_s + 1e-9)
    if second < night.start_s - 1e-9 or index >= len(night.requests_per_s):
        return None
    return night.requests_per_s[index]


def figures(night: ReplayedNight, data: ArchData, measured_until_s: int | None = None
            ) -> ReplayFigures:
    """The architecture's offered, answered and status mix over the replayed phase."""
    start = math.ceil(night.start_s - 1e-9)
    end = math.ceil(night.end_s - 1e-9)
    cut = None
    if measured_until_s is not None and measured_until_s < end:
        cut = (f"measured until {measured_until_s} s of the load, {end - start} s of the series "
               f"phase were due: a harness part stopped")
        end = max(start, measured_until_s)
    st = data.stats(start, end)
    classes = {c: st.classes.get(c, 0) for c in REHEARSAL_CLASSES}
    attempts = sum(classes.values())
    log = sum(r for s in range(start, end) if (r := log_rate(night, s)) is not None)
    per = night.source.requests_per_journey
    answered = sum(classes[c] for c in ANSWERED)
    return ReplayFigures(
        start_s=start, end_s=end, cut=cut, log_requests=round(log, 4), offered=st.offered,
        offered_requests=round(st.offered * per, 4), sent=st.requests, answered=answered,
        classes=classes,
        shares={c: (n / attempts if attempts else 0.0) for c, n in classes.items()},
        answered_ratio=answered / log if log > 0 else None,
        offered_ratio=st.offered * per / log if log > 0 else None,
    )


def row_count(counts: Mapping[str, float], classes: tuple[str, ...]) -> float:
    """A row's count on one side: the sum of its classes."""
    return sum(counts.get(c, 0) for c in classes)
