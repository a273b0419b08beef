"""The AWS fault point: a tiny HTTP proxy of ours between the app->aws edge and LocalStack.

LocalStack's own chaos API is a paid feature, so throttling and 5xx answers
for a share of SQS and S3 calls come from here. They have the shape the AWS
SDKs recognise and retry: SQS (JSON protocol) `ThrottlingException` with the
`x-amzn-query-error` header, SQS (query protocol) `Throttling`, S3 `SlowDown`
(503); errors are `InternalError` (500) or `ServiceUnavailable` (503).
Everything else is passed through untouched. The share is set at run time on
`/__harness/faults` (loopback only); `/__harness/stats` counts what happened.

Run as its own process: `python -m harness.stacks.components.awsfault`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the server runs on the standard library alone (also in a container)
    from harness.runtime.base import ComponentSpec

CONTROL = "/__harness/faults"
STATS = "/__harness/stats"
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-connection", "content-length"}


def service_of(headers: Any, body: bytes) -> str:
    """`sqs` for SQS's JSON or query protocol, else `s3` (the stack's only other service)."""
    target = headers.get("X-Amz-Target", "") or ""
    if target.startswith("AmazonSQS."):
        return "sqs"
    ctype = headers.get("Content-Type", "") or ""
    if ctype.startswith("application/x-www-form-urlencoded") and b"Action=" in body:
        return "sqs"
    return "s3"


def error_answer(
    service: str, kind: str, status: int, headers: Any
) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body AWS would send for a throttle or an error."""
    request_id = str(uuid.uuid4())
    if kind == "throttle":
        code = {"sqs": "ThrottlingException", "s3": "SlowDown"}[service]
        status = 503 if service == "s3" else 400
        message = "Please reduce your request rate." if service == "s3" else "Rate exceeded"
    else:
        code = "InternalError" if status == 500 else "ServiceUnavailable"
        message = "harness fault: aws_errors"
    json_protocol = (headers.get("X-Amz-Target", "") or "").startswith("AmazonSQS.")
    out = {"x-amzn-RequestId": request_id}
    if service == "sqs" and json_protocol:
        out |= {"Content-Type": "application/x-amz-json-1.0",
                "x-amzn-query-error": f"{code};{'Sender' if status < 500 else 'Receiver'}"}
        body = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": message}).encode()
    elif service == "sqs":
        if code == "ThrottlingException":
            code = "Throttling"
        out["Content-Type"] = "text/xml"
        body = (
            f"<ErrorResponse><Error><Type>{'Sender' if status < 500 else 'Receiver'}</Type>"
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
    else:
        out["Content-Type"] = "application/xml"
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
    return status, out, body


class FaultState:
    """The shares in force now and the counters, shared by the handler threads."""

    def __init__(self, seed: int) -> None:
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.rules: dict[str, dict[str, Any]] = {}
        self.stats: dict[str, int] = {}

    def decide(self, service: str) -> tuple[str, int] | None:
        with self.lock:
            self.stats[f"{service}.requests"] = self.stats.get(f"{service}.requests", 0) + 1
            for kind in ("throttle", "errors"):
                rule = self.rules.get(kind)
                if not rule or service not in rule.get("services", ()):
                    continue
                if self.rng.random() * 100 < float(rule["percent"]):
                    key = f"{service}.{kind}"
                    self.stats[key] = self.stats.get(key, 0) + 1
                    return kind, int(rule.get("status", 500))
        return None


def make_handler(upstream_port: int, state: FaultState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY: an answer goes out as two writes (headers, then body). With Nagle on,
        # the body waits for the client to ACK the headers, and a client on a kept-alive
        # connection delays that ACK up to 40 ms: +44 ms per AWS call, measured, for the Go
        # service (it keeps its connections) and not for PHP (a new connection per call).
        # A limit of this emulation, not of AWS's endpoints.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per AWS call would drown the log

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline().strip():
                            pass
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _control(self, body: bytes) -> None:
            if self.path.startswith(STATS):
                with state.lock:
                    payload = json.dumps({"rules": state.rules, "stats": state.stats})
                self._send(200, {"Content-Type": "application/json"}, payload.encode())
                return
            if self.command == "POST":
                # one key per fault kind; null switches that kind off, others stay
                rules = json.loads(body or b"{}")
                with state.lock:
                    for kind, rule in rules.items():
                        if rule:
                            state.rules[kind] = rule
                        else:
                            state.rules.pop(kind, None)
            self._send(204, {}, b"")

        def _any(self) -> None:
            body = self._body()
            if self.path.startswith("/__harness/"):
                self._control(body)
                return
            service = service_of(self.headers, body)
            decided = state.decide(service)
            if decided is not None:
                self._send(*error_answer(service, decided[0], decided[1], self.headers))
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                out = {k: v for k, v in resp.getheaders() if k.lower() not in _HOP}
            except OSError as exc:
                self._send(502, {"Content-Type": "text/plain"}, f"aws fault point: {exc}".encode())
                return
            finally:
                conn.close()
            self._send(resp.status, out, data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    return Handler


class _Server(ThreadingHTTPServer):
    # socketserver's listen backlog is 5. PHP opens a new connection for every AWS call,
    # so at a few hundred publishes a second the backlog overflowed, SYNs were dropped and
    # the SDK's calls timed out ("Max duration was reached") with every process idle: a
    # limit of this emulation, not of SQS, and it hit the legacy stack alone (Go keeps its
    # connections). The kernel caps this at net.core.somaxconn.
    request_queue_size = socket.SOMAXCONN


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    server = _Server(
        ("127.0.0.1", args.port), make_handler(args.upstream_port, FaultState(args.seed))
    )
    server.daemon_threads = True
    print(f"aws fault point on 127.0.0.1:{args.port} -> 127.0.0.1:{args.upstream_port}",
          flush=True)
    server.serve_forever()


# -- used by the stack and the aws faults (not by the server process) ------------------------

PORT_FILE = "aws-fault.port"


def spec(*, port: int, upstream_port: int, seed: int) -> ComponentSpec:
    """The fault point as a component of the stack, in front of LocalStack."""
    from harness.runtime.base import ComponentSpec, ProcessSpec
    from harness.runtime.wait import PortOpen

    return ComponentSpec(
        name="aws-fault", kind="faultpoint",
        processes=(ProcessSpec(name="awsfault", argv=(
            sys.executable, "-m", "harness.stacks.components.awsfault", "--port", str(port),
            "--upstream-port", str(upstream_port), "--seed", str(seed),
        )),),
        ready=PortOpen(port), ready_timeout_s=10, stop_grace_s=1,
    )


def set_rules(port: int, rules: dict[str, Any], timeout_s: float = 5) -> None:
    """Set or clear rules: {"throttle": {percent, services}} or {"errors": None} (off)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("POST", CONTROL, body=json.dumps(rules),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    if resp.status != 204:
        raise OSError(f"aws fault point answered HTTP {resp.status}")


def stats(port: int) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", STATS)
        data: dict[str, Any] = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    return data


def read_port(workdir: Path) -> int | None:
    try:
        return int((workdir / PORT_FILE).read_text())
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    main(sys.argv[1:])
