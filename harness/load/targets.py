"""Targets for benchmarking and testing the generator without a stack.

A static nginx (Debian's, in its own prefix) and a small server that stalls
once, to show coordinated omission. Both listen on 127.0.0.1 on ports chosen
at run time, and both stop when their `with` block ends.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.ports import LOOPBACK, PortAllocator
from harness.runtime.process import ProcessRuntime
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
        self._runtime: ProcessRuntime | None = None

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
        self._runtime = ProcessRuntime(
            stack_id=f"nginx-{self.port}", workdir=self.prefix / "run", log_dir=self.prefix
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
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                outer._hold()
                body = b"ok\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.port = PortAllocator().take()
        self._server = ThreadingHTTPServer((LOOPBACK, self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
