"""The pure parts of a deploy: CodeDeploy's traffic shifting steps, HAProxy weights, rollback.

CodeDeploy's predefined ECS configurations (CodeDeploy User Guide, "Working with
deployment configurations", ECS compute platform):

- `AllAtOnce` (CodeDeployDefault.ECSAllAtOnce): all traffic at once;
- `Canary10Percent5Minutes`: 10 % first, the remaining 90 % one interval later;
- `Linear10PercentEvery1Minute` (CodeDeployDefault.ECSLinear10PercentEvery1Minutes):
  10 % more every interval until all traffic is shifted (100 % after 9 intervals).

The intervals are profile settings (`deploy.canary_interval_s`, `linear_interval_s`),
scaled by the run's time scale before they reach here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from math import gcd
from typing import Any

from harness.model.deploy import ShiftConfig
from harness.records.events import StackEvent

#: HAProxy's largest server weight
_MAX_WEIGHT = 256


@dataclass(frozen=True)
class Step:
    """Shift so that `percent` % of traffic goes to green, `at_s` after shifting began."""

    at_s: float
    percent: int


def shift_steps(config: ShiftConfig, *, canary_interval_s: float, linear_interval_s: float
                ) -> list[Step]:
    """The traffic steps of a CodeDeploy configuration; the first is at 0 s, the last 100 %."""
    if config == "AllAtOnce":
        return [Step(0.0, 100)]
    if config == "Canary10Percent5Minutes":
        return [Step(0.0, 10), Step(canary_interval_s, 100)]
    return [Step(i * linear_interval_s, 10 * (i + 1)) for i in range(10)]


def weights(percent: int, blue: int, green: int) -> tuple[int, int]:
    """Per-server HAProxy weights of blue and green so green gets `percent` % of requests.

    With round robin a set's share is its servers' weight sum over the total: each blue
    server weighs (100 - percent) * green and each green one percent * blue, so the sums
    are in the ratio (100 - percent) : percent whatever the set sizes; reduced by their
    greatest common divisor to stay within HAProxy's 0..256.
    """
    if not 0 <= percent <= 100:
        raise ValueError(f"percent {percent} is not within 0..100")
    if blue < 1 or green < 1:
        raise ValueError("both task sets need at least one task")
    b, g = (100 - percent) * green, percent * blue
    div = gcd(b, g)
    b, g = b // div, g // div
    while max(b, g) > _MAX_WEIGHT:  # only for odd set sizes: coarser, never zeroed
        b, g = (b + 1) // 2 if b else 0, (g + 1) // 2 if g else 0
    return b, g


class AlarmWatch:
    """Is the deploy's rollback alarm in ALARM? Fed with `alarm.state_change` events.

    CodeDeploy stops a deployment and rolls it back when one of its alarms is in
    ALARM while the deployment is in progress, the termination wait included (CodeDeploy
    User Guide, "Monitoring deployments with CloudWatch alarms in CodeDeploy"); an alarm
    already in ALARM when the deployment starts stops it at once. A per-instance alarm
    (`name[app-1]`) counts for its base name.
    """

    def __init__(self, alarm: str) -> None:
        self.alarm = alarm
        self.state: str | None = None
        #: run time of the change to ALARM that tripped the watch
        self.tripped_at_s: float | None = None
        self._seen = 0

    def _mine(self, name: str) -> bool:
        return name == self.alarm or name.startswith(self.alarm + "[")

    def feed(self, events: Iterable[Mapping[str, Any]]) -> bool:
        """Read the state changes so far (in order); True once the alarm is in ALARM."""
        for e in list(events)[self._seen:]:
            self._seen += 1
            if (e.get("kind") != StackEvent.ALARM_STATE_CHANGE
                    or not self._mine(str(e.get("alarm", "")))):
                continue
            self.state = str(e.get("new"))
            if self.state == "ALARM" and self.tripped_at_s is None:
                self.tripped_at_s = float(e.get("at_s", e.get("t_s", 0.0)))
        return self.tripped_at_s is not None
