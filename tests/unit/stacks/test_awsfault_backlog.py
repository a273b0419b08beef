"""The AWS fault point takes a burst of new connections, as the SQS endpoint would.

PHP opens a new connection for every AWS call. With socketserver's backlog of 5, a
burst beyond it had its SYNs dropped and the legacy stack's publishes timed out with
every process idle: an emulation limit that hit one architecture only.
"""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler

from harness.stacks.components.awsfault import _Server

BURST = 64


def test_a_burst_of_new_connections_is_queued_not_dropped() -> None:
    # the server never accepts here: every connection must wait in its listen queue
    server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    clients: list[socket.socket] = []
    refused = 0
    try:
        for _ in range(BURST):
            sock = socket.socket()
            sock.settimeout(0.5)
            clients.append(sock)
            try:
                sock.connect(("127.0.0.1", port))
            except OSError:
                refused += 1
    finally:
        for sock in clients:
            sock.close()
        server.server_close()
    assert refused == 0, f"{refused} of {BURST} connections were not queued"
