"""Readiness checks: composable wait strategies with a timeout and a poll interval.

Modelled on testcontainers' wait strategies: a strategy answers "ready yet?"
with None (yes) or a short reason (no); `wait_ready` polls it until the
deadline and raises an error naming the component, its address and the tail of
its log.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import requests

from harness.errors import StackError
from harness.runtime.ports import LOOPBACK, is_listening


class WaitStrategy(Protocol):
    """Something that can tell whether a component is ready."""

    def check(self) -> str | None:
        """Return None when ready, else a short reason why not."""

    def describe(self) -> str:
        """Where it looks, e.g. `http://127.0.0.1:8080/ready`."""


@dataclass(frozen=True)
class PortOpen:
    """Ready when the TCP port accepts connections."""

    port: int
    host: str = LOOPBACK

    def check(self) -> str | None:
        return None if is_listening(self.port, self.host) else "port not open"

    def describe(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class HttpOk:
    """Ready when GET url answers 200 (and, optionally, the body contains `contains`)."""

    url: str
    contains: str | None = None

    def check(self) -> str | None:
        try:
            resp = requests.get(self.url, timeout=1.0)
        except requests.RequestException as exc:
            return type(exc).__name__
        if resp.status_code != 200:
            return f"HTTP {resp.status_code}"
        if self.contains is not None and self.contains not in resp.text:
            return f"answer lacks {self.contains!r}"
        return None

    def describe(self) -> str:
        return self.url


@dataclass(frozen=True)
class SocketOpen:
    """Ready when the Unix socket at `path` accepts connections."""

    path: Path

    def check(self) -> str | None:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1.0)
                sock.connect(str(self.path))
        except OSError as exc:
            return f"socket not open ({exc.strerror or type(exc).__name__})"
        return None

    def describe(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class AllOf:
    """Ready when every one of `strategies` is, checked in order."""

    strategies: tuple[WaitStrategy, ...]

    def check(self) -> str | None:
        for strategy in self.strategies:
            reason = strategy.check()
            if reason is not None:
                return f"{strategy.describe()}: {reason}"
        return None

    def describe(self) -> str:
        return " and ".join(s.describe() for s in self.strategies)


def log_tail(path: Path | None, lines: int = 15) -> str:
    """The last lines of a log file, or an empty string if there is none."""
    if path is None or not path.exists():
        return ""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 16384))
        text = fh.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


#: lines of a component's log quoted in a start error (run.json keeps only the message)
QUOTED_LINES = 10
#: characters of them at most, the latest kept: the error stays one readable line
QUOTED_CHARS = 1200
#: the line a runtime writes to a component's log before each start (process.py)
_START_MARK = re.compile(r"^--- \S+ starting ")


def last_lines(path: Path | None, lines: int = QUOTED_LINES) -> str:
    """The last non-empty lines the component wrote since its latest start, joined by ` | `.

    For a one-line error: a team debugging its own app sees why it died in the message
    (and so in run.json and the report), not only in the log file.
    """
    tail = log_tail(path, lines=200).splitlines()
    starts = [i for i, line in enumerate(tail) if _START_MARK.match(line)]
    since = tail[starts[-1] + 1:] if starts else tail
    kept = [line.strip() for line in since if line.strip()][-lines:]
    text = " | ".join(kept)
    return text if len(text) <= QUOTED_CHARS else "..." + text[-QUOTED_CHARS:]


def describe_exit(code: int | None) -> str:
    """`exit code 3`, `killed by signal 9` (a Popen's negative returncode), or unknown."""
    if code is None:
        return "exit code unknown"
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"


def wait_ready(
    component: str,
    strategy: WaitStrategy,
    *,
    timeout_s: float,
    alive: Callable[[], bool] = lambda: True,
    log: Path | None = None,
    poll_s: float = 0.1,
    exit_code: Callable[[], int | None] | None = None,
) -> float:
    """Poll until ready; return the seconds it took. Fail fast if the process died.

    The error names the component, how it exited (`exit_code`, where the runtime can
    tell) and quotes its last log lines.
    """
    start = time.monotonic()
    deadline = start + timeout_s
    reason: str | None = "not checked yet"
    while True:
        reason = strategy.check()
        if reason is None:
            return time.monotonic() - start
        if not alive():
            how = f"{describe_exit(exit_code())}, " if exit_code is not None else ""
            raise StackError(
                f"{component} exited before it was ready ({how}checked on "
                f"{strategy.describe()}){_quoted(log)}" + (f"; see {log}" if log else ""),
                log_tail=log_tail(log),
            )
        if time.monotonic() >= deadline:
            raise StackError(
                f"{component} was not ready on {strategy.describe()} within {timeout_s:g} s "
                f"(last check: {reason}){_quoted(log)}" + (f"; see {log}" if log else ""),
                log_tail=log_tail(log),
            )
        time.sleep(poll_s)


def _quoted(log: Path | None) -> str:
    if log is None:
        return ""
    lines = last_lines(log)
    return f"; its last log lines: {lines}" if lines else "; it logged nothing"
