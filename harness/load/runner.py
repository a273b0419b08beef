"""The parent side of the load: starts the generator processes, collects, returns a result.

No gevent here: this module runs in the process that keeps the clock, starts
stacks and injects faults. The generator runs in child processes
(harness.load.worker): one local process, or a Locust master plus N workers.
Their recordings arrive as exact-mergeable wire dicts on the local/master
process's stdout and are merged here.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import psutil

from harness.errors import LoadError
from harness.load import schedule, selfcheck
from harness.load.cpushare import CpuSampler, GeneratorCpu
from harness.load.writes import WritesLog
from harness.records.files import atomic_open, atomic_write, failed
from harness.records.recorder import Recorder
from harness.runtime import watchdog
from harness.runtime.ports import PortAllocator
from harness.scenario.workload import Workload

PREFIX = "@harness "
#: the generator's scheduling priority where it may have one (root): a late arrival
#: measures the generator, not the stack, so it should not wait for a core behind the
#: stack's own processes. It can only make the stack's unlimited parts (database,
#: proxies, load balancer) slower, never faster; the members keep their CPU quotas; it
#: is the same for both stacks; the generator's CPU use is still judged (cpushare.py).
GENERATOR_NICE = -10
#: seconds a generator process gets to flush and exit after SIGTERM before SIGKILL
STOP_GRACE_S = 5.0
#: seconds past the end of its schedule and request timeouts a generator may take to say
#: done (a lost worker is given up on by the master after ~5 s) before it is stopped
FINISH_GRACE_S = 30.0

OnSecond = Callable[[dict[str, Any]], None]


@dataclass
class LoadResult:
    """What the load measured. `complete` is False when it was interrupted or a process died."""

    recorder: Recorder
    workload: Workload
    seed: int
    target: str
    workers: int
    #: wall-clock time (time.time()) of offset 0 of the schedule
    start_at: float
    complete: bool
    check: selfcheck.SelfCheck
    out_dir: Path
    problems: list[str] = field(default_factory=list)
    #: wall-clock time when the generator had finished (its last journey ended)
    finished_at: float = 0.0
    #: the generator's own CPU share over the load, and whether it competed with the stack
    generator_cpu: GeneratorCpu | None = None

    @property
    def valid(self) -> bool:
        return self.check.valid

    def summary(self) -> dict[str, Any]:
        """The run's totals, the generator's self-check, and where the files are."""
        return {
            "target": self.target,
            "seed": self.seed,
            "workers": self.workers,
            "start_at": self.start_at,
            "finished_at": self.finished_at,
            "duration_s": self.workload.duration,
            "complete": self.complete,
            "valid": self.check.valid,
            "invalid_reasons": self.check.reasons,
            "problems": self.problems,
            "generator_max_cpu_pct": self.check.max_cpu_pct,
            "generator_cpu": self.generator_cpu.to_json() if self.generator_cpu else None,
            **self.recorder.summary(),
        }


def check_target(url: str, *, allow_remote: bool) -> str:
    """The URL, if it is http(s) on loopback (or allow_remote); LoadError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadError(
            f"target {url!r}: not an http:// or https:// URL, e.g. http://127.0.0.1:8080/"
        )
    host = parts.hostname
    loopback = host == "localhost" or host == "::1" or host.startswith("127.")
    if not loopback and not allow_remote:
        raise LoadError(
            f"target {url!r}: {host} is not a loopback address; harness only sends load to "
            "127.0.0.1 unless you pass --allow-remote (and own the target)"
        )
    return url


def run_load(
    target_url: str,
    workload: Workload,
    *,
    out_dir: Path,
    seed: int | None = None,
    workers: int = 1,
    on_second: OnSecond | None = None,
    run_tag: str | None = None,
    master_port: int | None = None,
    remote_workers: int = 0,
    master_bind: str = "127.0.0.1",
    start_at: float | None = None,
    stop: threading.Event | None = None,
    stack_cpus: float | None = None,
) -> LoadResult:
    """Run the workload against target_url and return what was measured.

    Ctrl-C (KeyboardInterrupt) or `stop` ends the load early: the generator
    processes flush what they measured and exit; the result is marked
    incomplete. No generator process outlives this call.

    start_at (wall clock, time.time()) fixes when offset 0 of the schedule is, so
    a caller can share the clock with a fault timeline; arrivals the generator
    could not start by then count as late. Default: as soon as it is ready.

    With remote_workers > 0 the Locust master listens on master_bind:master_port
    and waits (up to a minute) for that many workers started elsewhere with
    `python -m harness.load.worker --master-host <this host> --master-port <port>`.

    stack_cpus, the target's CPU limit in force, sets how much of the machine the
    generator may use before it counts as competing with it (cpushare.py).
    """
    if workers < 1:
        raise LoadError(f"--workers {workers}: need at least 1")
    seed = workload.seed if seed is None else seed
    plan_file = _write_plan(target_url, workload, out_dir, seed=seed, run_tag=run_tag,
                            start_at=start_at)
    collector = _Collector(out_dir, on_second)
    if remote_workers < 0:
        raise LoadError(f"--remote-workers {remote_workers}: cannot be negative")
    # the master's port stays reserved while the generator runs (PortAllocator)
    with PortAllocator() as ports:
        procs = _start(plan_file, out_dir, workers, remote_workers, master_port,
                       master_bind, workload, ports)
        sampler = CpuSampler([p.pid for p in procs]).start()
        complete = _follow(collector, procs, workload, stop, sampler)
    if collector.error:
        raise LoadError(collector.error)
    recorder = collector.recorder
    start_at = collector.start_at or time.time()
    if complete:
        _count_unaccounted(recorder, workload, seed)
    check = selfcheck.check(recorder, complete=complete)
    finished_at = collector.finished_at or time.time()
    result = LoadResult(
        recorder, workload, seed, target_url, workers, start_at, complete, check, out_dir,
        problems=collector.problems, finished_at=finished_at,
        generator_cpu=sampler.result(start_at, finished_at, stack_cpus=stack_cpus),
    )
    write_results(result)
    return result


def _write_plan(target_url: str, workload: Workload, out_dir: Path, *, seed: int,
                run_tag: str | None, start_at: float | None) -> Path:
    """load-plan.json, what every generator process reads: target, workload, seed, start."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise failed(out_dir, exc) from None
    parts = urlsplit(target_url)
    plan = {
        "target": f"{parts.scheme}://{parts.netloc}",
        "default_path": (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        "workload": workload.model_dump(mode="json", by_alias=True),
        "seed": seed,
        "run_tag": run_tag or f"h{int(time.time() * 1000):x}",
        "start_at": start_at,
    }
    plan_file = out_dir / "load-plan.json"
    atomic_write(plan_file, json.dumps(plan, indent=1))
    return plan_file


def _follow(collector: _Collector, procs: list[subprocess.Popen[str]], workload: Workload,
            stop: threading.Event | None, sampler: CpuSampler) -> bool:
    """Collect until the generator ends, `stop` is set or Ctrl-C; True when it finished.

    Every generator process has ended when this returns.
    """
    try:
        return collector.follow(procs[0], workload, stop)
    except KeyboardInterrupt:
        _terminate(procs[0])
        with contextlib.suppress(KeyboardInterrupt):
            collector.drain(procs[0], timeout_s=STOP_GRACE_S)
        return False
    finally:
        sampler.stop()  # before the processes exit: a reaped process cannot be read
        for proc in procs:
            _terminate(proc)
        collector.close()
        if procs[0].stdout is not None:
            procs[0].stdout.close()


def _start(
    plan_file: Path,
    out_dir: Path,
    workers: int,
    remote_workers: int,
    master_port: int | None,
    master_bind: str,
    workload: Workload,
    ports: PortAllocator,
) -> list[subprocess.Popen[str]]:
    """The generator's processes: one alone, else a master (on `master_port`, else one
    `ports` gives) and its workers."""
    cmd = [sys.executable, "-m", "harness.load.worker", "--plan", str(plan_file)]
    if workers == 1 and remote_workers == 0:
        return [_spawn([*cmd, "--mode", "local"], out_dir / "generator.log")]
    port = master_port or ports.take()
    procs = [
        _spawn(
            [
                *cmd,
                "--mode",
                "master",
                "--workers",
                str(workers + remote_workers),
                "--master-port",
                str(port),
                "--master-bind",
                master_bind,
                "--wait",
                str(60.0 if remote_workers else 30.0),
            ],
            out_dir / "generator-master.log",
        )
    ]
    worker_cmd = [
        sys.executable,
        "-m",
        "harness.load.worker",
        "--mode",
        "worker",
        "--master-host",
        "127.0.0.1",
        "--master-port",
        str(port),
    ]
    if workload.locustfile is not None:
        worker_cmd += ["--locustfile", str(workload.locustfile.path)]
    for i in range(workers):
        procs.append(_spawn(worker_cmd, out_dir / f"generator-worker-{i + 1}.log", stdout_log=True))
    return procs


def _spawn(cmd: list[str], log: Path, *, stdout_log: bool = False) -> subprocess.Popen[str]:
    with log.open("ab") as log_file:
        # Own session: the terminal's Ctrl-C reaches only us; we stop the generator in order.
        proc = subprocess.Popen(
            cmd,
            stdout=log_file if stdout_log else subprocess.PIPE,
            stderr=log_file,
            text=True,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    prioritize(proc.pid)
    # its own session, so no PDEATHSIG reaches its group: the watchdog ends it if we die
    with contextlib.suppress(psutil.Error):
        watchdog.guard("group", proc.pid, create_time=repr(psutil.Process(proc.pid).create_time()))
    return proc


def prioritize(pid: int, nice: int = GENERATOR_NICE, proc_root: Path = Path("/proc")) -> bool:
    """Raise a generator process's priority; False where the machine does not let us.

    The process's own nice is not enough: with autogroup scheduling (Linux's default on
    desktops and many servers) each session is scheduled as one group, and the
    generator has a session of its own, so its nice only ranks it inside that session.
    The session's group gets the same nice (/proc/PID/autogroup).
    """
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except OSError:
        return False  # not root: the self-check still judges the generator's lateness
    with contextlib.suppress(OSError):
        (proc_root / str(pid) / "autogroup").write_text(str(nice))
    return True


def _terminate(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
    watchdog.release("group", proc.pid)


def _count_unaccounted(recorder: Recorder, workload: Workload, seed: int) -> None:
    """Scheduled arrivals no generator reported (a worker died) are missed, not ignored."""
    if workload.locustfile is not None:
        return
    for second, scheduled in enumerate(schedule.offered_per_second(workload, seed)):
        counts = recorder.counts.get(second)
        reported = counts.offered if counts else 0
        if scheduled > reported:
            recorder.missed(second, scheduled - reported)


class _Collector:
    """Reads protocol lines from the local/master process and merges recordings."""

    def __init__(self, out_dir: Path, on_second: OnSecond | None) -> None:
        self.recorder = Recorder()
        self.writes = WritesLog(out_dir / "writes.jsonl")
        self.on_second = on_second
        self.start_at: float | None = None
        self.finished_at: float | None = None
        self.error = ""
        self.problems: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reported = -1
        self._done = False
        self._reader: threading.Thread | None = None

    def follow(
        self, proc: subprocess.Popen[str], workload: Workload, stop: threading.Event | None
    ) -> bool:
        """Until the process says done or exits; True when it finished normally."""
        assert proc.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._reader.start()
        while not self._done:
            if stop is not None and stop.is_set():
                _terminate(proc)
                self.drain(proc, timeout_s=STOP_GRACE_S)
                return False
            overdue = self._overdue(workload)
            if overdue:
                # a worker that hangs, or a master that never learns one is gone, would
                # otherwise keep the run waiting for ever
                self.problems.append(overdue)
                _terminate(proc)
                self.drain(proc, timeout_s=STOP_GRACE_S)
                return False
            try:
                line = self._lines.get(timeout=0.25)
            except queue.Empty:
                self._tick(workload)
                continue
            if line is None:
                break
            self._handle(line)
            self._tick(workload)
        if self.error:
            return False
        if not self._done:
            self.problems.append(f"the generator exited early (exit code {proc.wait()})")
            return False
        self._tick(workload, final=True)
        return True

    def _overdue(self, workload: Workload) -> str:
        """Why the generator is given up on, once it is FINISH_GRACE_S past the longest its
        last request can take after the schedule's end; "" until then."""
        if self.start_at is None:
            return ""
        stop_timeout = workload.locustfile.stop_timeout if workload.locustfile else 0.0
        limit_s = (workload.duration + workload.timeouts.connect + workload.timeouts.read
                   + stop_timeout + FINISH_GRACE_S)
        if time.time() - self.start_at <= limit_s:
            return ""
        return (f"the generator had not finished {limit_s - workload.duration:.0f} s after "
                "its schedule ended (a worker hung or lost without notice); it was stopped "
                "and what it had not reported counts as missed")

    def close(self) -> None:
        """Wait for the reader to see the end of the (exited) process's output."""
        if self._reader is not None:
            self._reader.join(timeout=STOP_GRACE_S)

    def drain(self, proc: subprocess.Popen[str], timeout_s: float) -> None:
        """After a stop: take what the generator still sends until it exits."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.25)
            except queue.Empty:
                if proc.poll() is not None:
                    break
                continue
            if line is None:
                break
            self._handle(line)

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            if line.startswith(PREFIX):
                self._lines.put(line[len(PREFIX) :])
        self._lines.put(None)

    def _handle(self, line: str) -> None:
        message = json.loads(line)
        kind = message["type"]
        if kind == "data":
            wire = message["wire"]
            self.recorder.merge_wire(wire)
            self.writes.extend(wire["writes"])
            self.recorder.writes.clear()  # the log on disk is the record
        elif kind == "started":
            self.start_at = float(message["start_at"])
        elif kind == "problem":
            self.problems.append(message["message"])
        elif kind == "error":
            self.error = message["message"]
            self._done = True
        elif kind == "done":
            self._done = True
            self.finished_at = time.time()

    def _tick(self, workload: Workload, final: bool = False) -> None:
        if self.start_at is None:
            return
        elapsed = time.time() - self.start_at
        last = math.ceil(workload.duration) - 1 if final else int(elapsed - 0.5) - 1
        while self._reported < last:
            self._reported += 1
            # Seconds well past any request timeout get no more data: keep them compact.
            horizon = workload.timeouts.connect + workload.timeouts.read + 2
            self.recorder.compact(int(elapsed - horizon))
            if self.on_second is not None:
                row = self.recorder.second_row(self._reported)
                row["phase"] = schedule.phase_at(workload, self._reported + 0.5)
                row["scheduled_rate"] = schedule.rate_at(workload, self._reported + 0.5)
                self.on_second(row)


def write_results(result: LoadResult) -> None:
    """load-seconds.jsonl (with histograms), load-seconds.csv, load-summary.json.

    Each written atomically (harness.records.files); ResultsError when the folder cannot
    take them.
    """
    out = result.out_dir
    with atomic_open(out / "load-seconds.jsonl") as jsonl, \
            atomic_open(out / "load-seconds.csv", newline="") as table:
        # row by row: an hour's ~70,000 rows held at once took ~40 MB (bench.results_memory)
        writer: csv.DictWriter[str] | None = None
        for row in result.recorder.rows():
            jsonl.write(json.dumps(row, separators=(",", ":")) + "\n")
            if writer is None:
                writer = csv.DictWriter(table, [k for k in row if not k.endswith("_hdr")],
                                        extrasaction="ignore")
                writer.writeheader()
            writer.writerow(row)
        if writer is None:
            csv.DictWriter(table, []).writeheader()
    with atomic_open(out / "load-arrivals.csv", newline="") as f:
        plain = csv.writer(f)
        plain.writerow(
            [
                "second",
                "offered",
                "started",
                "achieved",
                "late",
                "dropped",
                "missed",
                "lag_p99_ms",
                "cpu_pct",
                "cpu_wait_pct",
            ]
        )
        for s in sorted(result.recorder.counts):
            c = result.recorder.counts[s]
            plain.writerow(
                [
                    s,
                    c.offered,
                    c.started,
                    c.achieved,
                    c.late,
                    c.dropped,
                    c.missed,
                    result.recorder.lag_ms(s)[0],
                    c.cpu_pct,
                    c.cpu_wait_pct,
                ]
            )
    atomic_write(out / "load-summary.json", json.dumps(result.summary(), indent=2) + "\n")
