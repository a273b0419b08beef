"""A component that does not come up is named with how it exited and its last log lines."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from harness.errors import StackError
from harness.runtime.wait import QUOTED_CHARS, describe_exit, last_lines, wait_ready
from harness.stacks.components import haproxy


class _Never:
    def check(self) -> str | None:
        return "connection refused"

    def describe(self) -> str:
        return "http://127.0.0.1:9/ready"


def test_last_lines_are_those_since_the_latest_start(tmp_path: Path) -> None:
    log = tmp_path / "app-2.log"
    log.write_text(
        "--- 2026-01-01T00:00:00 starting app-2\nold run\n\n"
        "--- 2026-01-01T00:01:00 starting app-2\nlistening\n  \npanic: no DB_HOST\n"
    )
    assert last_lines(log) == "listening | panic: no DB_HOST"


def test_last_lines_keep_the_latest_ten_and_stay_short(tmp_path: Path) -> None:
    log = tmp_path / "app-1.log"
    log.write_text("".join(f"line {i}\n" for i in range(30)))
    assert last_lines(log) == " | ".join(f"line {i}" for i in range(20, 30))
    log.write_text("".join(f"{i:04d}" + "x" * 500 + "\n" for i in range(10)))
    text = last_lines(log)
    assert len(text) == QUOTED_CHARS + 3
    assert text.startswith("...")
    assert text.endswith("x" * 500)


def test_no_log_quotes_nothing(tmp_path: Path) -> None:
    assert last_lines(None) == ""
    assert last_lines(tmp_path / "missing.log") == ""


@pytest.mark.parametrize(("code", "text"), [
    (1, "exit code 1"), (0, "exit code 0"), (-9, "killed by signal 9"),
    (None, "exit code unknown"),
])
def test_an_exit_is_described(code: int | None, text: str) -> None:
    assert describe_exit(code) == text


def test_a_component_that_exited_is_named_with_its_code_and_lines(tmp_path: Path) -> None:
    log = tmp_path / "app-2.log"
    log.write_text("--- 2026-01-01T00:00:00 starting app-2\nconfig: no such file\n")
    with pytest.raises(StackError) as err:
        wait_ready("app-2", _Never(), timeout_s=5, alive=lambda: False, log=log,
                   exit_code=lambda: 1)
    assert str(err.value) == (
        "app-2 exited before it was ready (exit code 1, checked on http://127.0.0.1:9/ready); "
        f"its last log lines: config: no such file; see {log}"
    )
    assert "config: no such file" in err.value.log_tail


def test_a_component_never_ready_quotes_its_lines_or_says_it_logged_nothing(
    tmp_path: Path,
) -> None:
    log = tmp_path / "app-1.log"
    log.write_text("--- 2026-01-01T00:00:00 starting app-1\n")
    with pytest.raises(StackError) as err:
        wait_ready("app-1", _Never(), timeout_s=0, log=log)
    assert str(err.value) == (
        "app-1 was not ready on http://127.0.0.1:9/ready within 0 s (last check: connection "
        f"refused); it logged nothing; see {log}"
    )


def test_an_lb_whose_port_answers_before_its_admin_socket_is_not_ready_yet(
    tmp_path: Path
) -> None:
    """HAProxy listens on its port a moment before it makes its admin socket."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        sock_path = haproxy.admin_socket(tmp_path)
        ready = haproxy.spec(cfg_path=tmp_path / "haproxy.cfg", port=port,
                             admin_socket=sock_path).ready
        reason = ready.check()
        assert reason is not None
        assert f"{sock_path}: socket not open" in reason
        with socket.socket(socket.AF_UNIX) as admin:
            admin.bind(str(sock_path))
            admin.listen()
            assert ready.check() is None
    assert ready.check() == f"127.0.0.1:{port}: port not open"
