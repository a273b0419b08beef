"""A replacement's own start in a recovery: counted once, not divided by the time scale.

`FaultRecovery.recovery_aws_s` is `recovery_s / time_scale`: the run is AWS on a faster
clock. That holds for the control plane's timings (health checks, launches), which the
run scales, but not for the process's own start: an instance or task is registered
once its process answers (harness.stacks.orchestrators.base.await_boot), and that start
takes as long in the run as at AWS. Divided by 0.05, a 4 s start would add 76 s that AWS
never spends. So the estimate counts the longest start among the replacements
registered inside the recovery once, as the run measured it (`boot_s` on the
registration events), and scales the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from harness.analysis.recovery import FaultRecovery, event_time
from harness.records.events import OrchestratorEvent

#: registrations of a member that replaces one that failed, with the start they waited for
REPLACEMENTS = (OrchestratorEvent.TASK_REGISTERED, OrchestratorEvent.INSTANCE_LAUNCHED)


def _longest_boot(events: Iterable[Mapping[str, Any]], arch: str, start: float, end: float
                  ) -> tuple[float, str] | None:
    found: tuple[float, str] | None = None
    for e in events:
        if e.get("arch", arch) != arch or e.get("kind") not in REPLACEMENTS:
            continue
        boot = e.get("boot_s")
        if boot is None or not start <= event_time(e) <= end:
            continue
        if found is None or float(boot) > found[0]:
            found = (float(boot), str(e.get("component", "a replacement")))
    return found


def count_boots_once(recoveries: Sequence[FaultRecovery],
                     events: Iterable[Mapping[str, Any]], arch: str) -> list[FaultRecovery]:
    """The recoveries, with each AWS estimate counting the replacement's own start unscaled."""
    events = list(events)
    out = []
    for r in recoveries:
        if r.recovery_s is None or r.recovery_aws_s is None or r.time_scale == 1.0:
            out.append(r)
            continue
        longest = _longest_boot(events, arch, r.start_s, r.start_s + r.recovery_s)
        if longest is None:
            out.append(r)
            continue
        boot, member = longest
        # the start cannot be longer than the recovery it is part of
        boot = min(boot, r.recovery_s)
        note = (f"the AWS estimate counts {member}'s own start ({boot:.1f} s) once, "
                "unscaled")
        out.append(replace(
            r, recovery_aws_s=(r.recovery_s - boot) / r.time_scale + boot,
            reason=note if r.reason is None else f"{r.reason}; {note}",
        ))
    return out
