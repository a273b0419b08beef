"""The A/A check: the same profile on both sides goes through the comparison machinery.

`harness run --arch modern,modern --repeat 2` runs modern four times on real
stacks, interleaved (modern then modern#2, then modern#2 then modern). What one
such run can prove, and all this test holds the tool to: the order alternated,
the intervals were computed from the repeats, every delta went through the
verdict rule (two repeats are below the default minimum of three, so no delta
gets a verdict and none can be a regression), and comparing in either direction
gives mirrored figures and the same verdicts.

It asserts nothing about the statistical outcome. An earlier version asserted
"no significant difference" on two repeats and failed at random (p99 called a
REGRESSION on identical stacks): how often the rule is wrong is a property of
the rule over many comparisons, tested by simulation in
tests/unit/analysis/test_compare_calibration.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.analysis.runlevel import SecondTable
from harness.report.commands import comparisons, load
from harness.scenario.scenario import SCENARIOS_DIR
from tests.support.cli_process import told

pytestmark = pytest.mark.integration

HARNESS = str(Path(sys.executable).parent / "harness")


def _tiny_scenario(tmp_path: Path) -> Path:
    """smoke, cut to 8 s of checkout load with no faults: ~20 s a run."""
    data: dict[str, Any] = yaml.safe_load((SCENARIOS_DIR / "smoke.yaml").read_text())
    data["workload"]["phases"] = [
        {"name": "warm", "shape": "constant", "rate": "10/s", "duration": "3s"},
        {"name": "steady", "shape": "constant", "rate": "10/s", "duration": "5s"},
    ]
    data["workload"]["journeys"] = {"checkout": {"weight": 1}}
    data["faults"] = []
    # errors and keeping up only: a latency bound is what a test running beside it
    # (make test runs two at once) could flip
    data["slos"] = [s for s in data["slos"] if s["metric"] in ("error_rate", "achieved_ratio")]
    data["architectures"] = ["modern"]
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


MEASURED = ("p50", "p95", "p99", "error_rate", "achieved_ratio")


def test_same_profile_on_both_sides_goes_through_the_verdict_rule(
    short_tmp: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "HARNESS_STATE_DIR": str(short_tmp), "COLUMNS": "200"}
    out = tmp_path / "out"
    result = subprocess.run(
        [HARNESS, "run", str(_tiny_scenario(tmp_path)), "--arch", "modern,modern",
         "--repeat", "2", "--ci", "--out", str(out)],
        env=env, text=True, capture_output=True, timeout=400, check=False,
    )
    assert result.returncode == 0, told(result)
    (set_dir,) = out.iterdir()
    assert not (set_dir / "INCOMPLETE").exists()
    printed = " ".join(result.stdout.split())
    assert "paired t-interval over 2 interleaved repeats" in printed
    assert "too few repeats" in printed
    assert "REGRESSION" not in printed
    md = " ".join((set_dir / "compare.md").read_text().split())
    assert "Holm-Bonferroni" in md
    assert "at least 3 runs a side" in md

    loaded = load(set_dir)
    orders = [record.repeat.order for record, _ in loaded.runs if record.repeat]
    assert orders == [["modern", "modern#2"], ["modern#2", "modern"]]

    forward = comparisons(set_dir)[0]
    backward = comparisons(set_dir, baseline_arch="modern#2", candidate_arch="modern")[0]
    assert (forward.baseline, forward.candidate) == ("modern", "modern#2")
    assert forward.runs == (2, 2)
    assert forward.too_few_repeats
    assert "paired t-interval over 2 interleaved repeats (df 1)" in forward.method
    deltas = {d.metric: d for d in forward.deltas}
    for metric in MEASURED:
        d = deltas[metric]
        assert d.ci_low is not None, metric
        assert d.ci_high is not None, metric
        assert d.delta is not None, metric
        assert d.ci_low <= d.delta <= d.ci_high, metric
        # the interval is over the repeats: its centre is the mean paired difference
        per_run = {a: [SecondTable.of(data[a]).metric(metric)[0] for _, data in loaded.runs]
                   for a in ("modern", "modern#2")}
        diffs = [y - x for x, y in zip(per_run["modern"], per_run["modern#2"], strict=True)]
        assert d.delta == pytest.approx(sum(diffs) / len(diffs), abs=1e-9), metric
    assert {d.verdict for d in forward.deltas} <= {"too few repeats", "not measurable"}
    assert forward.regressions == []
    assert backward.regressions == []

    for x, y in zip(forward.deltas, backward.deltas, strict=True):
        assert (x.metric, x.verdict) == (y.metric, y.verdict)
        if x.delta is not None and y.delta is not None:
            assert y.delta == pytest.approx(-x.delta, abs=1e-9), x.metric
        if x.ci_low is not None and x.ci_high is not None:
            assert (y.ci_low, y.ci_high) == pytest.approx((-x.ci_high, -x.ci_low),
                                                          abs=1e-9), x.metric
        assert y.p_holm == pytest.approx(x.p_holm), x.metric
