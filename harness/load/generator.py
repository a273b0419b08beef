"""The load models of a generator process (gevent + Locust; only generator processes import this).

OpenModel starts each arrival of the seeded schedule on its time; ClosedModel
records the requests of a team's own locustfile users. Both fill a Recorder
and hand its wire form to a sink every second.
"""

from __future__ import annotations

# Locust monkey-patches the process on import; do it before anything opens sockets.
import locust  # noqa: F401  isort: skip

import math
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import psutil
from locust.env import Environment

from harness.load import acked, journeys
from harness.load.http import Answer, Client
from harness.load.inflight import Inflight
from harness.load.locustcheck import (
    describe_import_error,
    many_shapes_message,
    no_users_message,
    unknown_user_classes,
)
from harness.load.schedule import arrivals
from harness.load.writes import Write, outcome_of, to_wire
from harness.records.classify import classify_exception, classify_status
from harness.records.recorder import Recorder
from harness.scenario.workload import Workload

Sink = Callable[[dict[str, Any]], None]
#: arrivals due sooner than this start at once: a shorter sleep costs a hub switch and
#: libev's timers are not finer than about a millisecond anyway
SLEEP_MIN_S = 0.001


class Plan:
    """What one generator process does; sent by the parent (local) or the master (workers)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.target: str = data["target"]
        self.workload = Workload.model_validate(data["workload"])
        self.seed: int = data["seed"]
        self.run_tag: str = data["run_tag"]
        self.default_path: str = data.get("default_path", "/")
        #: wall-clock start of the load; each process maps it to its own monotonic clock.
        #: Not given: start as soon as this process is ready.
        self.start_fixed = data.get("start_at") is not None
        self.start_at: float = data.get("start_at") or time.time() + 0.2
        self.index: int = data.get("index", 0)
        self.count: int = data.get("count", 1)


class OpenModel:
    """Starts each arrival on its scheduled time, up to the concurrency cap, and records it."""

    def __init__(self, plan: Plan, sink: Sink) -> None:
        self.plan = plan
        self.sink = sink
        self.recorder = Recorder()
        self.workload = plan.workload
        self.cap = max(1, math.ceil(self.workload.max_concurrency / plan.count))
        self.pool = Inflight(self.cap)
        self.t0 = time.monotonic() + (plan.start_at - time.time())
        self._stop = gevent.event.Event()
        # `get` does the same request every time: build it once.
        self._get_steps: list[journeys.Request] = []
        if "get" in self.workload.journeys:
            sample = next(
                (a for a in arrivals(self.workload, plan.seed) if a.journey == "get"), None
            )
            if sample is not None:
                self._get_steps = journeys.steps(
                    self.workload, sample, plan.run_tag, plan.default_path
                )
        timeouts = self.workload.timeouts
        # Our journeys are recorded by our recorder: no Locust session or stats (harness.load.http)
        self.client = Client(
            plan.target,
            concurrency=self.cap,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
        )

    def stop(self) -> None:
        """End the schedule now (also in the middle of a long wait for the next arrival)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return bool(self._stop.is_set())

    def run(self) -> None:
        """Generate the whole schedule, wait for in-flight journeys, flush."""
        flusher = gevent.spawn(flush_every_second, self.recorder, self.sink, self.t0)
        try:
            self._schedule()
            timeouts = self.workload.timeouts
            # Interrupted: give in-flight requests a moment, not their full timeouts.
            grace = 1.0 if self.stopping else timeouts.connect + timeouts.read + 1
            self.pool.join(timeout=grace)
            self.pool.kill(timeout=1)
            self.client.close()
        finally:
            flusher.kill()
            self.sink(self.recorder.drain())

    def _schedule(self) -> None:
        plan, rec = self.plan, self.recorder
        behind = 0
        for arrival in arrivals(self.workload, plan.seed):
            if arrival.seq % plan.count != plan.index:
                continue
            due = self.t0 + arrival.offset_s
            second = int(arrival.offset_s)
            if self.stopping:
                if due <= time.monotonic():
                    rec.missed(second)
                    continue
                break
            delay = due - time.monotonic()
            if delay > SLEEP_MIN_S:
                if self._stop.wait(delay):
                    break  # stopped while waiting: this arrival and the later ones are not due
                behind = 0
            elif delay > 0:
                pass  # due within the event loop's resolution: start now, not a sleep later
            else:
                # Behind schedule: still let started journeys run now and then.
                behind += 1
                if behind % 16 == 0:
                    gevent.sleep(0)
            if self.pool.full():
                rec.arrival(second, lag_s=None, endpoint=self._first_endpoint(arrival))
                continue
            self.pool.spawn(self._journey, arrival, due, second)

    def _first_endpoint(self, arrival: Any) -> str:
        """The endpoint of the request an arrival would have sent first."""
        if arrival.journey == "get" and self._get_steps:
            return self._get_steps[0].endpoint
        first = journeys.steps(self.workload, arrival, self.plan.run_tag, self.plan.default_path)
        return first[0].endpoint

    def _journey(self, arrival: Any, due: float, second: int) -> None:
        now = time.monotonic()
        lag = now - due
        self.recorder.arrival(
            second,
            lag_s=max(lag, 0.0),
            late=lag > self.workload.late_after,
            started_second=int(now - self.t0),
        )
        # Started up to SLEEP_MIN_S early: then the latency counts from the actual start.
        intended = min(due, now)
        if arrival.journey == "get" and self._get_steps:
            plan_steps = self._get_steps
        else:
            plan_steps = journeys.steps(
                self.workload, arrival, self.plan.run_tag, self.plan.default_path
            )
        for step in plan_steps:
            # the writes log wants wall-clock times; only writes pay for them
            sent_wall = time.time() if step.write is not None else 0.0
            sent = time.monotonic()
            answer = self.client.request(step.method, step.path, step.json)
            done = time.monotonic()
            status = answer.status
            if status > 0:
                cls = classify_status(status, step.expected)
            else:
                cls = classify_exception(answer.error) if answer.error is not None else "other"
            bucket = max(second, int(intended - self.t0))
            self.recorder.request(bucket, step.endpoint, cls, done - intended, done - sent)
            if step.write is not None:
                self._log_write(step, status, cls, answer, sent_wall)
            if cls != "ok":
                return  # a user whose request failed abandons the journey
            if step.think_s > 0:
                gevent.sleep(step.think_s)
            intended = done + step.think_s

    def _log_write(
        self, step: journeys.Request, status: int, cls: str, answer: Answer, sent_at: float
    ) -> None:
        outcome = outcome_of(status, cls)
        write_id = None
        if outcome == "acknowledged":
            try:
                write_id = int(answer.json()[step.id_field])
            except (ValueError, KeyError, TypeError):
                outcome = "indeterminate"  # acknowledged without a readable id
        self.recorder.writes.append(
            to_wire(
                Write(
                    kind=step.write or "",
                    idempotency_key=step.key,
                    outcome=outcome,
                    id=write_id,
                    status=status,
                    error_class=cls,
                    sent_at=sent_at,
                    done_at=time.time(),
                    attrs=step.attrs,
                )
            )
        )


class ClosedModel:
    """A team's own locustfile: its users run as written; every request is recorded."""

    def __init__(self, plan: Plan, env: Environment, sink: Sink) -> None:
        self.plan = plan
        self.env = env
        self.sink = sink
        self.recorder = Recorder()
        self.t0 = time.monotonic() + (plan.start_at - time.time())
        env.events.request.add_listener(self._on_request)  # type: ignore[no-untyped-call]
        # the locustfile's record_write() calls note their writes here (harness.load.acked)
        acked.attach(self.recorder)

    def _on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: BaseException | None = None,
        response: Any = None,
        **_: Any,
    ) -> None:
        seconds = (response_time or 0) / 1000
        second = max(0, int(time.monotonic() - seconds - self.t0))
        status = int(getattr(response, "status_code", 0) or 0)
        if exception is None:
            cls = "ok"
        elif status >= 400:
            cls = classify_status(status)
        else:
            cls = classify_exception(exception)
        # Closed model: a request starts when the user is ready, so intended = actual start.
        self.recorder.arrival(second, lag_s=0.0)
        self.recorder.request(second, f"{request_type} {name}", cls, seconds, seconds)


def flush_every_second(recorder: Recorder, sink: Sink, t0: float) -> None:
    """Every second: this process's CPU and run-queue wait, then the recording to the sink."""
    process = psutil.Process()
    process.cpu_percent()
    waited, at = _run_queue_wait_s(), time.monotonic()
    while True:
        gevent.sleep(1.0 - ((time.monotonic() - t0) % 1.0))
        now = time.monotonic()
        second = int(now - t0) - 1
        wait = _run_queue_wait_s()
        if second >= 0:
            wait_pct = 100 * (wait - waited) / (now - at) if now > at else 0.0
            recorder.cpu(second, process.cpu_percent(), wait_pct)
        waited, at = wait, now
        sink(recorder.drain())


def _run_queue_wait_s() -> float:
    """Seconds this process's main thread has waited for a core (Linux schedstat; else 0)."""
    try:
        with open("/proc/self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def load_user_classes(path: str, names: list[str]) -> list[type[Any]]:
    """The locustfile's User classes (all, or the named ones); LoadError-worthy text on failure."""
    return load_locustfile_parts(path, names)[0]


def load_locustfile_parts(path: str, names: list[str]) -> tuple[list[type[Any]], Any | None]:
    """The locustfile's User classes (all, or the named ones) and its LoadTestShape, if any.

    One import for both: a shape's tick() may name User classes, which must be the
    very classes the Environment runs. ValueError with LoadError-worthy text on failure.
    """
    from locust.util.load_locustfile import load_locustfile

    try:
        found, shapes = load_locustfile(path)
    except BaseException as exc:  # a locustfile can raise anything, SystemExit included
        raise ValueError(describe_import_error(path, exc)) from None
    if not found:
        raise ValueError(no_users_message(path))
    if len(shapes) > 1:
        raise ValueError(many_shapes_message(path, [type(s).__name__ for s in shapes]))
    unknown = unknown_user_classes(list(found), names)
    if unknown:
        raise ValueError(
            f"{path}: locustfile.user_classes: {', '.join(unknown)} not found; "
            f"it defines {', '.join(sorted(found))}"
        )
    users = [found[n] for n in names] if names else list(found.values())
    return users, (shapes[0] if shapes else None)


# -- process modes --
