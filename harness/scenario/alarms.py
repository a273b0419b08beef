"""A scenario's `alarms:` block: change, switch off or add CloudWatch alarms per architecture.

    alarms:
      - {name: alb-target-5xx, evaluation_periods: 2, datapoints_to_alarm: 2}  # change
      - {name: clb-latency, enabled: false}                                   # switch off
      - name: ecs-cpu-high                                                    # add
        architectures: [modern]
        metric: CPUUtilization
        statistic: Average
        period: 60s            # AWS seconds, scaled by time_scale; default metrics.resolution_s
        evaluation_periods: 3
        threshold: 80
        comparison: GreaterThanThreshold

`minus: <metric>` makes an alarm metric math (`metric - minus`, both with its statistic),
as the modern profile's running-task alarm follows the desired count.

An entry names a profile alarm to change (only the keys given change) or a new alarm
(then metric, statistic, evaluation_periods, threshold and comparison are needed; the
period defaults to the era's `metrics.resolution_s`, and none may be finer than its metric
is published at). Without `architectures` it applies to every architecture the scenario runs;
a change to an alarm an architecture does not have is an error for that architecture.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import ScenarioError
from harness.model.alarmdef import Comparison, MissingData
from harness.model.catalogue import MetricName
from harness.model.monitoring import AlarmSpec
from harness.model.profile import Profile
from harness.scenario.workload import Duration, format_validation_error

_NEW_NEEDS = ("metric", "statistic", "evaluation_periods", "threshold", "comparison")


class AlarmOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    architectures: list[str] | None = None
    enabled: bool = True
    metric: MetricName | None = None
    statistic: str | None = None
    period: Duration | None = Field(None, description="AWS seconds; scaled by time_scale")
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    threshold: float | None = None
    comparison: Comparison | None = None
    treat_missing_data: MissingData | None = None
    per_member: bool | None = None
    minus: MetricName | None = None

    def applies_to(self, arch: str) -> bool:
        return self.architectures is None or arch in self.architectures


def parse_alarms(raw: list[Any], source: str) -> list[AlarmOverride]:
    """The scenario's `alarms:` entries, validated; ScenarioError (file: alarms[i].key: ...)."""
    try:
        return [AlarmOverride.model_validate(entry) for entry in raw]
    except ValidationError as exc:
        # re-validate one by one to name the entry
        for i, entry in enumerate(raw):
            try:
                AlarmOverride.model_validate(entry)
            except ValidationError as one:
                raise ScenarioError(
                    format_validation_error(source, one, prefix=f"alarms[{i}]")) from None
        raise ScenarioError(format_validation_error(source, exc, prefix="alarms")) from None


def apply(profile: Profile, overrides: list[AlarmOverride], arch: str, source: str
          ) -> list[AlarmSpec]:
    """The profile's alarms with the scenario's changes for this architecture."""
    alarms = {a.name: a for a in profile.alarms}
    for i, o in enumerate(overrides):
        if not o.applies_to(arch):
            continue
        where = f"{source}: alarms[{i}]"
        if not o.enabled:
            if o.name not in alarms:
                raise ScenarioError(f"{where}.name: {arch} has no alarm {o.name!r} to switch "
                                    f"off; its alarms: {', '.join(alarms) or 'none'}")
            del alarms[o.name]
            continue
        given = o.model_dump(exclude_none=True, exclude={"name", "architectures", "enabled"})
        period = given.pop("period", None)
        if period is not None:
            given["period_s"] = {"value": period, "source": f"scenario {where}"}
        base = alarms.get(o.name)
        if base is None:
            missing = [k for k in _NEW_NEEDS if getattr(o, k) is None]
            if missing:
                raise ScenarioError(
                    f"{where}: {arch} has no alarm {o.name!r}; a new alarm needs "
                    f"{', '.join(missing)} (its alarms: {', '.join(alarms) or 'none'})")
            # PutMetricAlarm: DatapointsToAlarm defaults to EvaluationPeriods (N of N)
            fields = {"name": o.name, "datapoints_to_alarm": o.evaluation_periods, **given,
                      "source": f"scenario {where}: added"}
            if "period_s" not in fields and profile.metrics is not None:
                era = profile.metrics.resolution_s
                fields["period_s"] = {"value": era.value,
                                      "source": f"metrics.resolution_s: {era.source}"}
        else:
            changed = ", ".join(sorted(k.removesuffix("_s") for k in given))
            fields = {**base.model_dump(), **given,
                      "source": f"scenario {where} changed {changed}; profile: {base.source}"}
        try:
            alarm = AlarmSpec.model_validate(fields)
        except ValidationError as exc:
            raise ScenarioError(format_validation_error(source, exc, prefix=f"alarms[{i}]")
                                ) from None
        problem = (profile.metrics.too_fine(alarm.metric, alarm.period_s.value)
                   if profile.metrics is not None else None)
        if problem is not None:
            raise ScenarioError(f"{where}.period: {arch}: {problem}")
        alarms[o.name] = alarm
    return list(alarms.values())
