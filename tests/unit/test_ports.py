"""Ports are chosen at run time, never one another harness process holds; a busy one is
a clear error."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import EnvironmentProblem
from harness.runtime import ports as ports_mod
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_port_one_allocator_holds_is_refused_to_another_until_released(
    tmp_path: Path
) -> None:
    port = _free_port()
    first, second = PortAllocator(tmp_path), PortAllocator(tmp_path)
    assert first.claim(port, "--port") == port
    with pytest.raises(EnvironmentProblem, match=f"--port: port {port} .* another harness run"):
        second.claim(port, "--port")
    first.close()
    assert not (tmp_path / str(port)).exists(), "a released reservation left its file"
    assert second.claim(port, "--port") == port
    second.close()


def test_take_skips_the_port_the_kernel_offers_when_another_allocator_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held, other = _free_port(), _free_port()
    offered = iter([held, held, other])

    class Kernel(socket.socket):
        """The kernel's random pick, made to offer a reserved port first."""

        def getsockname(self) -> tuple[str, int]:
            return ("127.0.0.1", next(offered))

    holder = PortAllocator(tmp_path)
    monkeypatch.setattr(ports_mod.socket, "socket", Kernel)
    assert holder.take() == held
    with PortAllocator(tmp_path) as second:
        assert second.take() == other
    holder.close()


_DIES_HOLDING = """
import os, sys
from pathlib import Path
from harness.runtime.ports import PortAllocator
ports = PortAllocator(Path(sys.argv[1]))
ports.claim(int(sys.argv[2]), "test")
print("held", flush=True)
sys.stdin.read()
"""


def test_a_killed_holders_reservations_are_free_again(tmp_path: Path) -> None:
    port = _free_port()
    with subprocess.Popen([sys.executable, "-c", _DIES_HOLDING, str(tmp_path), str(port)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(EnvironmentProblem):
            PortAllocator(tmp_path).claim(port, "test")
        holder.kill()
    # the kernel dropped the dead holder's lock; its file is still there, and reusable
    with PortAllocator(tmp_path) as after:
        assert after.claim(port, "test") == port


def test_a_reservations_folder_that_is_not_ours_is_not_used(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    port = _free_port()
    with PortAllocator(link) as first:
        assert first.claim(port, "test") == port
    assert list(real.iterdir()) == [], "a reservation was written through a symlink"
