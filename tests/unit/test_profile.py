"""Stack profiles: the shipped ones load, broken ones give one line naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ProfileError
from harness.stacks.profile import available_profiles, load_profile, stacks_root


def test_shipped_profiles_load_with_the_expected_shape() -> None:
    assert available_profiles() == ["legacy", "modern"]
    legacy, modern = load_profile("legacy"), load_profile("modern")
    assert (legacy.app.kind, legacy.load_balancer.style) == ("php", "clb")
    assert (modern.app.kind, modern.load_balancer.style) == ("go", "alb")
    assert legacy.load_balancer.balance == "roundrobin"
    assert modern.load_balancer.balance == "leastconn"
    assert modern.database.reader
    assert not legacy.database.reader
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
    path = _write(tmp_path, text.replace("health_check_type: ELB", "health_check_type: elb"))
    with pytest.raises(ProfileError, match="asg_health_check_type: 'elb': choose ELB or EC2"):
        load_profile(str(path))
