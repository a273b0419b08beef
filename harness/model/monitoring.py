"""The metrics and alarms sections: CloudWatch's publication of the era's metrics, and its alarms.

An `AlarmSpec` holds the AWS figures with their sources; `definitions()` turns it into
the `AlarmDef`s a run evaluates at its time scale (harness.metrics.alarms).
"""

from __future__ import annotations

from dataclasses import replace

from pydantic import Field, field_validator, model_validator

from harness.model.alarmdef import AlarmDef, Comparison, MissingData, valid_statistic
from harness.model.catalogue import MetricName, follows_monitoring, series_of
from harness.model.cited import ModelledSetting, Strict, Timing

#: CloudWatch has a datapoint every minute of every metric modelled here but the compute's
#: own (ELB Classic guide: every 60 s; ELB Application guide: 60-second periods; EC2 User
#: Guide: status checks every minute; Aurora User Guide: 1-minute metrics)
EVERY_MINUTE_S = 60.0
#: EC2 User Guide, Monitor your instances using CloudWatch: basic monitoring publishes
#: instance metrics every 5 minutes, detailed monitoring (extra cost) every minute
MONITORING_RESOLUTIONS_S = {300.0: "basic", 60.0: "detailed"}


class MetricsSettings(Strict):
    """How often the era's metrics reach CloudWatch, and how late alarms see them."""

    #: the period of the era's compute metrics (EC2 instance CPU: basic monitoring 300 s,
    #: detailed 60 s; ECS service CPU 60 s). The scaling policy and an alarm without their
    #: own period_s use it; no period may be finer than its metric is published at
    resolution_s: Timing
    #: from a period's end to its datapoint being visible to alarms
    publication_delay_s: Timing

    @field_validator("resolution_s")
    @classmethod
    def _resolution(cls, value: Timing) -> Timing:
        if value.value not in MONITORING_RESOLUTIONS_S:
            raise ValueError(f"{value.value:g}: CloudWatch publishes EC2 instance metrics every "
                             "300 s (basic monitoring) or every 60 s (detailed monitoring, "
                             "and ECS service metrics)")
        return value

    def published_s(self, metric: str) -> float:
        """How often CloudWatch has a datapoint of this metric (AWS seconds)."""
        return self.resolution_s.value if follows_monitoring(metric) else EVERY_MINUTE_S

    def too_fine(self, metric: str, period_s: float) -> str | None:
        """Why a period is finer than the metric is published at, or None if it is not."""
        published = self.published_s(metric)
        if period_s >= published:
            return None
        why = (f"metrics.resolution_s, {MONITORING_RESOLUTIONS_S[published]} monitoring"
               if follows_monitoring(metric) else "CloudWatch has one datapoint a minute")
        return (f"period_s {period_s:g} is finer than {metric} is published at "
                f"({published:g} s: {why}); a period holds at least one datapoint")


class AlarmSpec(Strict):
    """One CloudWatch alarm the era typically had (PutMetricAlarm's fields)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    #: a CloudWatch metric name (harness.model.catalogue: METRICS and ALIASES)
    metric: MetricName
    #: Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p99
    statistic: str
    period_s: Timing
    evaluation_periods: int = Field(ge=1, le=100)
    datapoints_to_alarm: int = Field(ge=1, le=100)
    #: in the metric's unit; a Sum or SampleCount threshold is per AWS period, and a run
    #: scales it with the period (the same rate of errors breaches at any time scale)
    threshold: float
    comparison: Comparison
    treat_missing_data: MissingData = "missing"
    #: one alarm per instance/task (InstanceId dimension), else one over the group
    per_member: bool = False
    #: metric math `metric - minus` (both with `statistic`), the threshold relative to
    #: it: RunningTaskCount minus DesiredTaskCount below 0 follows the desired count
    minus: MetricName | None = None
    #: why the era typically had this alarm, and where its settings come from
    source: str = Field(min_length=8)

    @field_validator("statistic")
    @classmethod
    def _statistic(cls, value: str) -> str:
        if not valid_statistic(value):
            raise ValueError(f"{value!r} is no CloudWatch statistic; use Sum, Average, Maximum, "
                             "Minimum, SampleCount or a percentile such as p99")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AlarmSpec:
        period = self.period_s.value
        if period not in (10, 30) and (period < 60 or period % 60):
            raise ValueError(f"period_s {period:g}: CloudWatch alarm periods are 10 s, 30 s or "
                             "a multiple of 60 s")
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(f"datapoints_to_alarm {self.datapoints_to_alarm} is more than "
                             f"evaluation_periods {self.evaluation_periods} (M of N needs M <= N)")
        if self.per_member and not series_of(self.metric).per_member:
            raise ValueError(f"per_member: {self.metric} has one series for the whole group")
        if self.minus is not None and self.per_member and not series_of(self.minus).per_member:
            raise ValueError(f"minus: {self.minus} has one series for the whole group; "
                             "a per-member alarm can only subtract a per-member metric")
        return self

    def scaled_threshold(self, time_scale: float) -> float:
        counted = self.statistic in ("Sum", "SampleCount") and (
            series_of(self.metric).kind != "gauge")
        return self.threshold * time_scale if counted else self.threshold

    def definitions(self, time_scale: float, delay: Timing, members: list[str]
                    ) -> list[AlarmDef]:
        """The alarm(s) a run evaluates: one, or one per member, at the run's time scale."""
        # CloudWatch evaluates every minute, or every 10 s for a 10 s or 30 s period
        every = 10.0 if self.period_s.value < 60 else 60.0
        base = AlarmDef(
            name=self.name, metric=series_of(self.metric).name, statistic=self.statistic,
            period_s=self.period_s.at(time_scale), evaluation_periods=self.evaluation_periods,
            datapoints_to_alarm=self.datapoints_to_alarm,
            threshold=self.scaled_threshold(time_scale), comparison=self.comparison,
            treat_missing_data=self.treat_missing_data, delay_s=delay.at(time_scale),
            every_s=every * time_scale,
            minus_metric=series_of(self.minus).name if self.minus is not None else None,
        )
        if not self.per_member:
            return [base]
        return [replace(base, name=f"{self.name}[{m}]", member=m) for m in members]

    def modelled(self, time_scale: float) -> list[ModelledSetting]:
        at = f"alarms.{self.name}"
        what = (f"{self.metric}" + (f" - {self.minus}" if self.minus else "")
                + f" {self.statistic} {self.comparison}, {self.datapoints_to_alarm} "
                f"of {self.evaluation_periods}, missing data {self.treat_missing_data}"
                + (", per instance/task" if self.per_member else ""))
        used = self.scaled_threshold(time_scale)
        return [
            ModelledSetting(at, what, what, False, self.source),
            ModelledSetting(f"{at}.period_s", self.period_s.value,
                            round(self.period_s.at(time_scale), 3), True, self.period_s.source),
            ModelledSetting(f"{at}.threshold", self.threshold, round(used, 6),
                            used != self.threshold,
                            "a count over a period scales with the period" if used != self.threshold
                            else self.source),
        ]
