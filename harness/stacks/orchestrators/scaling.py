"""Auto scaling acting on a stack: desired count changes become launches and terminations.

The decisions are pure logic (harness.scaling.policy: target tracking over the run's
CloudWatch-like metric periods, scheduled actions); this orchestrator applies them as
EC2 Auto Scaling and ECS do, with the profile's timings (scaled):

- a new member takes the orchestrator's launch time (`launch_s` for an instance,
  `task_replacement_s` for a task), then starts in a spare slot on a fresh port, is
  registered with the load balancer once its process answers (`await_boot`) and
  serves only once its health check passed
  `initial_healthy_threshold` times (the CLB's 10, the ALB's one): launching,
  registered, in service are events;
- scale-in terminates the newest members (assumption: AWS balances zones first and
  then, for an ASG, picks the oldest launch template; every member here has the same
  one): each is taken out of the orchestrator's watch, deregistered with the load
  balancer's draining delay and stopped;
- the ASG/ECS orchestrator keeps replacing failed members as before, and learns of a
  new member through `adopt()` (its grace period starts).

Every change of the desired count is a `scaling.desired_changed` event with its cause.
The group evaluates only while a run's metrics are attached (`watch`): the run's clock
(events.t0, the load's start) is then set, and the schedule and evaluations follow it.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
import time
from collections.abc import Callable

from harness.errors import FaultError, StackError
from harness.model.cited import Timing
from harness.model.orchestrator import AsgSettings
from harness.model.scaling import ScalingSettings, ScheduledAction, apply_scheduled
from harness.records.events import OrchestratorEvent
from harness.records.samples import MetricsLog
from harness.scaling.policy import FleetCounts, PolicyDef, TargetTracker, metric_points
from harness.stacks.orchestrators.base import Orchestrator, StackHandles
from harness.stacks.topology import Component


def policy_of(handles: StackHandles, settings: ScalingSettings) -> PolicyDef | None:
    """The profile's target tracking policy at the run's time scale (None: none)."""
    tt = settings.target_tracking
    if tt is None:
        return None
    scale = handles.time_scale
    metrics = handles.profile.metrics
    # a request count per (AWS) minute is a count per scaled period at this time scale
    target = tt.target_value.value * (scale if tt.metric.value == "RequestCountPerTarget"
                                      else 1.0)
    return PolicyDef(
        metric=tt.metric.value, target=target, period_s=tt.period_s.at(scale),
        out_datapoints=tt.scale_out_datapoints.value, in_datapoints=tt.scale_in_datapoints.value,
        in_ratio=tt.scale_in_threshold_ratio.value,
        delay_s=metrics.publication_delay_s.at(scale) if metrics else 0.0,
        # CloudWatch evaluates alarms every minute
        every_s=60.0 * scale,
        scale_out_cooldown_s=tt.scale_out_cooldown_s.at(scale),
        scale_in_cooldown_s=tt.scale_in_cooldown_s.at(scale),
        warmup_s=tt.instance_warmup_s.at(scale), disable_scale_in=tt.disable_scale_in.value,
    )


class ScalingGroup(Orchestrator):
    """The desired count of the app fleet and the members that follow it."""

    name = "autoscaling"
    poll_s = 0.2

    def __init__(self, handles: StackHandles, settings: ScalingSettings, *,
                 fleet: Orchestrator, launch: Callable[[str], Component]) -> None:
        super().__init__(handles)
        self.settings = settings
        self.fleet = fleet
        self._launch = launch
        profile = handles.profile
        scheduler = profile.orchestrator
        self._launch_time: Timing = (scheduler.launch_s if isinstance(scheduler, AsgSettings)
                                     else scheduler.task_replacement_s)
        self.min_capacity = settings.min_capacity.value
        self.max_capacity = settings.max_capacity.value
        self.desired = profile.app.instances
        self._slots = profile.member_slots
        #: members started or launching, not terminating
        self._members: set[str] = set(profile.app_names)
        #: member -> run time of the decision that launched it, until it is in service
        self._launching: dict[str, float] = {}
        #: member -> [from, until) run time of its warm-up (its CPU is left out meanwhile)
        self._warmups: dict[str, tuple[float, float]] = {}
        self._in_service = len(profile.app_names)
        self._schedule: list[ScheduledAction] = []
        self._metrics: MetricsLog | None = None
        self.policy = policy_of(handles, settings)
        self.tracker = (TargetTracker(self.policy, min_capacity=self.min_capacity,
                                      max_capacity=self.max_capacity)
                        if self.policy else None)
        self._next_eval_s = 0.0
        self._state = threading.Lock()

    # -- what the run gives and reads ----------------------------------------------

    def watch(self, metrics: MetricsLog) -> None:
        """Start evaluating on the run's metrics (the run's clock is set from here)."""
        with self._state:
            self._metrics = metrics
            if self.policy is not None:
                self._next_eval_s = self.policy.every_s

    def lookback_s(self) -> float:
        """How far back from now target tracking reads the run's metrics (0: no policy)."""
        return self.policy.lookback_s() if self.policy is not None else 0.0

    def schedule(self, actions: list[ScheduledAction]) -> None:
        """Scheduled actions of the scenario, in run time (seconds from the load's start)."""
        with self._state:
            self._schedule = sorted(actions, key=lambda a: a.at_s)

    def counts(self) -> tuple[int, int, int]:
        """(desired, launching, in service) now."""
        with self._state:
            return self.desired, len(self._launching), self._in_service

    # -- the loop --------------------------------------------------------------------

    def tick(self) -> None:
        now = self.h.events.elapsed()
        self._follow_launches(now)
        with self._state:
            watching = self._metrics is not None
        if not watching:
            return
        self._apply_schedule(now)
        self._evaluate(now)
        self._reconcile(now)

    def _follow_launches(self, now: float) -> None:
        try:
            states = self.h.haproxy.server_states()
        except FaultError:
            return
        apps = self.h.info.apps()
        in_service = [a for a in apps if _in_service(states.get(a, {}))]
        with self._state:
            self._in_service = len(in_service)
            done = [(a, t) for a, t in self._launching.items() if a in in_service]
            for app, _ in done:
                self._launching.pop(app)
        for app, decided in done:
            self.emit(OrchestratorEvent.SCALING_IN_SERVICE, component=app,
                      since_desired_s=round(now - decided, 3))

    def _apply_schedule(self, now: float) -> None:
        while True:
            with self._state:
                if not self._schedule or self._schedule[0].at_s > now:
                    return
                action = self._schedule.pop(0)
            lo, hi, desired = apply_scheduled(action, min_capacity=self.min_capacity,
                                              max_capacity=self.max_capacity,
                                              desired=self.desired)
            self.min_capacity, self.max_capacity = lo, hi
            if self.tracker is not None:
                self.tracker.bounds(lo, hi)
            self.emit(OrchestratorEvent.SCALING_SCHEDULED_ACTION, at_s=action.at_s, min_capacity=lo,
                      max_capacity=hi)
            self._set_desired(desired, now, cause="scheduled_action",
                              reason=f"scheduled action at {action.at_s:g} s: min {lo}, max {hi}")

    def _evaluate(self, now: float) -> None:
        if self.tracker is None or self.policy is None or now < self._next_eval_s:
            return
        every = self.policy.every_s
        self._next_eval_s = (math.floor(now / every + 1e-9) + 1) * every
        assert self._metrics is not None
        with self._state:
            warmups = dict(self._warmups)
            members = set(self._members)
            launching = set(self._launching)
        warming = {m for m, (_, until) in warmups.items() if until > now} | launching
        # the metrics log keeps only recent samples (lookback_s): read the periods they cover
        points = metric_points(self._metrics.snapshot(), self.policy, now, warmups,
                               since_s=now - self.policy.lookback_s())
        measured = len([m for m in members if m not in warming])
        decision = self.tracker.evaluate(points, now, FleetCounts(
            desired=self.desired, running=len(members), measured=measured,
            warming=len(warming & members)))
        if decision is not None:
            self._set_desired(decision.desired, now, cause="target_tracking",
                              reason=decision.reason)

    def _set_desired(self, desired: int, now: float, *, cause: str, reason: str) -> None:
        if desired == self.desired:
            return
        self.emit(OrchestratorEvent.SCALING_DESIRED_CHANGED, old=self.desired, new=desired,
                  cause=cause, reason=reason, at_s=round(now, 3))
        with self._state:
            self.desired = desired

    def _reconcile(self, now: float) -> None:
        with self._state:
            active = [s for s in self._slots if s in self._members]
            gap = self.desired - len(active)
        if gap > 0:
            free = [s for s in self._slots if s not in self._members and not self.busy(s)]
            for slot in free[:gap]:
                with self._state:
                    self._members.add(slot)
                    self._launching[slot] = now
                self.react(slot, functools.partial(self._launch_member, slot))
        elif gap < 0:
            # the newest members first; none that a reaction (replacement, launch) holds
            idle = [s for s in reversed(active)
                    if not self.busy(s) and not self.fleet.busy(s)]
            for slot in idle[:-gap]:
                with self._state:
                    self._members.discard(slot)
                    self._launching.pop(slot, None)
                self.react(slot, functools.partial(self._terminate, slot))

    # -- reactions ---------------------------------------------------------------------

    def _launch_member(self, slot: str) -> None:
        started = time.monotonic()
        self.emit(OrchestratorEvent.SCALING_LAUNCHING, component=slot, desired=self.desired)
        if not self.sleep(self.h.scaled(self._launch_time)) or self.stopping:
            return
        try:
            component = self._launch(slot)
        except Exception:
            with self._state:  # the slot is free again; the next tick launches anew
                self._members.discard(slot)
                self._launching.pop(slot, None)
            raise
        # registered (and watched by the fleet's orchestrator) once its process answers:
        # the scaled checks must not judge its boot; one that exited is replaced as usual
        boot = self.await_boot(slot, port=component.port)
        if self.stopping:
            return
        now = self.h.events.elapsed()
        warmup = self.policy.warmup_s if self.policy else 0.0
        with self._state:
            self._warmups[slot] = (now, now + warmup)
        self.h.info.components[slot] = component
        self.fleet.adopt(slot)
        self.h.on_change()
        self.h.targets.register(slot)
        self.emit(OrchestratorEvent.SCALING_REGISTERED, component=slot, port=component.port,
                  since_launching_s=round(time.monotonic() - started, 3), **boot.fields())

    def _terminate(self, slot: str) -> None:
        self.emit(OrchestratorEvent.SCALING_TERMINATING, component=slot, desired=self.desired)
        # out of the orchestrator's watch first, or it would replace what is stopped
        self.h.info.components.pop(slot, None)
        self.h.on_change()
        drained_s = self.h.targets.deregister(slot, wait=self.sleep)
        with contextlib.suppress(StackError):
            self.h.runtime.stop(slot)
        self.emit(OrchestratorEvent.SCALING_TERMINATED,
                  component=slot, drained_s=round(drained_s, 3))


def _in_service(row: dict[str, str]) -> bool:
    return row.get("srv_op_state") == "2" and row.get("srv_admin_state") == "0"
