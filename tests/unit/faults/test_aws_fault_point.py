"""The AWS fault point: which service a call is for, and answers in the shape SDKs retry."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from harness.stacks.components import awsfault


def test_sqs_is_recognised_in_both_protocols() -> None:
    assert awsfault.service_of({"X-Amz-Target": "AmazonSQS.SendMessage"}, b"{}") == "sqs"
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    assert awsfault.service_of(form, b"Action=SendMessage&QueueUrl=x") == "sqs"
    assert awsfault.service_of({"Content-Type": "application/json"}, b"{}") == "s3"


def test_throttling_answers_carry_the_codes_sdks_retry_on() -> None:
    status, headers, body = awsfault.error_answer(
        "sqs", "throttle", 500, {"X-Amz-Target": "AmazonSQS.SendMessage"}
    )
    assert status == 400
    assert headers["x-amzn-query-error"].startswith("ThrottlingException;")
    assert json.loads(body)["__type"].endswith("#ThrottlingException")
    status, _, body = awsfault.error_answer("sqs", "throttle", 500, {})
    assert (status, b"<Code>Throttling</Code>" in body) == (400, True)
    status, _, body = awsfault.error_answer("s3", "throttle", 500, {})
    assert (status, b"<Code>SlowDown</Code>" in body) == (503, True)
    status, _, body = awsfault.error_answer("s3", "errors", 500, {})
    assert (status, b"<Code>InternalError</Code>" in body) == (500, True)


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(server: ThreadingHTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def point() -> Iterator[int]:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    for up_port in _serve(upstream):
        handler = awsfault.make_handler(up_port, awsfault.FaultState(seed=3))
        yield from _serve(ThreadingHTTPServer(("127.0.0.1", 0), handler))


def test_a_share_of_calls_is_throttled_and_the_rest_passes_through(point: int) -> None:
    url = f"http://127.0.0.1:{point}/"
    sqs = {"X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0"}
    awsfault.set_rules(point, {"throttle": {"percent": 50, "services": ["sqs"]}})
    statuses = [requests.post(url, data=b"{}", headers=sqs, timeout=5).status_code
                for _ in range(200)]
    assert 60 <= statuses.count(400) <= 140, statuses.count(400)
    assert statuses.count(400) + statuses.count(200) == 200
    # S3 is not in the rule's services
    assert requests.post(url, data=b"x", timeout=5).text == "x"
    awsfault.set_rules(point, {"throttle": None})
    assert requests.post(url, data=b"{}", headers=sqs, timeout=5).status_code == 200
    stats = awsfault.stats(point)
    assert stats["rules"] == {}
    assert stats["stats"]["sqs.throttle"] == statuses.count(400)
