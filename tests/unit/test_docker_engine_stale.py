"""A stale engine socket (dockerd stopped, its socket file left) is no engine, and leaks nothing."""

from __future__ import annotations

import gc
import socket
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.runtime import docker_engine


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    """A short folder: a unix socket's path must fit 108 bytes."""
    with tempfile.TemporaryDirectory(prefix="eng-") as path:
        yield Path(path)


def test_a_stale_engine_socket_is_no_engine_and_leaks_no_socket(
    monkeypatch: pytest.MonkeyPatch, sock_dir: Path,
) -> None:
    stale = sock_dir / "docker.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(stale))  # bound, never listening, then closed: the file stays
    monkeypatch.setattr(docker_engine, "engine_host", lambda: f"unix://{stale}")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", ResourceWarning)
        assert docker_engine.reachable() is None
        gc.collect()  # an unclosed socket warns when collected
    leaks = [str(w.message) for w in seen if issubclass(w.category, ResourceWarning)]
    assert leaks == []


def test_only_a_listening_engine_socket_answers(sock_dir: Path) -> None:
    path = sock_dir / "live.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        assert docker_engine._socket_answers(f"unix://{path}")
    assert not docker_engine._socket_answers(f"unix://{path}")
    assert docker_engine._socket_answers("tcp://127.0.0.1:2375")
