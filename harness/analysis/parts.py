"""Failures of the harness's own parts in a run's events: after one, nothing is the architecture's.

LocalStack, its fault point, Toxiproxy and the RDS Proxy stand-in stand in for AWS or
are the harness's plumbing; the metrics collector and the generator's workers are the
harness itself. When one of them stops or hangs without a scenario fault asking for it
(harness.stacks.parts_watch's `harness.part_stopped` event), what the load measures
afterwards is the
harness failing: the run is invalid (exit 3), and the architecture's figures end where
the failure began, so its errors after that are never counted against it.

Pure: reads recorded events only, so a report rebuilt from a results folder cuts the
same seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from harness.analysis.recovery import FaultRecovery, event_time
from harness.analysis.series import ArchData
from harness.records.events import FaultEvent, StackEvent

#: requests sent up to this long before a part was last seen alive may still have been in
#: flight when it stopped (a killed Toxiproxy resets their connections): not the
#: architecture's either, so its figures end this much earlier
IN_FLIGHT_S = 1.0


@dataclass(frozen=True)
class PartFailure:
    """One harness part that stopped during an architecture's run."""

    arch: str
    component: str
    #: its name in the verdict: "LocalStack", "the metrics collector"
    part: str
    #: seconds from the start of the load when it was first seen stopped
    stopped_s: float
    #: the seconds [0, measured_until_s) of the load are the architecture's; none after
    measured_until_s: int
    #: what the part said as it went (the collector's exception), if anything
    error: str | None = None
    #: how it hung while still running ("process stopped", "no answer for 15 s"); None:
    #: it died. A hung part's stopped_s is when the hang began, not when it was judged one
    hang: str | None = None

    @property
    def reason(self) -> str:
        """"LocalStack stopped at 81 s", "LocalStack stopped answering (process stopped) at 3 s"."""
        at = math.floor(self.stopped_s)
        when = f"at {at} s" if at >= 0 else "before the load started"
        what = "stopped" if self.hang is None else f"stopped answering ({self.hang})"
        return f"{self.part} {what} {when}" + (f": {self.error}" if self.error else "")

    @property
    def invalid_reason(self) -> str:
        """The run's invalid reason: "not measurable after 80 s: LocalStack stopped at 81 s"."""
        return f"not measurable after {self.measured_until_s} s: {self.reason}"


def part_failures(events: Iterable[Mapping[str, Any]], arch: str | None = None
                  ) -> list[PartFailure]:
    """The harness parts that stopped on their own, earliest cut first.

    A stop after a fault aimed at that component began (`fault.applying` naming it in
    `targets`: a kill, a pause, an az_outage, a memory squeeze) is what the scenario asked for and
    the architecture's to handle: not a failure here.
    """
    events = [e for e in events if arch is None or e.get("arch", arch) == arch]
    aimed: dict[tuple[str | None, str], float] = {}
    for e in events:
        if e.get("kind") == FaultEvent.APPLYING:
            for target in e.get("targets") or ():
                key = (e.get("arch"), str(target))
                aimed[key] = min(aimed.get(key, math.inf), event_time(e))
    failures = []
    for e in events:
        if e.get("kind") != StackEvent.PART_STOPPED:
            continue
        component = str(e.get("component", ""))
        stopped = event_time(e)
        # alive_s and since_s are on the EventLog's clock (t_s); shift them as event_time
        # shifted t_s
        shift = stopped - float(e["t_s"])
        alive = float(e.get("alive_s", e["t_s"])) + shift
        if e.get("since_s") is not None:
            stopped = min(stopped, float(e["since_s"]) + shift)  # a hang began before it was judged
        if aimed.get((e.get("arch"), component), math.inf) <= stopped:
            continue
        failures.append(PartFailure(
            arch=str(e.get("arch", arch or "")), component=component,
            part=str(e.get("part") or component), stopped_s=stopped,
            measured_until_s=max(0, math.floor(min(alive, stopped) - IN_FLIGHT_S)),
            error=str(e["error"]) if e.get("error") else None,
            hang=str(e["hang"]) if e.get("hang") else None,
        ))
    return sorted(failures, key=lambda f: (f.measured_until_s, f.stopped_s))


def measurable(data: Mapping[str, ArchData], events: Iterable[Mapping[str, Any]]
               ) -> dict[str, ArchData]:
    """Each architecture's data up to its first part failure (unchanged without one)."""
    events = list(events)
    out: dict[str, ArchData] = {}
    for arch, d in data.items():
        failures = part_failures(events, arch)
        out[arch] = d.before(failures[0].measured_until_s) if failures else d
    return out


def unmeasured_after(recoveries: list[FaultRecovery], failure: PartFailure | None
                     ) -> list[FaultRecovery]:
    """Recoveries the cut data cannot judge say why, instead of "did not recover".

    A fault still not back when the data ends at the failure, or starting after it, is
    not measurable: the architecture's data stops there, not its recovery.
    """
    if failure is None:
        return recoveries
    out = []
    for r in recoveries:
        beyond = r.start_s >= failure.measured_until_s
        if r.status == "not_recovered" or (beyond and r.status != "recovered"):
            r = replace(r, status="not_measurable", reason=failure.invalid_reason,
                        recovery_s=None, recovery_aws_s=None)
        out.append(r)
    return out
