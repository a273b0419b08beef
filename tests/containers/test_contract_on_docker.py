"""The contract suite on the docker runtime: the same tests, every part a container.

tests/contract runs in a pytest of its own with HARNESS_CONTRACT_RUNTIME=docker: its
fixtures are session-wide, and this keeps that session apart from the process-runtime
one of `make test`. Its JUnit report is then read: every test must pass, the skipped
ones must be exactly the suite's own and those `DOCKER_ONLY_SKIPS` names, the suite's
own runtime check (tests/contract/test_runtime.py) must have run on docker, and no
container of the inner session may be left behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.runtime import docker as dockerrt
from tests.support.docker_objects import container_names

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ("harness/php", "harness/go", "harness/mariadb", "harness/localstack",
          "harness/toxiproxy")
#: the suite's own skips, the same on either runtime (test id -> reason)
SUITE_SKIPS = {
    "tests.contract.test_writes::test_modern_app_writes_a_receipt_to_s3[php]":
        "only the modern (Go) app writes receipts",
}
#: skips on docker only, each with its reason (none so far: every contract test applies)
DOCKER_ONLY_SKIPS: dict[str, str] = {}


def _cases(report: Path) -> list[ET.Element]:
    return list(ET.parse(report).getroot().iter("testcase"))


def _case_id(case: ET.Element) -> str:
    return f"{case.get('classname')}::{case.get('name')}"


def test_the_contract_suite_passes_with_every_part_in_a_container(
    docker_engine: str, tmp_path: Path,
) -> None:
    client = dockerrt.connect()
    missing = [i for i in IMAGES if not client.images.list(name=i)]
    if missing:
        pytest.fail(f"images missing: {', '.join(missing)}; run `make docker-setup`")
    report = tmp_path / "contract.xml"
    # a short base: the apps' Unix sockets live under it, with their 107-byte path limit
    base = Path(tempfile.mkdtemp(prefix="hc-", dir="/tmp"))
    started = time.monotonic()
    inner = subprocess.Popen(
        [sys.executable, "-m", "pytest", "tests/contract", "-q", "-p", "no:cacheprovider",
         f"--junitxml={report}", "-o", "junit_family=xunit1", f"--basetemp={base}"],
        cwd=ROOT, env={**os.environ, "HARNESS_CONTRACT_RUNTIME": "docker"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output, _ = inner.communicate(timeout=540)
    except subprocess.TimeoutExpired:
        inner.kill()
        output, _ = inner.communicate()
        dockerrt.cleanup_stale(client)  # what the killed session had started
        pytest.fail(f"the contract suite on docker took over 540 s:\n{output[-4000:]}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"contract suite on docker: {time.monotonic() - started:.1f} s wall")
    assert report.exists(), output[-4000:]
    cases = _cases(report)
    failed = [_case_id(c) for c in cases if c.find("failure") is not None
              or c.find("error") is not None]
    assert failed == [], output[-4000:]
    skipped = {_case_id(c): s.get("message") or "" for c in cases
               if (s := c.find("skipped")) is not None}
    print(f"{len(cases)} tests: {len(cases) - len(skipped)} passed, {len(skipped)} skipped")
    assert skipped == {**SUITE_SKIPS, **DOCKER_ONLY_SKIPS}
    assert inner.returncode == 0, output[-4000:]
    # the suite's own check saw each app and each backing part served from a container
    runtime_checks = {
        _case_id(c): [p.get("value") for p in c.iter("property") if p.get("name") == "runtime"]
        for c in cases if "_from_the_sessions_runtime" in (c.get("name") or "")
    }
    assert len(runtime_checks) == 6, runtime_checks  # php, go, db, toxiproxy, aws, aws-fault
    assert all(values == ["docker"] for values in runtime_checks.values()), runtime_checks
    assert container_names(client, {"label": f"{dockerrt.LABEL_OWNER_PID}={inner.pid}"}) == []
