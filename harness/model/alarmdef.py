"""An alarm as a run evaluates it: CloudWatch's fields with every time at the run's scale.

The profile (harness.model.monitoring.AlarmSpec) holds the AWS figures with their sources;
`AlarmSpec.definitions()` turns them into these. The evaluation is harness.metrics.alarms.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

State = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
Comparison = Literal[
    "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]
MissingData = Literal["missing", "notBreaching", "breaching", "ignore"]

#: the statistics CloudWatch computes over a period (harness.metrics.periods)
STATISTICS = ("Sum", "Average", "Maximum", "Minimum", "SampleCount")
#: extended statistics: p50, p90, p99, p99.9 ...
PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?)$")


def valid_statistic(name: str) -> bool:
    return name in STATISTICS or PERCENTILE.match(name) is not None


COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt, "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt, "LessThanOrEqualToThreshold": operator.le,
}
SYMBOL = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=",
          "LessThanThreshold": "<", "LessThanOrEqualToThreshold": "<="}


@dataclass(frozen=True)
class AlarmDef:
    """One alarm as a run evaluates it: every time already at the run's time scale."""

    name: str
    #: the recorded series (harness.model.catalogue), CloudWatch aliases resolved
    metric: str
    statistic: str
    period_s: float
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: Comparison
    treat_missing_data: MissingData
    #: one instance's/task's series; None = the metric over the whole group
    member: str | None = None
    #: a datapoint is visible to the alarm this long after its period ends
    delay_s: float = 0.0
    #: how often the alarm is evaluated (0: once a period)
    every_s: float = 0.0
    #: metric math `m1 - m2`: this series (same statistic) is subtracted per period, so
    #: the threshold is relative to it (RunningTaskCount - DesiredTaskCount < 0)
    minus_metric: str | None = None

    @property
    def interval_s(self) -> float:
        return self.every_s if self.every_s > 0 else self.period_s

    @property
    def lag_s(self) -> float:
        """The longest a breach can take to show: N periods, the delay and one evaluation."""
        return self.period_s * self.evaluation_periods + self.delay_s + self.interval_s

    def breaches(self, value: float) -> bool:
        return COMPARE[self.comparison](value, self.threshold)

    def describe(self) -> str:
        """`CPUUtilization Average > 80 for 2 of 3 periods of 6 s`."""
        what = f"{self.metric}" + (f" - {self.minus_metric}" if self.minus_metric else "")
        return (f"{what} {self.statistic} {SYMBOL[self.comparison]} {self.threshold:g} "
                f"for {self.datapoints_to_alarm} of {self.evaluation_periods} periods of "
                f"{self.period_s:g} s")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlarmDef:
        return cls(**data)
