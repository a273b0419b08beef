"""The rehearsal's live view: how far along the whole run is, and what is happening now.

On a terminal it is a Rich Live display, redrawn twice a second:

    ━━━━━━━━━━━━╸━━━━━━━━━━━━━━━━━━━  blackfriday  38%  elapsed 2:17 · total ~6:02 · ~3:45 left
    modern (2 of 2) · load, phase peak · 0:41 of 3:00
    offered 69/s  achieved 69/s  p95 4.7 ms  errors 3 (0.4%)
    faults: slow-db on app->db, 0:12 left · next: db-failover on db-writer in 0:40
       +38.0s  fault kill-app (kill) applied on app-1
       +41.2s  ECS: app-1 back in service, replaced in 3.1 s

Off a terminal (`--ci`, a pipe, a log file) it is plain text: one status line
every few seconds and one line per orchestrator or fault event as it happens,
never a cursor movement or a colour code.

The total is an estimate ("~"): the load, lead-in and drain are known from the
scenario; starting a stack and tearing it down are not, so the first
architecture uses START_ESTIMATE_S and later ones what the earlier ones took.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from harness.deploys.text import event_line as deploy_line
from harness.faults.executor import Planned
from harness.records.classify import ERROR_CLASSES
from harness.records.events import FaultEvent, OrchestratorEvent, Source, StackEvent

#: a guess for starting and seeding a stack, until one architecture has shown the real time
START_ESTIMATE_S = 12.0
#: a guess for checking invariants and tearing a stack down
END_ESTIMATE_S = 3.0
#: off a terminal, a status line this often
PLAIN_EVERY_S = 5.0
#: orchestrator and fault events kept on screen
EVENTS_SHOWN = 5

Clock = Callable[[], float]


@dataclass(frozen=True)
class FaultNow:
    """A fault as the view shows it: active (with time left) or the next one to come."""

    name: str
    targets: list[str] = field(default_factory=list)
    #: seconds until it is reverted; None: until the end of the run (or instant)
    left_s: float | None = None
    #: set for the next fault not yet applied: seconds until it starts
    starts_in_s: float | None = None


@dataclass
class _Arch:
    name: str
    started: float
    stage: str = "starting the stack"
    stage_started: float = 0.0
    load_t0: float | None = None
    finished: float | None = None


def clock_text(seconds: float) -> str:
    """0:41, 12:05, 1:02:03."""
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def event_text(event: dict[str, Any]) -> str | None:
    """An orchestrator action, a fault or a harness part's stop as one short sentence;
    None for other events."""
    kind = str(event.get("kind", ""))
    who = str(event.get("component", ""))
    if kind.startswith(Source.ORCHESTRATOR):
        orch = {"ecs": "ECS", "asg": "ASG", "aurora": "Aurora",
                "autoscaling": "Auto Scaling"}.get(
            str(event.get("orchestrator", "")), str(event.get("orchestrator", "")))
        text = f"{kind.removeprefix(Source.ORCHESTRATOR).replace('_', ' ')} {who}"
        with contextlib.suppress(KeyError, ValueError, TypeError):  # a field it did not carry
            text = _PHRASES[kind].format(who=who, **event)
        if event.get("error"):
            text += f": {event['error']}"
        return f"{orch}: {text.strip()}"
    if kind.startswith(Source.DEPLOY):
        return deploy_line(event)
    if kind in _FAULT_STEPS:
        targets = ", ".join(str(t) for t in event.get("targets") or []) or event.get("target")
        verb = kind.removeprefix(Source.FAULT).replace("_", " ")
        text = f"fault {event.get('fault')} ({event.get('type')}) {verb} on {targets}"
        return text + (f": {event['error']}" if event.get("error") else "")
    if kind == StackEvent.PART_STOPPED:
        # the verdict's "not measurable after N s" is decided after the run (analysis.parts)
        how = f"stopped answering ({event['hang']})" if event.get("hang") else "stopped"
        text = (f"{event.get('part') or who} {how} with no fault asking for it: "
                "the run is invalid, and nothing from here is the architecture's")
        return text + (f" ({event['error']})" if event.get("error") else "")
    return None


#: the fault steps the view shows
_FAULT_STEPS = frozenset({FaultEvent.APPLIED, FaultEvent.REVERTED, FaultEvent.APPLY_FAILED,
                          FaultEvent.REVERT_FAILED})

#: an orchestrator event as a sentence (any other: its kind's words and the component)
_PHRASES: dict[str, str] = {
    OrchestratorEvent.TASK_STOPPED: "task {who} stopped",
    OrchestratorEvent.TARGET_DEREGISTERED: "deregistered {who} from the target group",
    OrchestratorEvent.TASK_IN_SERVICE:
        "{who} back in service, replaced in {replaced_after_s:.1f} s",
    OrchestratorEvent.TASK_UNHEALTHY: "{who} failed {failed_checks} health checks",
    OrchestratorEvent.INSTANCE_TERMINATING: "terminating {who} ({reason})",
    OrchestratorEvent.INSTANCE_LAUNCHING: "launching a new instance for {who}",
    OrchestratorEvent.INSTANCE_LAUNCHED: "launched {who}",
    OrchestratorEvent.INSTANCE_OUT_OF_SERVICE: "{who} out of service",
    OrchestratorEvent.INSTANCE_IN_SERVICE: "{who} in service",
    OrchestratorEvent.READER_RESTARTING: "restarting {who} to promote it",
    OrchestratorEvent.READER_PROMOTED: "promoted {who} to writer",
    OrchestratorEvent.READER_ENDPOINT_TO_WRITER: "reader endpoint now the writer {who}",
    OrchestratorEvent.WRITER_DOWN: "writer {who} is down",
    OrchestratorEvent.WRITER_ENDPOINT_MOVED: "writer endpoint now {who}",
    OrchestratorEvent.SCALING_DESIRED_CHANGED: "desired {old} -> {new} ({cause})",
    OrchestratorEvent.SCALING_LAUNCHING: "launching {who} (desired {desired})",
    OrchestratorEvent.SCALING_REGISTERED: "{who} registered with the load balancer",
    OrchestratorEvent.SCALING_IN_SERVICE:
        "{who} in service, {since_desired_s:.1f} s after it was asked for",
    OrchestratorEvent.SCALING_TERMINATING: "terminating {who} (desired {desired})",
    OrchestratorEvent.SCALING_TERMINATED: "{who} terminated",
}


class RunView:
    """Follows a rehearsal (architectures, stages, seconds, faults, events) and shows it.

    `with view:` starts the display; on a terminal (`console.is_terminal` and
    `live`) a Rich Live, otherwise plain lines through `say`. All methods are
    safe from any thread (the load's collector, the fault executor, orchestrators).
    """

    def __init__(self, archs: list[str], *, load_s: float, drain_s: float, lead_in_s: float,
                 say: Callable[[str], None], console: Console | None = None,
                 live: bool = True, title: str = "", clock: Clock = time.monotonic) -> None:
        self.archs = archs
        self.title = title
        self.load_s, self.drain_s, self.lead_in_s = load_s, drain_s, lead_in_s
        self._say = say
        self.console = console or Console(stderr=True)
        self.live = live and self.console.is_terminal
        self.clock = clock
        self.started = clock()
        self._lock = threading.RLock()
        self._done: list[_Arch] = []
        self._current: _Arch | None = None
        self._row: dict[str, Any] | None = None
        self._faults: Callable[[], list[FaultNow]] = list
        self._events: deque[str] = deque(maxlen=EVENTS_SHOWN)
        self._display: Live | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # -- what the rehearsal tells it ---------------------------------------------------

    def arch(self, name: str) -> None:
        """An architecture starts (its stack is being started)."""
        with self._lock:
            self._finish_arch()
            now = self.clock()
            self._current = _Arch(name, started=now, stage_started=now)
            self._row = None
            self._faults = list
            self._events.clear()

    def stage(self, stage: str, *, load_t0: float | None = None) -> None:
        """The current architecture moves on: "load" (with its clock), "draining", ..."""
        with self._lock:
            if self._current is None:
                return
            self._current.stage = stage
            self._current.stage_started = self.clock()
            if load_t0 is not None:
                self._current.load_t0 = load_t0

    def watch_faults(self, faults: Callable[[], list[FaultNow]]) -> None:
        with self._lock:
            self._faults = faults

    def second(self, row: dict[str, Any]) -> None:
        """run_load's on_second: the last complete second of the load."""
        with self._lock:
            self._row = row

    def event(self, event: dict[str, Any]) -> None:
        """EventLog's echo: keep orchestrator and fault events; print them off a terminal."""
        text = event_text(event)
        if text is None:
            return
        line = f"{float(event.get('t_s', 0.0)):+7.1f}s  {text}"
        with self._lock:
            self._events.append(line)
            arch = self._current.name if self._current else ""
        if not self.live:
            self._say(f"{arch}: {line.strip()}")

    def say(self, line: str) -> None:
        """A status line from the rehearsal, above the live display when there is one."""
        if self._display is not None:
            self.console.print(line, markup=False, highlight=False)
        else:
            self._say(line)

    # -- time --------------------------------------------------------------------------

    def _arch_estimate(self) -> float:
        """Seconds one architecture takes start to finish: measured ones, else a guess."""
        took = [a.finished - a.started for a in self._done if a.finished is not None]
        if took:
            return sum(took) / len(took)
        return START_ESTIMATE_S + self.lead_in_s + self.load_s + self.drain_s + END_ESTIMATE_S

    def _start_estimate(self) -> float:
        """Seconds from starting a stack to the load's first second."""
        took = [a.load_t0 - a.started for a in self._done if a.load_t0 is not None]
        return sum(took) / len(took) if took else START_ESTIMATE_S + self.lead_in_s

    def _left_in_current(self, now: float) -> float:
        a = self._current
        if a is None:
            return 0.0
        in_stage = now - a.stage_started
        after_load = self.drain_s + END_ESTIMATE_S
        if a.load_t0 is None:  # still starting the stack
            return max(0.0, self._start_estimate() - in_stage) + self.load_s + after_load
        if a.stage == "load":
            return max(0.0, self.load_s - max(0.0, now - a.load_t0)) + after_load
        if a.stage == "draining":
            return max(0.0, self.drain_s - in_stage) + END_ESTIMATE_S
        return max(0.0, END_ESTIMATE_S - in_stage)

    def times(self) -> tuple[float, float, float]:
        """(elapsed, estimated total, estimated time left), in seconds."""
        with self._lock:
            now = self.clock()
            elapsed = now - self.started
            started = len(self._done) + (self._current is not None)
            left = self._left_in_current(now) + (len(self.archs) - started) * self._arch_estimate()
            return elapsed, elapsed + left, left

    # -- what it shows -----------------------------------------------------------------

    def lines(self) -> list[str]:
        """The view as plain lines: overall, architecture and stage, load, faults."""
        elapsed, total, left = self.times()
        share = elapsed / total * 100 if total else 0.0
        title = f"{self.title}  " if self.title else ""
        out = [f"{title}{share:3.0f}%  elapsed {clock_text(elapsed)} · "
               f"total ~{clock_text(total)} · ~{clock_text(left)} left"]
        with self._lock:
            a, row = self._current, self._row
            faults = self._faults() if a is not None else []
            now = self.clock()
        if a is None:
            return out
        k = self.archs.index(a.name) + 1 if a.name in self.archs else len(self._done) + 1
        where = f"{a.name} ({k} of {len(self.archs)}) · {a.stage}"
        if a.stage == "load" and a.load_t0 is not None:
            phase = (row or {}).get("phase")
            where += (f", phase {phase}" if phase else "") + (
                f" · {clock_text(now - a.load_t0)} of {clock_text(self.load_s)}")
        out.append(where)
        if row is not None and a.stage == "load":
            out.append(_load_text(row))
        if faults:
            out.append("faults: " + " · ".join(_fault_text(f) for f in faults))
        return out

    def plain_line(self) -> str:
        """The status line printed every few seconds off a terminal."""
        return " | ".join(self.lines()).replace(" · ", ", ")  # ASCII for any CI log

    def _render(self) -> Group:
        elapsed, total, _left = self.times()
        head, *rest = self.lines()
        bar = Table.grid(padding=(0, 2))
        bar.add_row(ProgressBar(total=max(total, 1e-9), completed=elapsed, width=40),
                    Text(head))
        with self._lock:
            events = list(self._events)
        return Group(bar, *(Text(line) for line in rest),
                     *(Text("  " + e, style="dim") for e in events))

    # -- display -----------------------------------------------------------------------

    def __enter__(self) -> RunView:
        if self.live:
            self._display = Live(console=self.console, get_renderable=self._render,
                                 refresh_per_second=2, transient=True)
            self._display.__enter__()
        else:
            self._ticker = threading.Thread(target=self._tick, name="live-view", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._display is not None:
            display, self._display = self._display, None
            display.__exit__(None, None, None)
        if self._ticker is not None:
            self._ticker.join(timeout=2)

    def _tick(self) -> None:
        while not self._stop.wait(PLAIN_EVERY_S):
            with self._lock:
                active = self._current is not None
            if active:
                self._say(self.plain_line())

    def _finish_arch(self) -> None:
        if self._current is not None:
            self._current.finished = self.clock()
            self._done.append(self._current)
            self._current = None

    def finish_arch(self) -> None:
        """The current architecture is torn down."""
        with self._lock:
            self._finish_arch()


def _load_text(row: dict[str, Any]) -> str:
    errors = sum(int(row.get(c, 0)) for c in ERROR_CLASSES)
    requests = errors + int(row.get("ok", 0))
    p95 = f"{row['p95']:.1f} ms" if requests else "—"
    share = f" ({errors / requests * 100:.1f}%)" if requests else ""
    text = (f"offered {row.get('offered', 0)}/s  achieved {row.get('achieved', 0)}/s  "
            f"p95 {p95}  errors {errors}{share}")
    if row.get("dropped"):
        text += f"  dropped {row['dropped']}"
    return text


def _fault_text(f: FaultNow) -> str:
    on = f" on {', '.join(f.targets)}" if f.targets else ""
    if f.starts_in_s is not None:
        return f"next: {f.name}{on} in {clock_text(f.starts_in_s)}"
    left = "until the end" if f.left_s is None else f"{clock_text(f.left_s)} left"
    return f"{f.name}{on}, {left}"


def fault_states(planned: Sequence[Planned], elapsed_s: float) -> list[FaultNow]:
    """Active faults with their time left, then the next one to come."""
    shown = [FaultNow(p.name, list(p.fault.targets),
                      None if p.end_s is None else max(0.0, p.end_s - elapsed_s))
             for p in planned if p.applied and not p.reverted]
    coming = sorted((p for p in planned if not p.applied and not p.reverted
                     and p.start_s > elapsed_s), key=lambda p: p.start_s)
    if coming:
        p = coming[0]
        shown.append(FaultNow(p.name, list(p.fault.targets), starts_in_s=p.start_s - elapsed_s))
    return shown
