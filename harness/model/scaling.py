"""Auto scaling's settings: the profile's `scaling:` section, and a scheduled action.

As AWS creates it (EC2 Auto Scaling guide, "Target tracking scaling policies";
Application Auto Scaling guide, "How target tracking scaling works"): the policy owns
two CloudWatch alarms on the tracked metric, a high one that scales out when
`scale_out_datapoints` consecutive one-minute datapoints are above the target and a
low one that scales in when `scale_in_datapoints` are below
`target * scale_in_threshold_ratio`. How long a new member takes to serve is not here:
launching is the orchestrator's (`launch_s`, `task_replacement_s`), registration the
load balancer's health check, the same figures a replacement uses. A scheduled action
(a scenario's `scaling:`) changes the bounds or the desired count at a set time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, model_validator

from harness.model.cited import Cited, Strict, Timing

#: the metrics a policy can track: the group's average CPU (ASGAverageCPUUtilization,
#: ECSServiceAverageCPUUtilization) or the LB's requests per target (ALBRequestCountPerTarget)
TrackedMetric = Literal["CPUUtilization", "RequestCountPerTarget"]

#: the most members a stack can grow to (HAProxy slots, ports and processes on one machine)
MAX_MEMBERS = 12


class TargetTracking(Strict):
    """One target tracking policy and the alarms AWS creates for it."""

    metric: Cited[TrackedMetric]
    #: percent for CPUUtilization; requests per target per (AWS) minute for RequestCountPerTarget
    target_value: Cited[Annotated[float, Field(gt=0)]]
    #: the tracked metric's period (1-minute metrics)
    period_s: Timing
    #: the high alarm: this many of as many datapoints above the target
    scale_out_datapoints: Cited[Annotated[int, Field(ge=1, le=60)]]
    #: the low alarm: this many of as many datapoints below target * scale_in_threshold_ratio
    scale_in_datapoints: Cited[Annotated[int, Field(ge=1, le=60)]]
    scale_in_threshold_ratio: Cited[Annotated[float, Field(gt=0, le=1)]]
    #: after a scale-out, a further one counts the capacity already added (measured members only)
    scale_out_cooldown_s: Timing
    #: after a scale-in, no further scale-in for this long (a scale-out is never blocked)
    scale_in_cooldown_s: Timing
    #: a new member's metrics join the group's aggregate only after this long (EC2
    #: instance warm-up); while any member warms up, the policy does not scale in
    instance_warmup_s: Timing
    disable_scale_in: Cited[bool]


class ScalingSettings(Strict):
    """Capacity bounds (the initial desired count is `app.instances`) and the policy."""

    min_capacity: Cited[Annotated[int, Field(ge=0, le=MAX_MEMBERS)]]
    max_capacity: Cited[Annotated[int, Field(ge=1, le=MAX_MEMBERS)]]
    #: None: no dynamic scaling (scheduled actions of a scenario still apply)
    target_tracking: TargetTracking | None = None

    @model_validator(mode="after")
    def _bounds(self) -> ScalingSettings:
        if self.min_capacity.value > self.max_capacity.value:
            raise ValueError(f"min_capacity {self.min_capacity.value} is more than "
                             f"max_capacity {self.max_capacity.value}")
        return self


@dataclass(frozen=True)
class ScheduledAction:
    """A scheduled action (PutScheduledUpdateGroupAction / PutScheduledAction) at `at_s`."""

    at_s: float
    min_capacity: int | None = None
    max_capacity: int | None = None
    desired: int | None = None


def apply_scheduled(action: ScheduledAction, *, min_capacity: int, max_capacity: int,
                    desired: int) -> tuple[int, int, int]:
    """New (min, max, desired): a desired count outside the new bounds moves inside them.

    As AWS does: raising the minimum above the desired count raises the desired count
    (EC2 Auto Scaling guide, "Scheduled scaling"; Application Auto Scaling guide,
    "Scheduled scaling": the scalable target scales to the new minimum).
    """
    lo = action.min_capacity if action.min_capacity is not None else min_capacity
    hi = action.max_capacity if action.max_capacity is not None else max_capacity
    lo = min(lo, hi)
    wanted = action.desired if action.desired is not None else desired
    return lo, hi, max(lo, min(hi, wanted))
