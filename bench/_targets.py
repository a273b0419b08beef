"""Targets for benchmarking and testing the generator without a stack.

A static nginx (Debian's, in its own prefix), a small server that stalls once,
and a one-worker queue that stalls once, to show coordinated omission: its
answers wait behind one another, so the latency of every request is known
from the schedule alone (`QueueServer.expected_latencies_s`). All listen on
127.0.0.1 on ports chosen at run time, and stop when their `with` block ends.
"""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from harness.runtime.base import ComponentSpec, ProcessSpec, Runtime
from harness.runtime.ports import LOOPBACK, PortAllocator
from harness.runtime.select import make_runtime
from harness.runtime.wait import PortOpen

_NGINX_CONF = """\
worker_processes {workers};
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 4096; }}
http {{
  log_format harness '$status $request_time $request_method $request_uri';
  access_log {access_log};
  client_body_temp_path {prefix}/tmp; proxy_temp_path {prefix}/tmp;
  fastcgi_temp_path {prefix}/tmp; uwsgi_temp_path {prefix}/tmp; scgi_temp_path {prefix}/tmp;
  split_clients "$request_id" $mixed_fail {{ 20% "yes"; * ""; }}
  server {{
    listen {host}:{port};
    keepalive_requests 1000000;
    location / {{ return 200 "ok\\n"; }}
    # nginx's own count of the requests it handled: a benchmark's generator-neutral counter
    location = /nginx_status {{ stub_status; access_log off; }}
    location /missing {{ return 404 "missing\\n"; }}
    location /mixed {{
      if ($mixed_fail) {{ return 503 "unavailable\\n"; }}
      return 200 "mixed\\n";
    }}
  }}
}}
"""


class StaticNginx:
    """Debian's nginx answering fixed bodies: `/` 200, `/missing` 404, `/mixed` 20 % 503."""

    def __init__(self, *, workers: int = 1, access_log: bool = True) -> None:
        self.workers = workers
        self.access_log = access_log
        self.port = 0
        self.prefix = Path()
        self._runtime: Runtime | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def access_log_path(self) -> Path:
        return self.prefix / "access.log"

    def __enter__(self) -> StaticNginx:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.prefix = Path(tempfile.mkdtemp(prefix="harness-nginx-"))
        (self.prefix / "tmp").mkdir()
        self.port = PortAllocator().take()
        log = f"{self.access_log_path} harness" if self.access_log else "off"
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            _NGINX_CONF.format(
                workers=self.workers,
                prefix=self.prefix,
                access_log=log,
                host=LOOPBACK,
                port=self.port,
            )
        )
        # the stacks' own process runtime: readiness with a timeout, log tail on failure,
        # the whole process group stopped at the end
        self._runtime = make_runtime(
            "process", stack_id=f"nginx-{self.port}", workdir=self.prefix / "run",
            log_dir=self.prefix,
        )
        error_log = str(self.prefix / "error.log")
        argv = (nginx, "-p", str(self.prefix), "-c", str(conf), "-e", error_log)
        try:
            self._runtime.start(ComponentSpec(
                name="nginx", kind="nginx", processes=(ProcessSpec("nginx", argv),),
                ready=PortOpen(self.port), ready_timeout_s=10,
            ))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
        shutil.rmtree(self.prefix, ignore_errors=True)

    def served(self) -> int:
        """Requests nginx has handled since it started (stub_status), this query included."""
        with urllib.request.urlopen(f"{self.url}/nginx_status", timeout=5) as answer:
            # "Active connections: N\nserver accepts handled requests\n A H R\n..."
            return int(answer.read().decode().splitlines()[2].split()[2])

    def logged(self) -> list[tuple[int, float, str]]:
        """(status, request time s, path) of every request nginx logged."""
        result = []
        for line in self.access_log_path.read_text().splitlines():
            status, took, _method, path = line.split(" ", 3)
            result.append((int(status), float(took), path))
        return result


def _serve_ok(before_answer: Callable[[], None]) -> tuple[ThreadingHTTPServer, int]:
    """A threaded HTTP server on a free loopback port that answers every GET with 200 "ok",
    after `before_answer()` has returned (where a test target waits)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            before_answer()
            body = b"ok\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    port = PortAllocator().take()
    server = ThreadingHTTPServer((LOOPBACK, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port


def _close(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


class StallServer:
    """Answers at once, except that every request in [stall_at, stall_at + stall_for) waits
    until the stall ends: a 'stop the world' pause, once, counted from the first request."""

    def __init__(self, *, stall_at_s: float, stall_for_s: float) -> None:
        self.stall_at_s = stall_at_s
        self.stall_for_s = stall_for_s
        self.port = 0
        self.first: float | None = None
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def _hold(self) -> None:
        now = time.monotonic()
        with self._lock:
            self.requests += 1
            if self.first is None:
                self.first = now
            start = self.first + self.stall_at_s
        end = start + self.stall_for_s
        if start <= now < end:
            time.sleep(end - now)

    def __enter__(self) -> StallServer:
        self._server, self.port = _serve_ok(self._hold)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _close(self._server)


@dataclass(frozen=True)
class Served:
    """One request as the queue server saw it (time.monotonic() seconds)."""

    received: float
    started: float
    done: float


class QueueServer:
    """One worker, a fixed service time, FIFO: a request waits for every one before it.

    The worker stalls once, from `stall_at_s` after the first request for `stall_for_s`
    (a GC pause, a lock): requests that arrive meanwhile queue up, and after it the
    backlog drains at 1/service_s. An open-model client that sends on schedule sees
    each request's wait; a closed-model one sends nothing while it waits, so no queue
    forms and only one of its requests sees the stall.
    """

    def __init__(self, *, service_s: float, stall_at_s: float, stall_for_s: float) -> None:
        self.service_s = service_s
        self.stall_at_s = stall_at_s
        self.stall_for_s = stall_for_s
        self.port = 0
        self.first: float | None = None
        self.served: list[Served] = []
        self._jobs: queue.Queue[tuple[float, threading.Event] | None] = queue.Queue()
        self._server: ThreadingHTTPServer | None = None
        self._worker: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def expected_latencies_s(self, offsets_s: Sequence[float]) -> list[float]:
        """Each request's latency from its scheduled offset, for a client that sends on time.

        The same model the worker follows: a request starts when it has arrived and the
        one before it is done; a start inside the stall waits for the stall's end.
        """
        if not offsets_s:
            return []
        stall_start = offsets_s[0] + self.stall_at_s
        stall_end = stall_start + self.stall_for_s
        free = 0.0
        latencies = []
        for arrived in offsets_s:
            start = max(arrived, free)
            if stall_start <= start < stall_end:
                start = stall_end
            free = start + self.service_s
            latencies.append(free - arrived)
        return latencies

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            received, finished = job
            now = time.monotonic()
            assert self.first is not None
            stall_start = self.first + self.stall_at_s
            stall_end = stall_start + self.stall_for_s
            if stall_start <= now < stall_end:
                time.sleep(stall_end - now)
            started = time.monotonic()
            time.sleep(self.service_s)
            self.served.append(Served(received, started, time.monotonic()))
            finished.set()

    def _enqueue(self) -> None:
        received = time.monotonic()
        if self.first is None:
            self.first = received
        finished = threading.Event()
        self._jobs.put((received, finished))
        finished.wait()

    def __enter__(self) -> QueueServer:
        # one thread per connection only reads and queues; the single worker answers
        self._worker = threading.Thread(target=self._work, name="queue-worker", daemon=True)
        self._worker.start()
        self._server, self.port = _serve_ok(self._enqueue)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._jobs.put(None)
        _close(self._server)
