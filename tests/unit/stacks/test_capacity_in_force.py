"""The capacity a run records: read back from (fake) cgroup files, equal on both sides,
and loudly "not enforced" in run.json, report.html and summary.md when it was not."""

from __future__ import annotations

from pathlib import Path

from harness.model.profile import Profile
from harness.model.profile_file import load_profile
from harness.report.assemble import RunHeader, build_record
from harness.report.html import render
from harness.report.summary import summary_md
from harness.runtime.cgroups import CgroupLimiter
from harness.stacks.capacity import largest_fleet_cpus, read_capacity
from harness.stacks.components.apps import limits_of
from tests.support.demo import PHASES, demo_data, demo_events, demo_objectives


def _v2_root(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("\n")
    return tmp_path


def _limited(profile: Profile, root: Path) -> CgroupLimiter:
    limiter = CgroupLimiter(f"{profile.name}-1", root=root)
    for name in profile.app_names:
        limiter.prepare(name, limits_of(profile))
    return limiter


def test_both_architectures_record_the_same_budget_in_force(tmp_path: Path) -> None:
    totals = {}
    for arch in ("legacy", "modern"):
        profile = load_profile(arch)
        capacity = read_capacity(profile, _limited(profile, _v2_root(tmp_path / arch)))
        assert capacity.enforced, capacity.reason
        record = capacity.to_json()
        assert len(record["components"]) == profile.app.instances
        totals[arch] = (record["total_cpus"], record["total_memory_mb"])
    assert totals["legacy"] == totals["modern"] == (0.225, 3072)


def test_a_limit_the_kernel_did_not_take_is_reported_with_what_it_holds(tmp_path: Path) -> None:
    profile = load_profile("modern")
    root = _v2_root(tmp_path)
    limiter = _limited(profile, root)
    (root / "harness" / "modern-1" / "app-2" / "cpu.max").write_text("max 100000\n")
    capacity = read_capacity(profile, limiter)
    assert not capacity.enforced
    assert capacity.reason is not None
    assert "app-2 has no limit / 1024 MiB, asked 0.075 vCPU / 1024 MiB" in capacity.reason
    assert capacity.to_json()["total_cpus"] is None


def test_no_cgroups_records_unlimited_members_and_the_reason(tmp_path: Path) -> None:
    profile = load_profile("legacy")
    capacity = read_capacity(profile, CgroupLimiter("legacy-1", root=tmp_path))
    assert not capacity.enforced
    assert capacity.reason is not None
    assert capacity.reason.startswith("limits not enforced: cpu and memory cgroups are not mounted")
    assert capacity.mechanism == "none"
    assert all(c.cpus is None and c.memory_mb is None for c in capacity.components)


def test_run_json_report_and_summary_state_the_capacity(tmp_path: Path) -> None:
    legacy, modern = load_profile("legacy"), load_profile("modern")
    enforced = read_capacity(modern, _limited(modern, _v2_root(tmp_path / "m")))
    unenforced = read_capacity(legacy, CgroupLimiter("legacy-1", root=tmp_path / "none"))
    header = RunHeader(
        run_id="r1", scenario="demo", seed=7, phases=PHASES,
        capacity={"legacy": unenforced.to_json(), "modern": enforced.to_json()},
    )
    data = demo_data()
    record = build_record(header, demo_objectives(), data, demo_events())
    assert record.arch("modern").capacity is not None
    assert record.arch("modern").capacity.enforced
    assert record.arch("modern").capacity.components[0].cpus == 0.075
    legacy_cap = record.arch("legacy").capacity
    assert legacy_cap is not None
    assert not legacy_cap.enforced
    assert record.capacity_warnings() == [f"legacy: {unenforced.reason}"]

    html = render(record, data, demo_events())
    assert 'id="capacity-warning"' in html
    assert 'id="capacity-legacy"' in html
    assert 'id="capacity-modern"' in html
    assert "NOT ENFORCED" in html
    assert "Fargate task 0.5 vCPU / 1 GB, CPU x 0.15" in html

    summary = summary_md(record)
    assert "CPU and memory limits were not as the profiles ask" in summary
    assert ("| modern | Fargate task 0.5 vCPU / 1 GB, CPU x 0.15 | 0.225 vCPU / 3072 MiB | "
            "0.225 vCPU / 3072 MiB") in summary
    assert "| legacy |" in summary
    assert "**NOT ENFORCED**" in summary


def test_the_generator_room_is_taken_from_the_largest_fleet(tmp_path: Path) -> None:
    # the base fleet would overstate the generator's room once the fleet scaled out
    modern = load_profile("modern")
    capacity = read_capacity(modern, _limited(modern, _v2_root(tmp_path / "m")))
    assert capacity.total_cpus == 0.225
    assert largest_fleet_cpus(capacity, modern) == 0.675  # 9 tasks x 0.075 vCPU
    fixed = modern.model_copy(update={"scaling": None})
    assert largest_fleet_cpus(capacity, fixed) == 0.225
    root = _v2_root(tmp_path / "unlimited")
    (root / "harness" / "modern-1" / "app-2").mkdir(parents=True)
    limiter = _limited(modern, root)
    (root / "harness" / "modern-1" / "app-2" / "cpu.max").write_text("max 20000\n")
    unknown = read_capacity(modern, limiter)
    assert largest_fleet_cpus(unknown, modern) is None  # a member without a limit: unknown
