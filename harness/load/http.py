"""The open model's HTTP client: geventhttpclient's pooled HTTPClient, without Locust's session.

Locust's FastHttpSession wraps the same HTTPClient in a UserAgent that builds a
request object, runs a cookie jar, parses the URL, merges headers and fills a
request-event dict on every request: half of its CPU per request (bench notes:
76 µs against 37 µs on this machine). The open model needs none of it: every
arrival is a new user (one cookie jar shared by all would be wrong anyway), the
URL is the target's, and the recorder records. What stays the same is what
the target sees and what a failure looks like: one keep-alive connection pool
of the concurrency cap, the client's own retry of a reused connection that the
server had closed, no other retries, and the socket error itself on failure.
No redirects are followed: a 3xx counts as an answer (ok), as any status < 400.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gevent
from geventhttpclient import HTTPClient

_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


@dataclass(slots=True)
class Answer:
    """What one request got: a status and body, or the error that stopped it (status 0)."""

    status: int
    body: bytes = b""
    error: BaseException | None = None

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """Requests against one target (scheme://host:port), at most `concurrency` connections."""

    def __init__(
        self, target: str, *, concurrency: int, connect_timeout: float, read_timeout: float
    ) -> None:
        self._http = HTTPClient.from_url(
            target,
            concurrency=concurrency,
            connection_timeout=connect_timeout,
            network_timeout=read_timeout,
            insecure=True,  # as Locust's FastHttpSession: load tests run against test certs
        )

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        """Send, read the whole answer (so the connection can be reused), never raise."""
        try:
            if body is None:
                response = self._http.request(method, path)
            else:
                payload = json.dumps(body, separators=(",", ":")).encode()
                response = self._http.request(method, path, body=payload, headers=_JSON_HEADERS)
            try:
                return Answer(response.status_code, response.read())
            finally:
                response.release()
        # every failure is a measurement, classified by the caller; gevent.Timeout is a
        # BaseException, and a GreenletExit (a kill at the end of the run) still ends the journey
        except (Exception, gevent.Timeout) as exc:
            return Answer(0, error=exc)

    def close(self) -> None:
        self._http.close()
