"""The AWS fault point answers without Nagle's delay on kept-alive connections.

Its answers go out as two writes (headers, then body). With Nagle on, the body waited
for the client's ACK of the headers, which a client on a kept-alive connection delays
up to 40 ms: +44 ms per AWS call for the Go service, which keeps its connections, and
nothing for PHP, which opens one per call. An emulation artefact against one side.
"""

from __future__ import annotations

import http.client
import socket
import threading

from harness.stacks.components.awsfault import FaultState, _Server, make_handler


def test_answers_go_out_on_a_socket_with_nagle_off() -> None:
    seen: list[int] = []
    base = make_handler(upstream_port=9, state=FaultState(1))  # port 9: never reached

    class Recording(base):  # type: ignore[misc, valid-type]
        def handle(self) -> None:
            seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            super().handle()

    server = _Server(("127.0.0.1", 0), Recording)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        conn.request("GET", "/__harness/stats")  # answered by the fault point itself
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
    assert seen, "the fault point handled no connection"
    assert all(seen), "TCP_NODELAY is off on the fault point's connections"
