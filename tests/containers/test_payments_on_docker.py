"""The worked example (examples/payments) on the docker runtime, and a team's app that dies.

The team's Python service runs in harness/python (Debian's Flask, PyMySQL, boto3), its
folder mounted read-only, with docker's init as PID 1. One run: the clean service on
legacy and the planted bug on modern, the pairing the process runtime does not run
(tests/integration/test_payments_example.py), so each era runs each variant once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import yaml

from harness.runtime.docker_engine import LABEL_OWNER_PID
from tests.support.cli_process import HARNESS
from tests.support.docker_objects import container_names
from tests.support.payments_example import EXAMPLE, assert_one_clean_one_bug, run_example

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.timeout(900)]


@pytest.fixture
def env(docker_engine: str) -> Iterator[dict[str, str]]:
    # a short state dir: pytest's tmp paths are too deep for a stack's Unix sockets
    state = Path(tempfile.mkdtemp(prefix="hpd-", dir="/tmp"))
    yield {**os.environ, "HARNESS_STATE_DIR": str(state), "COLUMNS": "200"}
    shutil.rmtree(state, ignore_errors=True)


def _left_by(owner_pid: int) -> list[str]:
    """Containers a harness process (by PID) left on the engine."""
    client = docker.from_env()
    try:
        return container_names(client, {"label": f"{LABEL_OWNER_PID}={owner_pid}"})
    finally:
        client.close()


def test_the_payments_example_runs_on_docker_and_the_planted_bug_fails_it(
    env: dict[str, str], tmp_path: Path,
) -> None:
    code, output, record = run_example(
        env, tmp_path / "out", "--runtime", "docker",
        "--arch", "legacy#payments,modern#payments-bug", timeout=840)
    assert_one_clean_one_bug(code, output, record, clean="legacy#payments",
                             bug="modern#payments-bug")


def test_a_python_app_that_exits_at_start_is_named_with_its_exit_code(
    env: dict[str, str], tmp_path: Path,
) -> None:
    # outside the project: the folder reaches the container only through its own mount
    team = tmp_path / "team"
    team.mkdir()
    (team / "app.py").write_text(textwrap.dedent("""\
        import sys
        print("starting team-api")
        print("cannot read /etc/team-api.conf", file=sys.stderr)
        sys.exit(3)
        """))
    (team / "team-modern.yaml").write_text(yaml.safe_dump({
        "extends": "modern", "app": {"command": ["{python}", "app.py", "--port", "{port}"]}}))
    scenario = yaml.safe_load((EXAMPLE.parent.parent.parent / "scenarios" / "smoke.yaml")
                              .read_text())
    scenario |= {"name": "team-crash", "architectures": ["modern#team"],
                 "variants": {"modern#team": {"description": "the team's app that dies",
                                              "profile": "team-modern.yaml"}}}
    path = team / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    out = tmp_path / "out"
    with subprocess.Popen([HARNESS, "run", str(path), "--runtime", "docker", "--ci", "--out",
                           str(out)], env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT) as proc:
        output, _ = proc.communicate(timeout=600)
    print(output[-3000:])
    # as under the process runtime: the app's death stops the run before any load, exit 2
    assert proc.returncode == 2, output
    runs = list(out.iterdir())
    assert len(runs) == 1, (runs, output)
    error = json.loads((runs[0] / "run.json").read_text())["architectures"][0]["error"]
    assert re.match(r"app-1 exited before it was ready \(exit code 3, checked on "
                    r"http://127\.0\.0\.1:\d+/readyz?\); its last log lines: starting "
                    r"team-api \| cannot read /etc/team-api\.conf; see ", error or ""), error
    assert _left_by(proc.pid) == []
