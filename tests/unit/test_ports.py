"""Ports are chosen at run time; a busy one is a clear error."""

from __future__ import annotations

import socket

import pytest

from harness.errors import EnvironmentProblem
from harness.runtime.ports import LOOPBACK, PortAllocator, ensure_free, is_listening


def test_ports_are_never_handed_out_twice() -> None:
    ports = PortAllocator()
    taken = [ports.take() for _ in range(50)]
    assert len(set(taken)) == 50
    assert all(1024 < p < 65536 for p in taken)


def test_a_busy_port_is_named_with_what_wanted_it() -> None:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert is_listening(port)
        with pytest.raises(EnvironmentProblem, match=rf"--port: port {port} on 127.0.0.1 is "
                           "already in use; free it or choose another port"):
            PortAllocator().claim(port, "--port")
    ensure_free(port, "--port")  # free again once the listener is gone
    assert not is_listening(port)
