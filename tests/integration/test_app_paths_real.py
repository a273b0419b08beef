"""A stack whose app is ready on its own path starts, and is checked on that path."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.errors import StackError
from harness.settings import Settings
from harness.stacks.assembly import Declared, declare_app
from tests.integration.conftest import processes_under, running_stack, still_alive
from tests.support.team_profile import team_profile

pytestmark = pytest.mark.integration


def test_a_stack_comes_up_on_the_readiness_path_its_profile_names(
    tmp_path: Path, short_tmp: Path,
) -> None:
    # the sample task's paths swapped: ready on /health, alive on /ready
    profile = team_profile(tmp_path, {"health_path": "/health", "liveness_path": "/ready"})
    with running_stack("modern", short_tmp, profile=profile, products=5, events=1) as stack:
        assert "end-to-end" in stack.info.ready_s
        reply = requests.get(f"{stack.info.lb_url}/health", timeout=10)
        assert reply.status_code == 200
        assert reply.headers["X-Served-By"] in profile.app_names


def test_a_readiness_path_the_app_does_not_serve_fails_the_start_naming_it(
    tmp_path: Path, short_tmp: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the sample binary run as a team's own service (app.command), whose paths the harness
    # cannot know in advance: it answers 404 on /status/ready
    binary = Settings.from_env({**os.environ, "HARNESS_STATE_DIR": str(short_tmp)}).go_app_binary
    profile = team_profile(tmp_path, {"command": [str(binary)], "health_path": "/status/ready"})

    def impatient(*args: Any, **kwargs: Any) -> Declared:
        # 5 s, not the task's 20 s to become ready: a 404 stays a 404, the test stays short
        task = declare_app(*args, **kwargs)
        return dataclasses.replace(task, spec=dataclasses.replace(task.spec, ready_timeout_s=5))

    monkeypatch.setattr("harness.stacks.stack.declare_app", impatient)
    with (pytest.raises(StackError) as err,
          running_stack("modern", short_tmp, profile=profile, products=5, events=1)):
        pytest.fail("the stack started although no task answers /status/ready")
    text = str(err.value)
    assert "\n" not in text
    assert re.search(r"app-\d was not ready on http://127\.0\.0\.1:\d+/status/ready within "
                     r"5 s \(last check: HTTP 404\)", text), text
    assert still_alive(processes_under(short_tmp)) == []
