"""Stack profiles: the shipped ones load, broken ones give one line naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ProfileError
from harness.stacks.profile import available_profiles, load_profile, stacks_root


def test_shipped_profiles_load_with_the_expected_shape() -> None:
    assert available_profiles() == ["legacy", "modern", "modern-no-proxy"]
    legacy, modern = load_profile("legacy"), load_profile("modern")
    assert (legacy.app.kind, legacy.load_balancer.style) == ("php", "clb")
    assert (modern.app.kind, modern.load_balancer.style) == ("go", "alb")
    # CLB HTTP listeners: least outstanding requests; ALB target groups: round robin
    assert legacy.load_balancer.routing.value == "least_outstanding_requests"
    assert modern.load_balancer.routing.value == "round_robin"
    assert (legacy.orchestrator.kind, modern.orchestrator.kind) == ("asg", "ecs")
    assert modern.has_reader
    assert not legacy.has_reader
    assert modern.app.limits is not None
    assert modern.app.limits.cpus
    assert modern.app_names == [f"app-{i}" for i in range(1, modern.app.instances + 1)]


def test_zones_are_spread_round_robin() -> None:
    modern = load_profile("modern")
    zones = [modern.zone_of(i) for i in range(len(modern.app.zones) * 2)]
    assert zones == modern.app.zones * 2


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\napp: [unclosed\n")
    with pytest.raises(ProfileError, match=rf"{path}:\d+: not valid YAML") as info:
        load_profile(str(path))
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_unknown_field_is_named(tmp_path: Path) -> None:
    text = (stacks_root() / "legacy" / "profile.yaml").read_text()
    path = _write(tmp_path, text + "\nload_balancr: {}\n")
    with pytest.raises(ProfileError, match=r"load_balancr: Extra inputs are not permitted"):
        load_profile(str(path))


def test_bad_value_names_the_nested_field(tmp_path: Path) -> None:
    text = (stacks_root() / "legacy" / "profile.yaml").read_text()
    path = _write(tmp_path, text.replace("kind: php", "kind: cobol"))
    with pytest.raises(ProfileError, match=r"app\.kind: Input should be 'php' or 'go'"):
        load_profile(str(path))


def test_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="must be a mapping, got list"):
        load_profile(str(_write(tmp_path, "- a\n- b\n")))


def test_unknown_architecture_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"unknown architecture 'serverless'.*legacy, modern"):
        load_profile("serverless")


def test_asg_health_check_type_is_elb_or_ec2(tmp_path: Path) -> None:
    text = (stacks_root() / "legacy" / "profile.yaml").read_text()
    path = _write(tmp_path, text.replace("value: EC2", "value: elb"))
    with pytest.raises(
        ProfileError, match=r"profile.yaml:\d+: orchestrator.health_check_type.value: .*'EC2'"
    ):
        load_profile(str(path))


def test_an_unknown_key_deep_in_a_section_names_its_line(tmp_path: Path) -> None:
    text = (stacks_root() / "modern" / "profile.yaml").read_text()
    path = _write(tmp_path, text.replace("  task_replacement_s:", "  task_replacment_s:"))
    lines = path.read_text().splitlines()
    line = next(i for i, t in enumerate(lines, 1) if "task_replacment_s" in t)
    with pytest.raises(ProfileError, match=rf"profile.yaml:{line}: orchestrator.task_replacment_s"):
        load_profile(str(path))


def test_a_setting_without_its_source_is_refused(tmp_path: Path) -> None:
    text = (stacks_root() / "legacy" / "profile.yaml").read_text()
    path = _write(tmp_path, text.replace(
        'idle_timeout_s: {value: 60, source: "ELB Classic guide, Configure the idle connection '
        'timeout: default 60 s"}', "idle_timeout_s: {value: 60}",
    ))
    with pytest.raises(ProfileError, match=r"load_balancer.idle_timeout_s.source: Field required"):
        load_profile(str(path))


@pytest.mark.parametrize("arch", available_profiles())
def test_every_cited_setting_is_modelled_and_timings_follow_the_time_scale(arch: str) -> None:
    profile = load_profile(arch)
    rows = {row.setting: row for row in profile.modelled(0.1)}
    assert rows["load_balancer.health_check.interval_s"].used_value == pytest.approx(3.0)
    assert rows["load_balancer.deregistration_delay_s"].scaled
    assert not rows["load_balancer.routing"].scaled
    assert all(len(row.source) >= 8 for row in rows.values())
    timings = [r for r in rows.values() if r.scaled]
    assert all(r.used_value == pytest.approx(float(r.aws_value) * 0.1) for r in timings)


def test_modern_no_proxy_is_modern_without_the_proxy() -> None:
    modern, bare = load_profile("modern"), load_profile("modern-no-proxy")
    assert modern.proxy is not None
    assert modern.proxy.max_connections_percent.value == 100
    assert bare.proxy is None
    same = {"name", "description"}
    left, right = modern.model_dump(exclude=same), bare.model_dump(exclude=same)
    left["database"].pop("proxy")
    right["database"].pop("proxy")
    assert left == right


def test_proxy_timings_are_modelled_and_scaled() -> None:
    rows = {row.setting: row for row in load_profile("modern").modelled(0.1)}
    assert rows["database.proxy.connection_borrow_timeout_s"].used_value == pytest.approx(12.0)
    assert rows["database.proxy.idle_client_timeout_s"].used_value == pytest.approx(180.0)
    assert not rows["database.proxy.max_connections_percent"].scaled
    bare = {row.setting for row in load_profile("modern-no-proxy").modelled(0.1)}
    assert not any(s.startswith("database.proxy") for s in bare)


def test_a_variant_overrides_its_base_key_by_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "extends: modern\nname: bigger\napp: {instances: 5}\n")
    profile = load_profile(str(path))
    assert (profile.name, profile.app.instances, profile.app.kind) == ("bigger", 5, "go")
    assert profile.proxy == load_profile("modern").proxy


def test_a_bad_key_in_a_variant_names_the_variants_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "extends: modern\nname: x\ndatabase:\n  proxy:\n    max_conns: 5\n")
    with pytest.raises(ProfileError, match=rf"{path}:5: database.proxy.max_conns: Extra inputs"):
        load_profile(str(path))


def test_a_variant_must_extend_a_known_architecture(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"unknown architecture 'moden'"):
        load_profile(str(_write(tmp_path, "extends: moden\nname: x\n")))
