"""Samples a running stack once a second, as CloudWatch's sources would, and runs the alarms.

A plain thread in the harness process (never gevent: the generator lives in its own
processes). Each tick reads:

- per instance/task: CPU (psutil over its processes and their children, as % of its vCPU
  size) and memory (its cgroup, else the processes' RSS), and whether it runs;
- the group: running and desired count;
- the load balancer: healthy/unhealthy registered targets (HAProxy's runtime API) and,
  from its request log (HAProxy `option httplog`, one line per request), requests per
  target, target and LB 5xx, and each request's target response time (Tc + Tr);
- with a reader: its replication lag (`SHOW SLAVE STATUS`, Seconds_Behind_Master).

Samples go to metrics.jsonl as they are taken; the alarms are evaluated on them at once
and each state change is an `alarm.state_change` event. A source that cannot be read in
a tick gives no sample (missing data, as in CloudWatch), never a made-up value.

Beside the samples, harness.stacks.parts_watch watches the harness's own parts
(LocalStack, its fault point, Toxiproxy, the RDS Proxy stand-in) for deaths and hangs;
the metrics thread or that watch dying is a `harness.part_stopped` event of the
collector itself. The analysis (harness.analysis.parts) counts nothing after it against
the architecture.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pymysql

from harness.errors import FaultError
from harness.metrics.alarms import AlarmEngine
from harness.model.alarmdef import AlarmDef
from harness.model.components import declare
from harness.records.events import StackEvent
from harness.records.samples import MetricsLog, Sample
from harness.runtime.events import EventLog
from harness.stacks.components.haproxy import HaproxyAdmin
from harness.stacks.parts_watch import PartsWatch, probe_urls
from harness.stacks.stack import Stack

#: `public app/app-1 0/0/1/3/4 200 ` -> backend/server, TR/Tw/Tc/Tr/Ta, status
_LOG_LINE = re.compile(
    r" \S+ [^/\s]+/(\S+) (-?\d+)/(-?\d+)/(-?\d+)/(-?\d+)/\+?(-?\d+) (\d{3}) ")
_NO_SERVER = "<NOSRV>"
#: the name the collector itself has in a `harness.part_stopped` event and the verdict
COLLECTOR_PART = "the metrics collector"


class LbLogTail:
    """Reads the load balancer's request log from where it stood when the tail began."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pos = path.stat().st_size if path.exists() else 0
        self._partial = ""

    def lines(self) -> list[str]:
        if not self.path.exists():
            return []
        with self.path.open("r", errors="replace") as fh:
            fh.seek(self._pos)
            chunk = fh.read()
            self._pos = fh.tell()
        text = self._partial + chunk
        *complete, self._partial = text.split("\n")
        return complete


def lb_samples(t_s: float, lines: list[str]) -> list[Sample]:
    """Per-request LB metrics of one tick from its httplog lines (pure)."""
    per_target: dict[str, int] = {}
    target_5xx = elb_5xx = 0
    times: list[float] = []
    for line in lines:
        m = _LOG_LINE.search(line)
        if m is None:
            continue
        server, tc, tr, status = m.group(1), int(m.group(4)), int(m.group(5)), int(m.group(7))
        answered = server != _NO_SERVER and tr >= 0
        if server != _NO_SERVER:
            per_target[server] = per_target.get(server, 0) + 1
        if answered:
            times.append((max(tc, 0) + tr) / 1000)
        if 500 <= status <= 599:
            if answered:
                target_5xx += 1
            else:
                elb_5xx += 1
    out = [Sample(t_s, "RequestCount", float(n), member=s) for s, n in sorted(per_target.items())]
    # counts without anything counted have no datapoint, as ELB publishes none
    if target_5xx:
        out.append(Sample(t_s, "HTTPCode_Target_5XX_Count", float(target_5xx)))
    if elb_5xx:
        out.append(Sample(t_s, "HTTPCode_ELB_5XX_Count", float(elb_5xx)))
    if times:
        out.append(Sample(t_s, "TargetResponseTime", values=tuple(times)))
    return out


class _CpuMeter:
    """CPU seconds of a set of processes between ticks, robust to processes coming and going."""

    def __init__(self) -> None:
        self._last: dict[tuple[int, float], float] = {}
        self._at: float | None = None

    def percent_of(self, procs: list[psutil.Process], now: float, cpus: float) -> float | None:
        used = 0.0
        seen: dict[tuple[int, float], float] = {}
        for p in procs:
            with contextlib.suppress(psutil.Error):
                key = (p.pid, p.create_time())
                times = p.cpu_times()
                total = times.user + times.system
                seen[key] = total
                before = self._last.get(key)
                if before is not None:
                    used += total - before
                elif self._at is not None and key[1] >= self._at:
                    used += total  # born since the last tick: all its CPU is new
        at, self._at, self._last = self._at, now, seen
        if at is None or now <= at:
            return None
        return 100 * used / (now - at) / cpus


class Collector:
    """The metrics thread of one architecture's run. Use as a context manager."""

    def __init__(self, stack: Stack, log: MetricsLog, events: EventLog,
                 alarms: list[AlarmDef], *, interval_s: float = 1.0) -> None:
        self.stack = stack
        self.log = log
        self.events = events
        self.engine = AlarmEngine(alarms)
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="metrics", daemon=True)
        self._parts: PartsWatch | None = None
        self._cpu: dict[str, _CpuMeter] = {}
        self._lb_log: LbLogTail | None = None
        self._failed: set[str] = set()
        self._ticked_s: float | None = None

    def __enter__(self) -> Collector:
        assert self.stack.runtime is not None
        self._lb_log = LbLogTail(self.stack.runtime.log_path("lb"))
        # the log keeps in memory only what its live readers read (issue #24): the alarms
        # and target tracking; metrics.jsonl keeps every sample
        lookback = self.engine.lookback_s()
        if self.stack.scaling is not None:
            lookback = max(lookback, self.stack.scaling.lookback_s())
        self.log.keep_for(lookback)
        if self.stack.scaling is not None:
            self.stack.scaling.watch(self.log)  # target tracking reads these samples
        parts = declare(self.stack.profile).harness_parts()
        self._parts = PartsWatch(self.stack.runtime, parts, self.events,
                                 urls=probe_urls(self.stack.info, parts))
        self._thread.start()
        self._parts.start(lambda exc: self._died(exc, None))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        if self._parts is not None:
            self._parts.stop()

    def _loop(self) -> None:
        try:
            while True:
                t = self.events.elapsed()
                self.tick(t)
                self._ticked_s = t
                # ticks on whole multiples of the interval from the clock's start: no drift
                wait = self.interval_s - (self.events.elapsed() % self.interval_s)
                if self._stop.wait(wait):
                    return
        except Exception as exc:
            # no samples and no alarms from here on: the run is not measured as it says
            self._died(exc, self._ticked_s)

    def _died(self, exc: Exception, alive_s: float | None) -> None:
        now = self.events.elapsed()
        self.events.emit(StackEvent.PART_STOPPED, component="collector",
                         component_kind="collector", part=COLLECTOR_PART,
                         alive_s=round(now if alive_s is None else alive_s, 6),
                         error=f"{type(exc).__name__}: {exc}")

    def tick(self, t_s: float) -> None:
        """Sample every source at t_s, record, evaluate the alarms up to t_s."""
        samples: list[Sample] = []
        for name, source in (("members", self._members), ("lb", self._lb),
                             ("replica", self._replica)):
            try:
                samples += list(source(t_s))
            except Exception as exc:  # one source failing must not stop the others
                if name not in self._failed:
                    self._failed.add(name)
                    self.events.emit(StackEvent.METRICS_SOURCE_FAILED, source=name,
                                     error=f"{type(exc).__name__}: {exc}")
        self.log.add(samples)
        if self.stack.scaling is not None:
            self._capacity(samples)
        for change in self.engine.advance(self.log.snapshot(), t_s):
            self.events.emit(StackEvent.ALARM_STATE_CHANGE, alarm=change.alarm, old=change.old,
                             new=change.new, at_s=change.at_s, reason=change.reason)

    def _capacity(self, samples: list[Sample]) -> None:
        """The group's capacity this tick, as an event (harness.analysis.scaling reads it)."""
        assert self.stack.scaling is not None
        cpu = [s.value for s in samples if s.metric == "CPUUtilization" and s.value is not None]
        desired, launching, in_service = self.stack.scaling.counts()
        self.events.emit(StackEvent.SCALING_CAPACITY, desired=desired, launching=launching,
                         in_service=in_service,
                         cpu_sum_pct=round(sum(cpu), 3) if cpu else None)

    def _members(self, t_s: float) -> Iterator[Sample]:
        rt, profile = self.stack.runtime, self.stack.profile
        assert rt is not None
        size = profile.app.size
        running = 0
        # the members now: auto scaling adds and removes some during the run
        for app in self.stack.info.apps():
            up = rt.is_running(app)
            running += up
            yield Sample(t_s, "StatusCheckFailed", 0.0 if up else 1.0, member=app)
            if not up:
                self._cpu.pop(app, None)
                continue
            procs = _processes(rt.pids(app))
            cpu = self._cpu.setdefault(app, _CpuMeter()).percent_of(
                procs, t_s, size.cpus.value)
            if cpu is not None:
                yield Sample(t_s, "CPUUtilization", round(cpu, 3), member=app)
            used = rt.memory_usage_bytes(app)
            if used is None:
                used = sum(_rss(p) for p in procs)
            yield Sample(t_s, "MemoryUtilization",
                         round(100 * used / (size.memory_mb.value * 2**20), 3), member=app)
        yield Sample(t_s, "RunningTaskCount", float(running))
        if self.stack.scaling is None:
            yield Sample(t_s, "DesiredTaskCount", float(len(profile.app_names)))
            return
        desired, launching, in_service = self.stack.scaling.counts()
        yield Sample(t_s, "DesiredTaskCount", float(desired))
        yield Sample(t_s, "LaunchingCount", float(launching))
        yield Sample(t_s, "InServiceCount", float(in_service))

    def _lb(self, t_s: float) -> Iterator[Sample]:
        assert self._lb_log is not None
        yield from lb_samples(t_s, self._lb_log.lines())
        try:
            states = HaproxyAdmin(self.stack.info.haproxy_socket, timeout_s=0.5).server_states()
        except FaultError:
            return  # the LB did not answer: no host counts this tick
        registered = [r for r in states.values() if r.get("srv_admin_state") == "0"]
        healthy = sum(1 for r in registered if r.get("srv_op_state") == "2")
        unhealthy = sum(1 for r in registered if r.get("srv_op_state") == "0")
        yield Sample(t_s, "HealthyHostCount", float(healthy))
        yield Sample(t_s, "UnHealthyHostCount", float(unhealthy))

    def _replica(self, t_s: float) -> Iterator[Sample]:
        port = self.stack.info.db_reader_port
        if not self.stack.profile.has_reader or port is None:
            return
        try:
            conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password="",
                                   connect_timeout=0.5, read_timeout=0.5,
                                   cursorclass=pymysql.cursors.DictCursor)
        except pymysql.MySQLError:
            return  # the reader is down: no datapoint
        with contextlib.closing(conn), conn.cursor() as cur:
            cur.execute("SHOW SLAVE STATUS")
            row = cur.fetchone()
        lag = row.get("Seconds_Behind_Master") if row else None
        if lag is not None:  # None: not replicating (promoted, or broken)
            yield Sample(t_s, "ReplicaLag", float(lag) * 1000)


def _processes(pids: list[int]) -> list[psutil.Process]:
    procs: list[psutil.Process] = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            p = psutil.Process(pid)
            procs += [p, *p.children(recursive=True)]
    return procs


def _rss(p: psutil.Process) -> int:
    try:
        return int(p.memory_info().rss)
    except psutil.Error:
        return 0
