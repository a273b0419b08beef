"""Every kind of event in `events.jsonl`, by the source that writes it.

Producers emit these members (`harness.runtime.events.EventLog.emit` takes nothing
else) and consumers compare with them, so a kind is spelt once. The values are the
strings on disk, unchanged: a results folder written before this module still reads.
A member is a `str`, so `e["kind"] == FaultEvent.APPLIED` holds for an event read back
from a file, and a dict keyed by members is looked up with the plain string.
"""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    """The prefix every kind of one source starts with: `kind.startswith(Source.FAULT)`."""

    ORCHESTRATOR = "orchestrator."
    FAULT = "fault."
    DEPLOY = "deploy."


class OrchestratorEvent(StrEnum):
    """What the emulated ASG, ECS, Auto Scaling, RDS and Aurora did (harness.stacks.orchestrators).

    Each event also carries `orchestrator` (its name) and mostly `component`.
    """

    # every orchestrator (base.py)
    ACTION_FAILED = "orchestrator.action_failed"
    WATCH_FAILED = "orchestrator.watch_failed"
    # ASG behind a CLB (asg.py)
    INSTANCE_OUT_OF_SERVICE = "orchestrator.instance_out_of_service"
    INSTANCE_IN_SERVICE = "orchestrator.instance_in_service"
    INSTANCE_TERMINATING = "orchestrator.instance_terminating"
    INSTANCE_DEREGISTERED = "orchestrator.instance_deregistered"
    INSTANCE_LAUNCHING = "orchestrator.instance_launching"
    INSTANCE_LAUNCHED = "orchestrator.instance_launched"
    # ECS behind an ALB (ecs.py)
    TASK_EXITED = "orchestrator.task_exited"
    TASK_STOPPED = "orchestrator.task_stopped"
    TASK_UNHEALTHY = "orchestrator.task_unhealthy"
    TASK_REGISTERED = "orchestrator.task_registered"
    TASK_IN_SERVICE = "orchestrator.task_in_service"
    TARGET_DRAINING = "orchestrator.target_draining"
    TARGET_DEREGISTERED = "orchestrator.target_deregistered"
    # Auto Scaling of the app fleet (scaling.py)
    SCALING_SCHEDULED_ACTION = "orchestrator.scaling.scheduled_action"
    SCALING_DESIRED_CHANGED = "orchestrator.scaling.desired_changed"
    SCALING_LAUNCHING = "orchestrator.scaling.launching"
    SCALING_REGISTERED = "orchestrator.scaling.registered"
    SCALING_IN_SERVICE = "orchestrator.scaling.in_service"
    SCALING_TERMINATING = "orchestrator.scaling.terminating"
    SCALING_TERMINATED = "orchestrator.scaling.terminated"
    # RDS and Aurora (base.py, rds.py, aurora.py)
    WRITER_DOWN = "orchestrator.writer_down"
    WRITER_RESTARTED = "orchestrator.writer_restarted"
    WRITER_ENDPOINT_MOVED = "orchestrator.writer_endpoint_moved"
    SWITCHOVER_STARTED = "orchestrator.switchover_started"
    SWITCHOVER_CALLED_OFF = "orchestrator.switchover_called_off"
    REBOOT_STARTED = "orchestrator.reboot_started"
    REBOOT_DONE = "orchestrator.reboot_done"
    # RDS Multi-AZ (rds.py)
    STANDBY_DOWN = "orchestrator.standby_down"
    STANDBY_UNAVAILABLE = "orchestrator.standby_unavailable"
    STANDBY_PROMOTED = "orchestrator.standby_promoted"
    STANDBY_REPLICATING = "orchestrator.standby_replicating"
    STANDBY_REJOIN_FAILED = "orchestrator.standby_rejoin_failed"
    STANDBY_REJOINED = "orchestrator.standby_rejoined"
    # Aurora (aurora.py)
    READER_DOWN = "orchestrator.reader_down"
    READER_RESTARTING = "orchestrator.reader_restarting"
    READER_PROMOTED = "orchestrator.reader_promoted"
    READER_ENDPOINT_TO_WRITER = "orchestrator.reader_endpoint_to_writer"
    READER_REJOIN_FAILED = "orchestrator.reader_rejoin_failed"
    READER_REJOINED = "orchestrator.reader_rejoined"


class FaultEvent(StrEnum):
    """The fault timeline's steps (harness.faults.executor); each names its `fault`."""

    APPLYING = "fault.applying"
    APPLIED = "fault.applied"
    APPLY_FAILED = "fault.apply_failed"
    REVERTED = "fault.reverted"
    REVERT_FAILED = "fault.revert_failed"
    #: once, after the run: how many applied, their lags
    SUMMARY = "fault.summary"
    #: at a stack's start: the faults a killed harness left on it, reverted
    LEFTOVERS_REVERTED = "fault.leftovers_reverted"


class DeployEvent(StrEnum):
    """A deploy's steps (harness.deploys); each names its `deploy` and `strategy`."""

    START = "deploy.start"
    # rolling, OpsWorks (rolling.py)
    INSTANCE_PREPARING = "deploy.instance_preparing"
    INSTANCE_RELOADING = "deploy.instance_reloading"
    INSTANCE_UPDATED = "deploy.instance_updated"
    # blue/green, CodeDeploy for ECS (bluegreen.py)
    GREEN_STARTED = "deploy.green_started"
    GREEN_HEALTHY = "deploy.green_healthy"
    SHIFT = "deploy.shift"
    ROLLBACK = "deploy.rollback"
    BLUE_TERMINATED = "deploy.blue_terminated"
    # both
    TRAFFIC_SHIFTED = "deploy.traffic_shifted"
    DONE = "deploy.done"
    FAILED = "deploy.failed"
    UNFINISHED = "deploy.unfinished"


class StackEvent(StrEnum):
    """What the running stack reports besides its orchestrators' actions."""

    #: an alarm changed state (harness.stacks.collector); `at_s` is its evaluation time
    ALARM_STATE_CHANGE = "alarm.state_change"
    #: a metric source of the collector failed (once per source)
    METRICS_SOURCE_FAILED = "metrics.source_failed"
    #: the scaled fleet's desired / launching / in-service counts, every collector tick
    SCALING_CAPACITY = "scaling.capacity"
    #: the database's connection counts, once a second (harness.stacks.connections)
    DB_CONNECTIONS = "db.connections"
    #: the load balancer finished draining a target (the lb drain fault)
    LB_TARGET_DEREGISTERED = "lb.target_deregistered"
    #: a part of the harness itself stopped with no scenario fault asking for it
    #: (harness.stacks.parts_watch): `component`, `component_kind`, `part` (its name in
    #: the verdict), `alive_s` (last seen alive), for a hang `hang` (what was seen: "process
    #: stopped", "no answer for 15 s") and `since_s` (when it began), and `error` when the
    #: part is the collector itself; nothing after it is the architecture's
    #: (harness.analysis.parts)
    PART_STOPPED = "harness.part_stopped"


#: any kind an EventLog takes
EventKind = OrchestratorEvent | FaultEvent | DeployEvent | StackEvent

#: every group of kinds, and the source prefix its values share (None: several prefixes)
GROUPS: tuple[tuple[type[StrEnum], Source | None], ...] = (
    (OrchestratorEvent, Source.ORCHESTRATOR),
    (FaultEvent, Source.FAULT),
    (DeployEvent, Source.DEPLOY),
    (StackEvent, None),
)

#: the value of every kind
KINDS: frozenset[str] = frozenset(str(kind) for group, _ in GROUPS for kind in group)
