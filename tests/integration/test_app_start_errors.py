"""A team's own app that dies at start is named with its exit code and its last log lines."""

from __future__ import annotations

import dataclasses
import re
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest

from harness.errors import StackError
from harness.stacks.assembly import Declared, declare_app
from tests.integration.conftest import processes_under, running_stack, still_alive
from tests.support.team_profile import team_profile

pytestmark = pytest.mark.integration


def test_an_app_that_exits_at_start_is_named_with_its_exit_code_and_last_lines(
    tmp_path: Path, short_tmp: Path,
) -> None:
    script = "echo 'starting team-api'; echo 'cannot read /etc/team-api.conf' >&2; exit 3"
    profile = team_profile(tmp_path, {"command": ["sh", "-c", script]})
    with (pytest.raises(StackError) as err,
          running_stack("modern", short_tmp, profile=profile, products=5, events=1)):
        pytest.fail("the stack started although its app exits at once")
    text = str(err.value)
    assert "\n" not in text
    assert re.match(r"app-\d exited before it was ready \(exit code 3, checked on "
                    r"http://127\.0\.0\.1:\d+/ready\); its last log lines: starting team-api "
                    r"\| cannot read /etc/team-api\.conf; see ", text), text
    # also below the message (the CLI prints log_tail)
    assert "starting team-api" in err.value.log_tail
    assert "cannot read /etc/team-api.conf" in err.value.log_tail
    assert still_alive(processes_under(short_tmp)) == []


def test_an_app_that_never_becomes_ready_is_named_with_its_last_lines(
    tmp_path: Path, short_tmp: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = f"team-api-{uuid.uuid4().hex[:12]}"
    # never listens; it keeps running until the harness stops it
    script = f"echo '{marker}: waiting for the licence server'; while true; do sleep 1; done"
    profile = team_profile(tmp_path, {"command": ["sh", "-c", script]})

    def impatient(*args: Any, **kwargs: Any) -> Declared:
        # 5 s, not the task's 20 s: nothing will ever listen, the test stays short
        task = declare_app(*args, **kwargs)
        return dataclasses.replace(task, spec=dataclasses.replace(task.spec, ready_timeout_s=5))

    monkeypatch.setattr("harness.stacks.stack.declare_app", impatient)
    with (pytest.raises(StackError) as err,
          running_stack("modern", short_tmp, profile=profile, products=5, events=1)):
        pytest.fail("the stack started although its app never listens")
    text = str(err.value)
    assert "\n" not in text
    assert re.match(r"app-\d was not ready on http://127\.0\.0\.1:\d+/ready within 5 s "
                    r"\(last check: [^)]+\); its last log lines: "
                    + re.escape(f"{marker}: waiting for the licence server") + "; see ",
                    text), text
    assert still_alive(processes_under(short_tmp)) == []
    left = [p.pid for p in psutil.process_iter(["cmdline"])
            if marker in " ".join(p.info["cmdline"] or [])]
    assert left == []
