"""Stack profiles: the shipped ones load, broken ones give one line naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import cli
from harness.errors import ProfileError
from harness.model.profile_file import available_profiles, load_profile, profile_with, stacks_root


def test_shipped_profiles_load_with_the_expected_shape() -> None:
    assert available_profiles() == ["legacy", "modern", "modern-nlb", "modern-no-proxy"]
    legacy, modern = load_profile("legacy"), load_profile("modern")
    assert (legacy.app.kind, legacy.load_balancer.style) == ("php", "clb")
    assert (modern.app.kind, modern.load_balancer.style) == ("go", "alb")
    # CLB HTTP listeners: least outstanding requests; ALB target groups: round robin
    assert legacy.load_balancer.routing.value == "least_outstanding_requests"
    assert modern.load_balancer.routing.value == "round_robin"
    assert (legacy.orchestrator.kind, modern.orchestrator.kind) == ("asg", "ecs")
    assert modern.has_reader
    assert not legacy.has_reader
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
    with pytest.raises(ProfileError, match=r"load_balancr: unknown key; check the spelling"):
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
        'health_check_grace_s: {value: 300, source: "EC2 Auto Scaling guide, Set the health '
        'check grace period: console default 300 s"}', "health_check_grace_s: {value: 300}",
    ))
    with pytest.raises(ProfileError, match=r"orchestrator.health_check_grace_s.source: Field req"):
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

    def floor(setting: str) -> float:
        row = rows.get(f"{setting}.floor")
        return float(row.aws_value) if row else 0.0

    assert all(
        r.used_value == pytest.approx(max(float(r.aws_value) * 0.1, floor(r.setting)))
        for r in timings
    )
    # the idle timeout stays above the services' own request timeouts at any time scale
    # (CLB and ALB 60 s, the NLB's TCP idle timeout 350 s)
    aws_idle = 350.0 if profile.load_balancer.style == "nlb" else 60.0
    assert rows["load_balancer.idle_timeout_s"].used_value == pytest.approx(
        max(30.0, aws_idle * 0.1))
    assert profile.load_balancer.idle_timeout_s.at(1.0) == pytest.approx(aws_idle)


def test_both_architectures_get_the_same_cpu_and_memory_budget() -> None:
    legacy, modern = load_profile("legacy"), load_profile("modern")
    assert legacy.app.instances != modern.app.instances  # 2 instances, 3 tasks
    assert legacy.app.total_cpus == modern.app.total_cpus == pytest.approx(0.225)
    assert legacy.app.total_memory_mb == modern.app.total_memory_mb == 3072


def test_both_maximum_fleets_get_the_same_cpu_and_fit_a_two_core_machine() -> None:
    fleets = {}
    for arch in ("legacy", "modern"):
        profile = load_profile(arch)
        assert profile.scaling is not None
        fleets[arch] = round(profile.scaling.max_capacity.value * profile.app.size.cpus.value, 4)
        # each size says which AWS size it stands for and how it was scaled
        assert "x 0.15" in profile.app.size.aws_size.value
        assert "x 0.15" in profile.app.size.cpus.source
    # the base fleet (0.225 vCPU) can triple and leave 1.3 of 2 cores to the rest
    assert fleets["legacy"] == fleets["modern"] == pytest.approx(0.675)


def test_both_services_get_the_same_timeouts() -> None:
    legacy, modern = (load_profile(a).app.client for a in ("legacy", "modern"))
    for field in ("db_connect_timeout_s", "db_query_timeout_s", "aws_timeout_s"):
        assert getattr(legacy, field).value == getattr(modern, field).value, field
    # the one difference: each SDK's own default (AsyncAws 3 retries, Go SDK v2 2 retries)
    assert (legacy.aws_max_attempts.value, modern.aws_max_attempts.value) == (4, 3)
    assert legacy.env()["AWS_TIMEOUT_MS"] == modern.env()["AWS_TIMEOUT_MS"] == "3000"


@pytest.mark.parametrize("arch", available_profiles())
def test_client_settings_and_sizes_are_cited_and_never_scaled(arch: str) -> None:
    rows = {row.setting: row for row in load_profile(arch).modelled(0.1)}
    for setting in ("app.client.db_query_timeout_s", "app.client.aws_timeout_s",
                    "app.client.aws_max_attempts", "app.size.cpus", "app.size.memory_mb",
                    "app.size.aws_size"):
        assert not rows[setting].scaled, setting
        assert rows[setting].used_value == rows[setting].aws_value, setting


def test_a_raw_env_timeout_is_refused_in_favour_of_the_cited_setting(tmp_path: Path) -> None:
    text = (stacks_root() / "modern" / "profile.yaml").read_text()
    path = _write(tmp_path, text.replace(
        '    SHUTDOWN_GRACE_MS: "5000"', '    SHUTDOWN_GRACE_MS: "5000"\n    AWS_TIMEOUT_MS: "9000"'
    ))
    with pytest.raises(ProfileError, match=r"profile.yaml:\d+: app.env: .*AWS_TIMEOUT_MS come"):
        load_profile(str(path))


def _validate(monkeypatch: pytest.MonkeyPatch, path: Path) -> int:
    monkeypatch.setattr("sys.argv", ["harness", "validate", str(path)])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return int(exited.value.code or 0)


def test_harness_validate_checks_a_stack_profile(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _validate(monkeypatch, stacks_root() / "modern" / "profile.yaml") == 0
    assert "stack profile 'modern'" in capsys.readouterr().out
    text = (stacks_root() / "modern" / "profile.yaml").read_text()
    path = _write(tmp_path, text.replace("  task_replacement_s:", "  task_replacment_s:"))
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1)
                if "task_replacment_s" in t)
    assert _validate(monkeypatch, path) == 2
    err = capsys.readouterr().err.strip()
    assert f"profile.yaml:{line}: orchestrator.task_replacment_s" in err
    assert "\n" not in err


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
    with pytest.raises(ProfileError, match=rf"{path}:5: database.proxy.max_conns: unknown key"):
        load_profile(str(path))


def test_a_variant_must_extend_a_known_architecture(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nextends: moden\n")
    with pytest.raises(ProfileError, match=rf"^{path}:2: extends: unknown architecture 'moden'"):
        load_profile(str(path))


@pytest.mark.parametrize(("arch", "failover"), [("modern", "failover_s"),
                                                ("legacy", "multi_az_failover_s")])
def test_a_dns_ttl_longer_than_the_failover_figure_that_includes_it_is_an_error(
    arch: str, failover: str,
) -> None:
    ttl = {"value": 200, "source": "assumption: a test's own figure"}
    with pytest.raises(ProfileError, match=f"dns_ttl_s 200 is longer than {failover}"):
        profile_with(arch, {"database": {"dns_ttl_s": ttl}}, file="t.yaml", node=None,
                     at="profile")
