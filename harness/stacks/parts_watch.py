"""Watches the harness's own parts during a run: one that dies or hangs is not the architecture's.

The parts (LocalStack, its fault point, Toxiproxy, the RDS Proxy stand-in:
model.components.HARNESS_PARTS) are looked at four times a second, in a thread of the
harness process beside the metrics collector:

- dead: the runtime says it no longer runs;
- held still: the runtime's `stop_state` (a SIGSTOPped process, a frozen cgroup, a paused
  container) seen at two looks at least HOLD_S apart, so a blink does not count;
- silent: each part's own endpoint (LocalStack `/_localstack/health`, Toxiproxy
  `/version`, the RDS Proxy stand-in's `/stats`; the AWS fault point has only its TCP
  port and is not probed) is asked once a second; an answer of any HTTP status is alive.
  It is hung after SILENCE_S with no answer AND MISSES failed attempts in a row: a busy
  machine answers late, a hung part never does. Real seconds, not the scenario's
  time_scale: the same on both architectures.

The first such stop of a part that no scenario fault aimed at (`fault.applying` naming it
in `targets`: a kill, a pause, a squeeze) is one `harness.part_stopped` event, with the
last time it was seen alive (`alive_s`), and for a hang `hang` (what was seen) and
`since_s` (when it began). harness.analysis.parts counts nothing after it against the
architecture.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests

from harness.model.components import HARNESS_PARTS, ComponentDecl
from harness.records.events import FaultEvent, StackEvent
from harness.runtime.base import Runtime
from harness.runtime.events import EventLog
from harness.stacks.topology import StackInfo

#: how often the parts are looked at: a death is placed within this
CHECK_EVERY_S = 0.25
#: a stop (state T, a frozen cgroup) counts once it lasted this long
HOLD_S = 1.0
#: each probed part's endpoint is asked this often ...
PROBE_EVERY_S = 1.0
#: ... waiting this long for an answer (a slow answer is still an answer)
PROBE_TIMEOUT_S = 5.0
#: hung: no answer for this long ...
SILENCE_S = 15.0
#: ... and this many failed attempts in a row
MISSES = 3
#: what a silent part's `hang` says
SILENT = f"no answer for {SILENCE_S:g} s"

#: the path each probed kind answers on, and the StackInfo field with its base URL
PROBES: dict[str, tuple[str, str]] = {
    "localstack": ("aws_endpoint", "/_localstack/health"),
    "toxiproxy": ("toxiproxy_api", "/version"),
    "rdsproxy": ("db_proxy_admin", "/stats"),
}


def probe_urls(info: StackInfo, parts: list[ComponentDecl]) -> dict[str, str]:
    """The URL to probe of each part that has one, by component name."""
    urls = {}
    for part in parts:
        field, path = PROBES.get(part.kind, (None, ""))
        base = getattr(info, field) if field else None
        if base:
            urls[part.name] = f"{str(base).rstrip('/')}{path}"
    return urls


def http_answers(url: str, timeout_s: float) -> bool:
    """True when `url` answers at all (any HTTP status), False when it does not in time."""
    try:
        requests.get(url, timeout=timeout_s)
    except requests.RequestException:
        return False
    return True


class StopHold:
    """A stop state that counts once seen at two looks at least `hold_s` apart, unbroken."""

    def __init__(self, hold_s: float = HOLD_S) -> None:
        self.hold_s = hold_s
        self._first: tuple[float, str] | None = None

    def see(self, state: str | None, t_s: float) -> tuple[str, float] | None:
        """Note one look; once the stop has held: (what it is, when it was first seen)."""
        if state is None:
            self._first = None
            return None
        if self._first is None:
            self._first = (t_s, state)
        first_s, first_state = self._first
        return (first_state, first_s) if t_s - first_s >= self.hold_s else None


class Silence:
    """The answers of one part's probes: hung after `silence_s` without one and `misses`
    failed attempts in a row."""

    def __init__(self, start_s: float, *, silence_s: float = SILENCE_S,
                 misses: int = MISSES) -> None:
        self.silence_s = silence_s
        self.misses = misses
        #: when the last answered attempt was sent (the part was alive then) and answered
        self.alive_s = self.answered_s = start_s
        self.failed = 0
        #: when the first failed attempt since the last answer was sent
        self.since_s: float | None = None
        #: the longest an answer took (what a busy machine makes of the probes)
        self.worst_answer_s = 0.0
        self._lock = threading.Lock()

    def answered(self, sent_s: float, got_s: float) -> None:
        with self._lock:
            self.alive_s, self.answered_s = max(self.alive_s, sent_s), got_s
            self.failed, self.since_s = 0, None
            self.worst_answer_s = max(self.worst_answer_s, got_s - sent_s)

    def missed(self, sent_s: float) -> None:
        with self._lock:
            self.failed += 1
            if self.since_s is None:
                self.since_s = sent_s

    def hung(self, now_s: float) -> tuple[float, float] | None:
        """(last alive, hung since) once the rule holds, else None."""
        with self._lock:
            if self.failed < self.misses or now_s - self.answered_s < self.silence_s:
                return None
            return self.alive_s, self.since_s if self.since_s is not None else self.alive_s


@dataclass(frozen=True)
class _Stop:
    hang: str | None
    alive_s: float
    since_s: float | None = None


class PartsWatch:
    """Notes the first death or hang of each harness part that no scenario fault asked for.

    `check` looks once (tests call it with a fake runtime and clock); `start` runs it
    every CHECK_EVERY_S and the probes once a second in threads until `stop`.
    """

    def __init__(self, runtime: Runtime, parts: list[ComponentDecl], events: EventLog, *,
                 urls: Mapping[str, str] | None = None,
                 clock: Callable[[], float] | None = None,
                 answers: Callable[[str, float], bool] = http_answers) -> None:
        self.runtime = runtime
        started = set(runtime.components())
        self.parts = [p for p in parts if p.name in started]
        self.events = events
        self.clock = clock or events.elapsed
        self.answers = answers
        now = self.clock()
        self.urls = {n: u for n, u in (urls or {}).items() if n in started}
        self.silence = {name: Silence(now) for name in self.urls}
        self._alive_s = {p.name: now for p in self.parts}
        self._holds = {p.name: StopHold() for p in self.parts}
        self._stopped: set[str] = set()
        self._quit = threading.Event()
        self._threads: list[threading.Thread] = []

    def check(self) -> None:
        now = self.clock()
        for part in self.parts:
            if part.name in self._stopped:
                continue
            stop = self._stop_of(part.name, now)
            if stop is None:
                continue
            self._stopped.add(part.name)
            if not self._faulted(part.name):
                self._emit(part, stop)

    def _stop_of(self, name: str, now: float) -> _Stop | None:
        if not self.runtime.is_running(name):
            return _Stop(None, self._alive_s[name])
        state = self.runtime.stop_state(name)
        held = self._holds[name].see(state, now)
        if held is not None:
            return _Stop(held[0], self._alive_s[name], held[1])
        if state is None:
            self._alive_s[name] = now
        silence = self.silence.get(name)
        hung = silence.hung(now) if silence is not None else None
        if hung is not None:
            return _Stop(SILENT, min(hung[0], self._alive_s[name]), hung[1])
        return None

    def _emit(self, part: ComponentDecl, stop: _Stop) -> None:
        fields: dict[str, object] = {}
        if stop.hang is not None:
            fields = {"hang": stop.hang, "since_s": round(stop.since_s or stop.alive_s, 6)}
        self.events.emit(StackEvent.PART_STOPPED, component=part.name,
                         component_kind=part.kind, part=HARNESS_PARTS[part.kind],
                         alive_s=round(stop.alive_s, 6), **fields)

    def _faulted(self, name: str) -> bool:
        return any(name in (e.get("targets") or ())
                   for e in self.events.of_kind(FaultEvent.APPLYING))

    # -- threads -------------------------------------------------------------------

    def start(self, on_error: Callable[[Exception], None]) -> None:
        """Look every CHECK_EVERY_S and probe once a second; `on_error` if the looking fails."""
        self._threads = [threading.Thread(target=self._watch, args=(on_error,),
                                          name="parts-watch", daemon=True)]
        self._threads += [threading.Thread(target=self._probe, args=(name,),
                                           name=f"parts-probe-{name}", daemon=True)
                          for name in self.urls]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """End the looking; a probe waiting on a hung part is not waited for (a daemon
        thread that ends with its request, recording nothing anyone reads)."""
        self._quit.set()
        for thread in self._threads[:1]:
            thread.join(10)

    def _watch(self, on_error: Callable[[Exception], None]) -> None:
        try:
            while not self._quit.wait(CHECK_EVERY_S):
                self.check()
        except Exception as exc:
            on_error(exc)

    def _probe(self, name: str) -> None:
        url, silence = self.urls[name], self.silence[name]
        wait = PROBE_EVERY_S
        while not self._quit.wait(wait):
            sent = self.clock()
            if self.answers(url, PROBE_TIMEOUT_S):
                silence.answered(sent, self.clock())
            else:
                silence.missed(sent)
            # once a second from the last attempt's start; a slow one is followed at once
            wait = max(0.0, PROBE_EVERY_S - (self.clock() - sent))
