"""Ports chosen at run time on 127.0.0.1."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import stat
from pathlib import Path
from types import TracebackType

from harness.errors import EnvironmentProblem

LOOPBACK = "127.0.0.1"

#: where every harness process of this user notes the ports it has handed out
RESERVATIONS = Path("/tmp") / f"harness-ports-{os.getuid()}"


class PortAllocator:
    """Hands out free loopback ports that no other harness process holds; a context manager.

    The kernel picks each port (bind to port 0) at random among its free ephemeral
    ports, and the port is released at once: the component binds it a moment later
    (LocalStack several seconds later), and a database restarted after a failover
    binds its old port again. Another harness on the machine (CI runs jobs side by
    side, `make test` two rehearsals at once) could be handed the same port in such a
    gap, and one of the two stacks then fails to start. So each port handed out is
    also reserved, by an flock on a file named by the port in a folder every harness
    process of this user shares, until `close()`: a port reserved elsewhere is
    skipped. flock, as the kernel releases it when its holder dies. Programs other
    than harness do not look: one of them handed the same port by the kernel in the
    gap is left to chance, as before.
    """

    def __init__(self, folder: Path = RESERVATIONS) -> None:
        self._given: set[int] = set()
        self._held: dict[int, int] = {}
        self._folder = _own_folder(folder)

    def take(self) -> int:
        """Return a port that is free now, not handed out before and reserved for us."""
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind((LOOPBACK, 0))
                port = int(sock.getsockname()[1])
            if port not in self._given and self._reserve(port):
                self._given.add(port)
                return port
        raise EnvironmentProblem("could not find a free port on 127.0.0.1 after 100 tries")

    def claim(self, port: int, what: str) -> int:
        """Check that a port the user asked for is free, and reserve it."""
        ensure_free(port, what)
        if not self._reserve(port):
            raise EnvironmentProblem(
                f"{what}: port {port} on {LOOPBACK} is held by another harness run; "
                "choose another port")
        self._given.add(port)
        return port

    def close(self) -> None:
        """Release every reservation (the components are stopped, or bound theirs)."""
        for port, fd in self._held.items():
            # removed while still locked: whoever opened the file before cannot use it
            # (its lock lands on a removed file, which _reserve checks)
            with contextlib.suppress(OSError):
                os.unlink(self._path(port))
            os.close(fd)
        self._held.clear()

    def __enter__(self) -> PortAllocator:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        # `PortAllocator().take()` for a port used at once: released as it is dropped
        with contextlib.suppress(Exception):  # at interpreter exit, os may be gone
            self.close()

    def _path(self, port: int) -> Path:
        assert self._folder is not None
        return self._folder / str(port)

    def _reserve(self, port: int) -> bool:
        """Lock the port's file; False when another allocator holds it."""
        if self._folder is None:
            return True  # no shared folder: the kernel's check alone, as before
        path = self._path(port)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # its holder may have released and removed the file between our open and lock
            if os.stat(path, follow_symlinks=False).st_ino != os.fstat(fd).st_ino:
                raise BlockingIOError
        except OSError:  # BlockingIOError: held; FileNotFoundError: removed meanwhile
            os.close(fd)
            return False
        self._held[port] = fd
        return True


def _own_folder(folder: Path) -> Path | None:
    """The reservations folder, made if missing; None where it is not safely ours."""
    with contextlib.suppress(OSError):  # there already, or not ours to make
        folder.mkdir(mode=0o700)
    try:
        info = os.lstat(folder)
    except OSError:
        return None
    # someone else's folder in /tmp (or a link to one) must not decide our ports
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return None
    return folder


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
