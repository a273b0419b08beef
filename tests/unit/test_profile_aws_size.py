"""The typed AWS size in a profile's app.size: what the event's cost is priced by."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.analysis.cost import aws_size
from harness.errors import ProfileError
from harness.model.profile_file import available_profiles, load_profile, stacks_root

MODERN_SIZE = "    vcpu: 0.5\n    memory_gib: 1\n    cpu_factor: 0.15\n"
LEGACY_SIZE = "    instance_type: t3.small\n    cpu_factor: 0.15\n"


def _profile(tmp_path: Path, arch: str, old: str, new: str) -> Path:
    text = (stacks_root() / arch / "profile.yaml").read_text()
    assert text.count(old) == 1
    path = tmp_path / "profile.yaml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize("arch", available_profiles())
def test_every_shipped_profile_gives_a_typed_size_that_prices_its_fleet(arch: str) -> None:
    size, factor, why = aws_size(load_profile(arch))
    assert size is not None, why
    assert factor == 0.15  # both architectures scaled by the same factor


def test_legacy_is_an_ec2_instance_and_modern_a_fargate_task() -> None:
    legacy, _, _ = aws_size(load_profile("legacy"))
    modern, _, _ = aws_size(load_profile("modern"))
    assert legacy is not None
    assert modern is not None
    assert (legacy.kind, legacy.instance_type) == ("ec2", "t3.small")
    assert (modern.kind, modern.vcpu, modern.gb) == ("fargate", 0.5, 1.0)


@pytest.mark.parametrize(("arch", "new", "says"), [
    ("modern", "    vcpu: 0.5\n    memory_gib: 8\n    cpu_factor: 0.15\n",
     r"app\.size: .*memory_gib 8 is not a Fargate size for 0\.5 vCPU; choose one of 1, 2, 3, 4"),
    ("modern", "    vcpu: 3\n    memory_gib: 8\n    cpu_factor: 0.15\n",
     r"app\.size: .*vcpu 3 is not a Fargate task size"),
    ("modern", "    vcpu: 0.5\n    cpu_factor: 0.15\n",
     r"app\.size: .*needs both vcpu and memory_gib"),
    ("modern", "    vcpu: 1\n    memory_gib: 2\n    cpu_factor: 0.15\n",
     r"app\.size: .*cpus 0\.075 is not vcpu 1 x cpu_factor 0\.15"),
    ("modern", MODERN_SIZE + "    instance_type: t3.small\n", r"app\.size: .*not both"),
    ("legacy", "    instance_type: t3small\n    cpu_factor: 0.15\n",
     r"app\.size\.instance_type: .*pattern"),
    ("legacy", "    instance_type: t3.large\n    cpu_factor: 0.15\n",
     r"app\.size: .*instance_type t3\.large is not the size aws_size names"),
    ("legacy", "    instance_type: t3.small\n    cpu_factor: 1.5\n",
     r"app\.size\.cpu_factor: "),
])
def test_a_bad_size_is_a_profile_error_naming_file_line_and_field(
        tmp_path: Path, arch: str, new: str, says: str) -> None:
    old = MODERN_SIZE if arch == "modern" else LEGACY_SIZE
    path = _profile(tmp_path, arch, old, new)
    with pytest.raises(ProfileError, match=rf"{path}:\d+: {says}"):
        load_profile(str(path))


def test_a_profile_without_a_typed_size_loads_and_its_fleet_is_not_measurable(
        tmp_path: Path) -> None:
    path = _profile(tmp_path, "modern", MODERN_SIZE, "")
    size, factor, why = aws_size(load_profile(str(path)))
    assert size is None
    assert factor == 0.15  # database.max_connections.scale
    assert "add instance_type" in why
