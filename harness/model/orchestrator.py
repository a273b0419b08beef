"""The orchestrator section: an EC2 Auto Scaling group or an ECS service replacing members."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from harness.model.cited import Cited, Strict, Timing


class AsgSettings(Strict):
    """EC2 Auto Scaling group: replaces instances that fail their health check."""

    kind: Literal["asg"]
    #: EC2 (the AWS default): replace only instances whose status check fails (gone);
    #: ELB: also replace instances the load balancer marks unhealthy
    health_check_type: Cited[Literal["EC2", "ELB"]]
    #: from an instance failing to its EC2 status check failing (both types use it)
    status_check_notice_s: Timing
    health_check_grace_s: Timing
    #: from the launch request to the instance serving (boot, bootstrap, app start)
    launch_s: Timing


class EcsHealthCheck(Strict):
    """The container health check in the task definition: its command GETs the app's
    `app.liveness_path` (not the ALB's target health check, which is the load balancer's)."""

    interval_s: Timing
    timeout_s: Timing
    retries: Cited[Annotated[int, Field(ge=1)]]


class EcsSettings(Strict):
    """ECS service scheduler: replaces stopped and unhealthy tasks."""

    kind: Literal["ecs"]
    #: from a task's process dying to ECS marking it stopped and deregistering it
    task_stopped_notice_s: Timing
    #: the container health check in the task definition (of `app.liveness_path`)
    container_health_check: EcsHealthCheck
    #: the service ignores the LB's verdict on a new task for this long
    health_check_grace_s: Timing
    #: from the replacement request to the new task running
    task_replacement_s: Timing


Orchestrator = Annotated[AsgSettings | EcsSettings, Field(discriminator="kind")]
