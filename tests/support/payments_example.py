"""The worked example (examples/payments) run as a team would, and what its run must show.

Shared by the process-runtime test (tests/integration/test_payments_example.py) and the
docker one (tests/containers/test_payments_on_docker.py): between them each era runs the
clean service and the planted bug once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from tests.support.cli_process import HARNESS

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "payments" / "scenario.yaml"
#: the example's own SQL checks (scenario.yaml, own_service.invariants)
OWN_CHECKS = {"balance_matches_payments", "no_negative_balance"}
#: the lost-write check of the payments the locustfile marks with `record_write`
LOST = "payments.idempotency_key_lost"


def run_example(env: dict[str, str], out: Path, *args: str, timeout: float = 600
                ) -> tuple[int, str, dict[str, Any]]:
    """`harness run` of the example with `--ci`: its exit code, output tail and run.json."""
    started = time.monotonic()
    result = subprocess.run(
        [HARNESS, "run", str(EXAMPLE), "--ci", "--out", str(out), *args], env=env, text=True,
        capture_output=True, timeout=timeout, check=False,
    )
    print(f"harness run {EXAMPLE.name} {' '.join(args)}: {time.monotonic() - started:.1f} s "
          f"wall, exit {result.returncode}")
    output = result.stdout[-4000:] + result.stderr[-3000:]
    runs = [p for p in out.iterdir() if p.is_dir()] if out.is_dir() else []
    assert len(runs) == 1, (runs, output)
    record: dict[str, Any] = json.loads((runs[0] / "run.json").read_text())
    return result.returncode, output, record


def by_arch(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["arch"]: a for a in record["architectures"]}


def checks_of(arch: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in arch["invariants"]}


def assert_rehearsed(label: str, arch: dict[str, Any]) -> None:
    """The architecture ran whole, with the example's own checks and both faults."""
    assert arch["error"] is None, (label, arch["error"])
    assert arch["valid"], (label, arch["invalid_reasons"])
    checks = checks_of(arch)
    assert set(checks) >= {*OWN_CHECKS, LOST}, (label, sorted(checks))
    # the shop's checks are left out: the example has a schema of its own
    assert "orders_lost" not in checks, (label, sorted(checks))
    assert {r["fault"] for r in arch["recoveries"]} == {"kill-app", "slow-db"}, label


def assert_clean(label: str, arch: dict[str, Any]) -> None:
    """The service commits before it answers: nothing acknowledged is lost, and the
    balances agree with the payments whatever the kill and the latency did."""
    checks = checks_of(arch)
    for name in (*OWN_CHECKS, LOST):
        assert checks[name]["ok"], (label, checks[name])
    # 3 users at 2 requests a second for 18 s, 6 in 9 of them payments: ~70 a side
    assert arch["writes_checked"]["payments.idempotency_key"]["acknowledged"] >= 10, (
        label, arch["writes_checked"])


def assert_bug_caught(label: str, arch: dict[str, Any], reasons: list[str]) -> None:
    """The planted bug acknowledges every 10th payment and never writes it: some are
    always lost, and the run's verdict names the lost-write check of this architecture."""
    lost = checks_of(arch)[LOST]
    assert not lost["ok"], (label, lost)
    assert lost["value"] >= 1, (label, lost)
    assert f"{label}: invariant {LOST} violated" in reasons, reasons


def assert_one_clean_one_bug(code: int, output: str, record: dict[str, Any], *,
                             clean: str, bug: str) -> None:
    """A run of the clean service on one era and the planted bug on the other."""
    # the bug fails the run through its own check (exit 1): judged, never 2 or 3
    assert code == 1, output
    archs = by_arch(record)
    assert set(archs) == {clean, bug}, output
    for label, arch in archs.items():
        assert_rehearsed(label, arch)
    assert_clean(clean, archs[clean])
    reasons: list[str] = record["verdict"]["reasons"]
    assert_bug_caught(bug, archs[bug], reasons)
    # the clean era's own checks are not among the reasons
    assert not [r for r in reasons if r.startswith(f"{clean}: invariant")], reasons


def with_journeys(folder: Path) -> Path:
    """A copy of the example in `folder` whose traffic is open-model journeys, not its
    locustfile: one GET of the app's readiness path (a database round trip) per arrival,
    which is what `harness capacity --mix` can send. Its scenario file is returned."""
    copy = folder / "payments"
    shutil.copytree(EXAMPLE.parent, copy)
    scenario = copy / "scenario.yaml"
    data = yaml.safe_load(scenario.read_text())
    data["workload"] = {
        "journeys": {"get": {"weight": 1, "path": "/readyz"}},
        "phases": [{"name": "steady", "shape": "constant", "rate": "20/s", "duration": "10s"}],
    }
    data["faults"], data["slos"] = [], []
    scenario.write_text(yaml.safe_dump(data))
    return scenario
