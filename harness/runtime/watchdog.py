"""A watchdog per harness process: what the harness started dies with it, however it dies.

PDEATHSIG takes a component's leader down with the harness, but not the leader's
workers (nginx's, php-fpm's), nor a child forked an instant before the harness died.
So, like testcontainers' Ryuk, a harness process that starts anything first starts
`python -m harness.runtime.watchdog`: in a session of its own (a terminal's Ctrl-C
and a signal to the harness's process group do not reach it; it ignores SIGINT,
SIGTERM and SIGHUP anyway), reading a pipe whose only write end the harness holds.
The harness tells it, one JSON line each, what to clean if it dies (`guard`) and what
it has cleaned itself (`release`):

- `stack`: a process-runtime stack's work dir: its recorded process groups, its
  cgroups (`cgroup.kill` on v2, every PID of `cgroup.procs` on v1) and any process
  carrying its id or work dir (registry.kill_stack); then the work dir;
- `docker`: a docker run: the host processes of its stack (registry.kill_stack), its
  containers, networks and volumes (by their run label), then its work dir;
- `group`: a process group of its own (the load generator);
- `results`: a results folder in progress, whose `INCOMPLETE` then says
  `ended: owner pid N gone, found at <time> (...): killed without warning ...`
  (harness.records.marker); `most likely by the kernel's OOM killer` when the owner's
  memory cgroup counted an OOM kill as it died (read here while the owner ran).

The kernel closes the pipe when the harness dies, SIGKILL included: at end of file the
watchdog cleans what is still guarded and exits; it also polls the owner once a second,
in case a forked child holds the pipe open. A harness that ends normally has released
everything, so its watchdog exits at once. Were the watchdog itself killed, the next
harness command cleans up instead (registry.reap_stale, registry.reap_runs).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

import harness
from harness.records.marker import mark_owner_gone
from harness.runtime import cgroups, registry

#: the kinds of thing a watchdog cleans, in the order it cleans them: the load first
#: (no request reaches a dying stack), the results folder last (its marker names the rest)
KINDS = ("group", "stack", "docker", "results")
#: how often the watchdog checks that its owner still runs, besides the pipe
_POLL_S = 1.0


class _Client:
    """The harness side: the watchdog process and the write end of its pipe."""

    def __init__(self) -> None:
        me = psutil.Process()
        read_end, self._write_end = os.pipe()  # neither end is inherited by other children
        # the harness package this process runs, wherever it was imported from
        root = str(Path(harness.__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
        try:
            # it forks again and this child exits: the watchdog is nobody's child here,
            # so no process tree of the harness lists it and no zombie of it remains
            subprocess.run(
                [sys.executable, "-m", "harness.runtime.watchdog",
                 str(me.pid), repr(me.create_time())],
                stdin=read_end, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, cwd="/", env=env, check=False, timeout=30,
            )
        finally:
            os.close(read_end)
        self.pid = me.pid
        self._lock = threading.Lock()

    def send(self, op: str, kind: str, key: str, extra: dict[str, str]) -> None:
        line = json.dumps({"op": op, "kind": kind, "key": key, **extra}) + "\n"
        # a watchdog that died cannot be told; the next harness command cleans up
        with self._lock, contextlib.suppress(OSError):
            if self._write_end >= 0:  # closed at exit: its number may be another file's now
                os.write(self._write_end, line.encode())

    def close(self) -> None:
        """At exit: the watchdog sees end of file and cleans what is still guarded."""
        with self._lock, contextlib.suppress(OSError):
            fd, self._write_end = self._write_end, -1
            os.close(fd)


_client: _Client | None = None
_client_lock = threading.Lock()


def _the_client() -> _Client | None:
    """This process's watchdog, started on first use; None in a forked child."""
    global _client
    with _client_lock:
        if _client is None:
            _client = _Client()
            atexit.register(_client.close)
        return _client if _client.pid == os.getpid() else None


def guard(kind: str, key: str | int | Path, **extra: str) -> None:
    """Have the watchdog clean `key` (a work dir, run id, PID, folder) if this harness dies."""
    client = _the_client()
    if client is not None:
        client.send("add", kind, str(key), extra)


def release(kind: str, key: str | int | Path) -> None:
    """This harness has cleaned `key` itself: the watchdog may forget it."""
    client = _client
    if client is not None and client.pid == os.getpid():
        client.send("remove", kind, str(key), {})


@contextlib.contextmanager
def guarding_results(state_dir: Path, results: Path) -> Iterator[None]:
    """While in progress, the results folder is noted on disk and guarded by the watchdog."""
    note = registry.note_run(state_dir, results)
    guard("results", results, note=str(note))
    try:
        yield
    finally:
        registry.forget_run(state_dir, results)
        release("results", results)


# -- the watchdog process ------------------------------------------------------------


def watch(owner_pid: int, owner_start: float, fd: int = 0, oom: cgroups.OomKills | None = None
          ) -> dict[tuple[str, str], dict[str, str]]:
    """Read the owner's messages until it is gone; return what is still guarded.

    `oom`, the owner's memory cgroup's OOM kill count, is read about once a second
    while the owner is seen alive, busy pipe or not.
    """
    held: dict[tuple[str, str], dict[str, str]] = {}
    pending = b""
    looked = time.monotonic()
    while True:
        ready, _, _ = select.select([fd], [], [], _POLL_S)
        if not ready or time.monotonic() - looked >= _POLL_S:
            looked = time.monotonic()
            if not registry.same_process(owner_pid, owner_start):
                break
            if oom is not None:
                oom.sample()
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                msg = json.loads(line)
                key = (str(msg.pop("kind")), str(msg.pop("key")))
                if msg.pop("op") == "add":
                    held[key] = {str(k): str(v) for k, v in msg.items()}
                else:
                    held.pop(key, None)
    if held:
        # the pipe closed at the owner's exit with something still guarded: the owner is
        # on its way out; act once it is gone
        deadline = time.monotonic() + 30
        while registry.same_process(owner_pid, owner_start) and time.monotonic() < deadline:
            time.sleep(0.05)
    return held


def clean(held: dict[tuple[str, str], dict[str, str]], owner_pid: int, *, oom: str = ""
          ) -> list[str]:
    """Clean what a dead owner left, in KINDS order; return one line per thing cleaned.

    `oom` (OomKills.rose) says the owner's memory cgroup counted an OOM kill as it died.
    """
    done: list[str] = []
    for kind in KINDS:
        for (k, key), extra in held.items():
            if k != kind:
                continue
            try:
                done.append(_clean_one(kind, key, extra, owner_pid, done, oom=oom))
            except Exception as exc:  # one failure must not keep the rest alive
                done.append(f"{kind} {key}: {type(exc).__name__}: {exc}")
    return done


def _clean_one(kind: str, key: str, extra: dict[str, str], owner_pid: int,
               done: list[str], *, oom: str = "") -> str:
    if kind == "group":
        pid, start = int(key), float(extra.get("create_time", "0"))
        if registry.same_process(pid, start):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        return f"process group {pid}"
    if kind == "stack":
        workdir = Path(key)
        stack_id = extra.get("stack_id", workdir.name)
        killed = registry.kill_stack(workdir, stack_id)
        registry.remove_stack(workdir, stack_id)
        return f"stack {stack_id}: {killed} processes"
    if kind == "docker":
        return _clean_docker_run(key, extra.get("workdir"))
    if kind == "results":
        detail = "its watchdog killed: " + ", ".join(done) if done else ""
        mark_owner_gone(Path(key), owner_pid, detail, oom=oom)
        if extra.get("note"):
            Path(extra["note"]).unlink(missing_ok=True)
        return f"results {key}"
    return f"{kind} {key}: unknown kind"


def _clean_docker_run(run_id: str, workdir: str | None) -> str:
    """A docker run's host processes, then its containers, then its work dir.

    The stack's start runs programs on the host too (mariadb-install-db fills a datadir
    in the work dir): left alive, one rewrites the work dir after it was removed. So
    they die first (registry.kill_stack, as for a process-runtime stack; it takes any
    container process naming the work dir with them), and the work dir goes last,
    whatever became of the containers.
    """
    stack = Path(workdir) if workdir else None
    killed = registry.kill_stack(stack, run_id) if stack is not None else 0
    try:
        return f"docker run {run_id}: {killed} processes, {_remove_containers(run_id)}"
    finally:
        if stack is not None:
            registry.remove_stack(stack, run_id)


def _remove_containers(run_id: str) -> str:
    from harness.runtime import docker_engine  # only a docker run needs its client

    client = docker_engine.reachable()
    if client is None:
        return "no engine answers"
    try:
        return f"{docker_engine.remove_run(client, run_id)} objects"
    finally:
        client.close()


def main(argv: list[str]) -> int:
    """`python -m harness.runtime.watchdog OWNER_PID OWNER_START`, the pipe on stdin."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    if os.fork():
        os._exit(0)  # the harness waits for this one; the watchdog goes on in the fork
    owner_pid, owner_start = int(argv[0]), float(argv[1])
    # read now, while the owner lives: its cgroup is known from /proc only until it dies
    oom = cgroups.OomKills(owner_pid)
    held = watch(owner_pid, owner_start, oom=oom)
    if held:
        clean(held, owner_pid, oom=oom.rose())
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
