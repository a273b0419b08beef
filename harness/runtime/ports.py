"""Ports chosen at run time on 127.0.0.1."""

from __future__ import annotations

import errno
import socket

from harness.errors import EnvironmentProblem

LOOPBACK = "127.0.0.1"


class PortAllocator:
    """Hands out free loopback ports, never the same one twice in one stack.

    The kernel picks each port (bind to port 0), so two stacks on one machine do
    not collide; the port is released at once and the component binds it a
    moment later, a race the kernel's ephemeral-port rotation makes rare.
    """

    def __init__(self) -> None:
        self._given: set[int] = set()

    def take(self) -> int:
        """Return a port that is free now and not handed out before."""
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind((LOOPBACK, 0))
                port = int(sock.getsockname()[1])
            if port not in self._given:
                self._given.add(port)
                return port
        raise EnvironmentProblem("could not find a free port on 127.0.0.1 after 100 tries")

    def claim(self, port: int, what: str) -> int:
        """Check that a port the user asked for is free, and reserve it."""
        ensure_free(port, what)
        self._given.add(port)
        return port


def ensure_free(port: int, what: str) -> None:
    """Raise a clear error when `port` on 127.0.0.1 is already taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise EnvironmentProblem(
                    f"{what}: port {port} on {LOOPBACK} is already in use; "
                    "free it or choose another port"
                ) from None
            raise EnvironmentProblem(f"{what}: cannot bind {LOOPBACK}:{port}: {exc}") from None


def is_listening(port: int, host: str = LOOPBACK, timeout_s: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False
