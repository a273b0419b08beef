"""What a run exposes: sockets listening beyond loopback, secrets written to its results.

The project's rule is that everything listens on 127.0.0.1; these helpers let a test
watch a whole run for listeners (a component that binds 0.0.0.0 for a moment counts)
and look through its results folder for the stacks' passwords and keys.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import psutil

from harness.stacks.components import localstack, mariadb
from tests.support.processes import processes_under

#: every secret a stack hands its parts (the database root user has no password)
STACK_SECRETS = (mariadb.APP_PASSWORD, localstack.SECRET_ACCESS_KEY)


@dataclass(frozen=True, order=True)
class Listener:
    """A listening socket and the process holding it."""

    address: str
    port: int
    #: "tcp" or "udp"
    protocol: str
    process: str
    pid: int
    #: its command line, shortened: enough to tell which component it is
    command: str

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.protocol} {host}:{self.port} {self.process}[{self.pid}] {self.command}"


#: the kernel's socket tables (of this process's network namespace, which the stacks share)
_TABLES = {"tcp": socket.AF_INET, "tcp6": socket.AF_INET6,
           "udp": socket.AF_INET, "udp6": socket.AF_INET6}
#: the `st` column: TCP_LISTEN for TCP; TCP_CLOSE is an unconnected (receiving) UDP socket
_LISTENING = {"tcp": "0A", "udp": "07"}


def _address(hex_address: str, family: int) -> tuple[str, int]:
    """`0100007F:1F90` -> ("127.0.0.1", 8080): each 32-bit word in host (little-endian) order."""
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(family, raw), int(port, 16)


def listening_sockets() -> dict[int, tuple[str, str, int]]:
    """Socket inode -> (protocol, address, port) of every listening socket: the TCP ones in
    LISTEN and the bound, unconnected UDP ones.

    Read from /proc/net once: psutil's per-process `net_connections` parses these tables
    again for every process (~15 ms each), too slow to sample a run's processes at 5 Hz.
    """
    found: dict[int, tuple[str, str, int]] = {}
    for table, family in _TABLES.items():
        protocol = table.rstrip("6")
        with contextlib.suppress(FileNotFoundError):  # no IPv6
            lines = Path("/proc/net", table).read_text().splitlines()[1:]
            for line in lines:
                fields = line.split()
                if fields[3] != _LISTENING[protocol]:
                    continue
                address, port = _address(fields[1], family)
                if port:
                    found[int(fields[9])] = (protocol, address, port)
    return found


def listeners_of(procs: Iterable[psutil.Process]) -> set[Listener]:
    """The listening sockets (`listening_sockets`) that `procs` hold open."""
    sockets = listening_sockets()
    found: set[Listener] = set()
    for proc in procs:
        try:
            held = [sockets[inode] for inode in _socket_inodes(proc.pid) if inode in sockets]
            if held:
                name, command = proc.name(), " ".join(proc.cmdline())[:160]
        except (OSError, psutil.Error):  # gone, or not ours to look at
            continue
        found |= {Listener(address, port, protocol, name, proc.pid, command)
                  for protocol, address, port in held}
    return found


def _socket_inodes(pid: int) -> list[int]:
    """The inodes of the sockets process `pid` has open (from its /proc/<pid>/fd links)."""
    inodes = []
    fds = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(fds):
        with contextlib.suppress(OSError):  # closed meanwhile
            target = os.readlink(fds / fd)
            if target.startswith("socket:["):
                inodes.append(int(target[8:-1]))
    return inodes


def beyond_loopback(listeners: Iterable[Listener]) -> list[Listener]:
    """Those of `listeners` reachable from another machine: bound to anything but loopback
    (127.0.0.0/8, ::1, ::ffff:127.x); 0.0.0.0 and :: are every interface."""
    def loopback(address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return ip.ipv4_mapped.is_loopback
        return ip.is_loopback

    return sorted(item for item in listeners if not loopback(item.address))


class ListenerWatch:
    """Samples, in a thread, the listening sockets of a run's processes while it goes.

    The processes are those descended from `pid`, those whose command line or working
    directory points into `workdir` (and theirs), and those `roots()` names at each
    sample (and theirs; e.g. containers' main processes). Use as a context manager
    around the run; `listeners` holds everything seen, `samples` how many looks it took.
    """

    def __init__(self, *, pid: int | None = None, workdir: Path | None = None,
                 roots: Callable[[], Iterable[int]] | None = None,
                 interval_s: float = 0.2) -> None:
        if pid is None and workdir is None and roots is None:
            raise ValueError("ListenerWatch needs a pid, a workdir or roots to watch")
        self.pid = pid
        self.workdir = workdir
        self.roots = roots
        self.interval_s = interval_s
        #: every listener seen in any sample
        self.listeners: set[Listener] = set()
        self.samples = 0
        #: what ended the sampling early, raised on leaving the `with` block
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="listener-watch", daemon=True)

    def processes(self) -> list[psutil.Process]:
        """The watched processes as of now."""
        tops: list[psutil.Process] = []
        pids = [] if self.pid is None else [self.pid]
        if self.roots is not None:
            pids.extend(self.roots())
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                tops.append(psutil.Process(pid))
        if self.workdir is not None:
            tops.extend(processes_under(self.workdir))
        found: dict[int, psutil.Process] = {}
        for top in tops:
            found[top.pid] = top
            with contextlib.suppress(psutil.Error):
                found |= {child.pid: child for child in top.children(recursive=True)}
        return list(found.values())

    def sample(self) -> set[Listener]:
        """One look: the watched processes' listeners now (also added to `listeners`)."""
        now = listeners_of(self.processes())
        self.listeners |= now
        self.samples += 1
        return now

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                self.sample()
                self._stop.wait(self.interval_s)
        except BaseException as exc:  # a watch that died must not pass as "nothing seen"
            self.error = exc

    def __enter__(self) -> ListenerWatch:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self.error is not None and exc is None:
            raise RuntimeError(f"the listener watch failed: {self.error!r}") from self.error


def secrets_in(folder: Path, secrets: Iterable[str]) -> list[tuple[Path, str]]:
    """(file, secret) for every one of `secrets` found in any file under `folder`."""
    wanted = [(s, s.encode()) for s in secrets if s]
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found.extend((path, text) for text, raw in wanted if raw in data)
    return found
