"""The generator process: gevent + Locust. Only generator processes import this module.

Run as `python -m harness.load.worker`, in one of three modes:

- local: one process generates the load and reports to its parent;
- master: Locust's MasterRunner; waits for N workers, hands each its share of
  the plan and relays their recordings to the parent;
- worker: Locust's WorkerRunner; connects to a master, on this machine or
  another one. To add a machine's CPU to a run, start the run with
  `harness load URL ... --remote-workers 1 --master-bind 0.0.0.0` (it prints
  its port), then on the other machine, with harness installed:

      python -m harness.load.worker --master-host <master address> --master-port <port>

  (add `--locustfile FILE` when the scenario runs a locustfile). The worker
  receives its share of the schedule from the master and exits when the run ends.

The parent (harness.load.runner, free of gevent) reads protocol lines from the
local/master process's stdout: `@harness {"type": ..., ...}`. Recordings travel
as Recorder wire dicts, so per-second histograms merge exactly in the parent.
"""

from __future__ import annotations

# Locust monkey-patches the process on import; do it before anything opens sockets.
import locust  # noqa: F401  isort: skip

import argparse
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
import gevent.event
from locust.env import Environment
from locust.runners import STATE_MISSING, MasterRunner, Runner, WorkerRunner

from harness.load.generator import (
    ClosedModel,
    OpenModel,
    Plan,
    flush_every_second,
    load_locustfile_parts,
    load_user_classes,
)
from harness.scenario.workload import Locustfile

PREFIX = "@harness "
#: a worker that sent no heartbeat for this long (Locust marks it missing after ~3 s) is lost
LOST_AFTER_S = 5.0
#: how often the end of a locustfile's shape is looked for (its tick() runs once a second)
SHAPE_POLL_S = 0.1


def emit(kind: str, **data: Any) -> None:
    """One protocol line to the parent."""
    sys.stdout.write(PREFIX + json.dumps({"type": kind, **data}, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _on_sigterm(stop: Callable[[], None]) -> None:
    """SIGTERM (the parent's Ctrl-C) stops the schedule; what was measured is still sent."""
    gevent.signal_handler(signal.SIGTERM, stop)


def run_local(plan: Plan) -> None:
    locustfile = plan.workload.locustfile
    if locustfile is None:
        emit("started", start_at=plan.start_at)
        model = OpenModel(plan, lambda wire: emit("data", wire=wire))
        _on_sigterm(model.stop)
        model.run()
        return
    user_classes, shape = _load(locustfile)
    env = Environment(
        user_classes=user_classes, host=plan.target, stop_timeout=locustfile.stop_timeout,
        shape_class=shape,
    )
    if not plan.start_fixed:
        plan.start_at = time.time() + 0.2  # loading the locustfile took a while
    emit("started", start_at=plan.start_at)
    closed = ClosedModel(plan, env, lambda wire: emit("data", wire=wire))
    flusher = gevent.spawn(flush_every_second, closed.recorder, closed.sink, closed.t0)
    runner = env.create_local_runner()
    stop = gevent.event.Event()
    _on_sigterm(stop.set)
    gevent.sleep(max(0.0, closed.t0 - time.monotonic()))
    _drive(runner, locustfile, shape, closed.t0, stop)
    runner.quit()
    flusher.kill()
    closed.sink(closed.recorder.drain())


def run_master(plan: Plan, workers: int, bind_host: str, port: int, wait_s: float) -> None:
    locustfile = plan.workload.locustfile
    user_classes, shape = _load(locustfile) if locustfile else ([], None)
    env = Environment(
        user_classes=user_classes, host=plan.target,
        stop_timeout=locustfile.stop_timeout if locustfile else None, shape_class=shape,
    )
    runner = env.create_master_runner(master_bind_host=bind_host, master_bind_port=port)
    assert isinstance(runner, MasterRunner)
    done: set[str] = set()
    # Locust's "ready" is not ready for us: a worker's handlers are registered only after
    # its runner has connected, and a plan sent in between is dropped ("Unknown message
    # type"), leaving a live worker that never generates nor says done. It says
    # harness_ready once it can take a plan.
    ready: set[str] = set()
    runner.register_message(
        "harness_data", lambda environment, msg, **_: emit("data", wire=msg.data)
    )
    runner.register_message("harness_done", lambda environment, msg, **_: done.add(msg.node_id))
    runner.register_message("harness_ready", lambda environment, msg, **_: ready.add(msg.node_id))
    emit("listening", port=port)
    deadline = time.monotonic() + wait_s
    while len(ready) < workers:
        if time.monotonic() > deadline:
            emit(
                "error",
                message=f"only {len(ready)} of {workers} workers joined within {wait_s:g} s",
            )
            runner.quit()
            return
        gevent.sleep(0.1)
    # Shares are fixed now: arrival i goes to the worker at position i % workers.
    clients = sorted(ready)[:workers]
    start_at = plan.start_at if plan.start_fixed else time.time() + 1.0
    shared = {**plan.data, "start_at": start_at}
    for i, client_id in enumerate(clients):
        runner.send_message("harness_plan", {**shared, "index": i, "count": workers}, client_id)
    emit("started", workers=clients, start_at=start_at)
    stop = gevent.event.Event()

    def stop_all() -> None:
        stop.set()
        for client_id in clients:
            runner.send_message("harness_stop", None, client_id)

    _on_sigterm(stop_all)
    if locustfile is not None:
        t0 = time.monotonic() + (start_at - time.time())
        gevent.sleep(max(0.0, t0 - time.monotonic()))
        _drive(runner, locustfile, shape, t0, stop)
        runner.stop()
        for client_id in clients:
            runner.send_message("harness_finish", None, client_id)
    _wait_for_workers(runner, clients, done)
    runner.quit()


def _load(locustfile: Locustfile) -> tuple[list[type[Any]], Any | None]:
    """The locustfile's User classes and shape; ValueError when it has neither shape nor users."""
    user_classes, shape = load_locustfile_parts(str(locustfile.path), locustfile.user_classes)
    if shape is None and locustfile.users is None:
        raise ValueError(
            f"{locustfile.path}: no users given and no LoadTestShape class in the file; "
            "set the workload's locustfile.users, or add a shape"
        )
    return user_classes, shape


def _drive(runner: Runner, locustfile: Locustfile, shape: Any | None, t0: float,
           stop: gevent.event.Event) -> None:
    """Run the users from `t0` (time.monotonic()) until `stop`, the duration, or the shape's end.

    A shape runs as in Locust (runner.start_shape: tick() once a second), with its
    clock zeroed at the load's offset 0, which is also the fault timeline's and the SLO
    windows' 0: the shape's second N is the run's second N. Its tick() returning None
    ends the load then; a shape still running at the duration is stopped there.
    """
    deadline = t0 + locustfile.duration
    if shape is None:
        assert locustfile.users is not None  # _load refused it otherwise
        runner.start(locustfile.users, spawn_rate=locustfile.spawn_rate)
        stop.wait(max(0.0, deadline - time.monotonic()))
        return
    runner.start_shape()
    # start_shape() zeroed the shape's clock now, a moment after t0; deltas keep the two
    # clocks (perf_counter, monotonic) apart, whatever their origins
    shape.start_time = time.perf_counter() - (time.monotonic() - t0)
    while not stop.wait(min(SHAPE_POLL_S, max(0.0, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            return
        greenlet = runner.shape_greenlet
        if greenlet is None or greenlet.dead:
            ended = time.monotonic() - t0
            if ended < locustfile.duration - 1.5:  # tick() is called once a second
                emit("problem", message=f"the locustfile's shape {type(shape).__name__} ended "
                     f"the load at {ended:.1f} s, before its planned {locustfile.duration:g} s")
            return


def _wait_for_workers(runner: MasterRunner, clients: list[str], done: set[str]) -> None:
    """Until every worker said done; a worker silent for LOST_AFTER_S is given up on.

    Its unreported arrivals then show up as missed in the parent, which makes the
    run invalid rather than quietly smaller.
    """
    silent_since: dict[str, float] = {}
    while not done.issuperset(clients):
        # a stopped worker is still there (Locust keeps it stopped for its stop_timeout);
        # only Locust's missed heartbeats say it is gone
        alive = {c.id for c in runner.clients.all if c.state != STATE_MISSING}
        for client_id in set(clients) - done:
            if client_id in alive:
                silent_since.pop(client_id, None)
                continue
            since = silent_since.setdefault(client_id, time.monotonic())
            if time.monotonic() - since > LOST_AFTER_S:
                emit("problem", message=f"worker {client_id} stopped answering; its "
                     "arrivals that were not reported count as missed")  # fmt: skip
                done.add(client_id)
        gevent.sleep(0.2)


def run_worker(master_host: str, master_port: int, locustfile: str | None) -> None:
    user_classes = load_user_classes(locustfile, []) if locustfile else []
    env = Environment(user_classes=user_classes)
    runner = env.create_worker_runner(master_host, master_port)
    assert isinstance(runner, WorkerRunner)
    finish = gevent.event.Event()
    models: list[OpenModel] = []

    def on_stop(environment: Environment, msg: Any, **_: Any) -> None:
        finish.set()
        for model in models:
            model.stop()

    def send(wire: dict[str, Any]) -> None:
        runner.send_message("harness_data", wire)

    def on_plan(environment: Environment, msg: Any, **_: Any) -> None:
        plan = Plan(msg.data)
        environment.host = plan.target

        def generate() -> None:
            try:
                if plan.workload.locustfile is None:
                    models.append(OpenModel(plan, send))
                    models[-1].run()
                else:
                    model = ClosedModel(plan, environment, send)
                    flusher = gevent.spawn(flush_every_second, model.recorder, send, model.t0)
                    finish.wait()
                    flusher.kill()
                    send(model.recorder.drain())
            finally:
                runner.send_message("harness_done", None)

        gevent.spawn(generate)

    runner.register_message("harness_plan", on_plan)
    runner.register_message("harness_finish", lambda environment, msg, **_: finish.set())
    # Locust's worker handles the master's stop by stopping its users, then sleeping out
    # the stop_timeout before it reads the next message (harness_finish): its users have
    # all stopped here, so what it recorded is complete and goes now
    env.events.test_stop.add_listener(lambda **_: finish.set())  # type: ignore[no-untyped-call]
    runner.register_message("harness_stop", on_stop)
    # only now can a plan be taken: the master sends none before this (run_master)
    runner.send_message("harness_ready", None)
    runner.greenlet.join()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.load.worker")
    parser.add_argument("--mode", choices=["local", "master", "worker"], default="worker")
    parser.add_argument("--plan", type=Path, help="plan JSON (local and master)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-bind", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, default=5557)
    parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for workers")
    parser.add_argument("--locustfile", help="worker mode: the scenario's locustfile")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        if args.mode == "worker":
            run_worker(args.master_host, args.master_port, args.locustfile)
            return 0
        plan = Plan(json.loads(args.plan.read_text()))
        if args.mode == "local":
            run_local(plan)
        else:
            run_master(plan, args.workers, args.master_bind, args.master_port, args.wait)
    except ValueError as exc:
        emit("error", message=str(exc))
        return 2
    emit("done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
