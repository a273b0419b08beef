"""A scenario's `variants:`: a labelled copy of a profile with some settings changed, merged and
validated like a profile file, with errors naming the scenario's file and line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from harness.cli import _pick_archs
from harness.errors import ProfileError, ScenarioError
from harness.model.profile_file import load_profile
from harness.scenario.scenario import SCENARIOS_DIR, Scenario, load_scenario, on_architectures
from harness.scenario.variants import modelled_rows

SMOKE: dict[str, Any] = yaml.safe_load((SCENARIOS_DIR / "smoke.yaml").read_text())

ROUND_ROBIN = {"value": "round_robin", "source": "ELB Classic guide: TCP listeners use round robin"}
VARIANTS = """
variants:
  legacy#rr:
    description: round robin, as a CLB's TCP listener routes
    profile:
      load_balancer:
        routing: {value: round_robin, source: "ELB Classic guide: TCP listeners use round robin"}
        health_check:
          unhealthy_threshold: {value: 3, source: "assumption: a team's tuned check"}
      app: {instances: 3}
  modern#slow-failover:
    description: an Aurora failover at the slow end
    profile:
      database:
        failover_s: {value: 120, source: "assumption: the slow end of a failover"}
"""


def _write(tmp_path: Path, variants: str = VARIANTS, archs: str = "[legacy, legacy#rr]",
           **changes: Any) -> Path:
    """smoke.yaml with other architectures and a `variants:` block as written (for its lines)."""
    data = {**SMOKE, **changes}
    data.pop("architectures")
    path = tmp_path / "s.yaml"
    path.write_text(f"architectures: {archs}\n" + yaml.safe_dump(data, sort_keys=False)
                    + variants)
    return path


def _line(path: Path, text: str) -> int:
    """1-based line of the first line of `path` containing `text`."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _error(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_variant_is_its_profile_with_the_overrides_merged_key_by_key(tmp_path: Path) -> None:
    scenario = load_scenario(str(_write(tmp_path)))
    base, varied = load_profile("legacy"), scenario.profile("legacy#rr")
    assert varied.load_balancer.routing.value == "round_robin"
    assert varied.load_balancer.routing.source == ROUND_ROBIN["source"]
    assert varied.load_balancer.health_check.unhealthy_threshold.value == 3
    assert varied.app.instances == 3
    # everything it does not name is the base profile's, down to siblings of what it names
    check, base_check = varied.load_balancer.health_check, base.load_balancer.health_check
    assert check.interval_s == base_check.interval_s
    assert check.healthy_threshold == base_check.healthy_threshold
    assert varied.database == base.database
    assert varied.name == "legacy"


def test_a_plain_label_runs_its_profile_as_it_is(tmp_path: Path) -> None:
    scenario = load_scenario(str(_write(tmp_path)))
    assert scenario.profile("legacy") == load_profile("legacy")
    assert scenario.profile("legacy#prescaled") == load_profile("legacy")
    assert scenario.variant("legacy") is None
    # a copy of a variant (`--arch legacy#rr,legacy#rr`) runs the variant too
    variant = scenario.variant("legacy#rr#2")
    assert variant is not None
    assert variant.label == "legacy#rr"


def test_every_override_is_recorded_with_the_base_value_and_its_source(tmp_path: Path) -> None:
    variant = load_scenario(str(_write(tmp_path))).variant("legacy#rr")
    assert variant is not None
    assert variant.to_json() == {
        "description": "round robin, as a CLB's TCP listener routes",
        "overrides": [
            {"setting": "load_balancer.routing", "base_value": "least_outstanding_requests",
             "value": "round_robin", "source": ROUND_ROBIN["source"]},
            {"setting": "load_balancer.health_check.unhealthy_threshold", "base_value": 2,
             "value": 3, "source": "assumption: a team's tuned check"},
            {"setting": "app.instances", "base_value": 2, "value": 3, "source": None},
        ],
    }


def test_the_modelled_rows_of_a_variant_mark_what_it_overrides(tmp_path: Path) -> None:
    scenario = load_scenario(str(_write(tmp_path)))
    rows = {r["setting"]: r for r in modelled_rows(
        scenario.profile("legacy#rr"), scenario.variant("legacy#rr"), 0.1)}
    assert rows["load_balancer.routing"]["overridden"] is True
    assert rows["load_balancer.routing"]["source"] == ROUND_ROBIN["source"]
    assert rows["load_balancer.health_check.unhealthy_threshold"]["overridden"] is True
    assert rows["load_balancer.health_check.healthy_threshold"]["overridden"] is False
    assert rows["load_balancer.health_check.interval_s"]["overridden"] is False
    plain = modelled_rows(scenario.profile("legacy"), scenario.variant("legacy"), 0.1)
    assert not any(r["overridden"] for r in plain)


def test_a_misspelt_nested_key_names_the_scenarios_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, VARIANTS.replace("health_check:", "health_checc:"))
    assert _error(path) == (
        f"{path}:{_line(path, 'health_checc')}: "
        "variants.legacy#rr.profile.load_balancer.health_checc: unknown key; check the "
        "spelling against stacks/legacy or stacks/modern")


def test_a_new_value_without_its_source_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, VARIANTS.replace(
        """{value: 3, source: "assumption: a team's tuned check"}""", "{value: 3}"))
    message = _error(path)
    assert message.startswith(
        f"{path}:{_line(path, 'unhealthy_threshold')}: "
        "variants.legacy#rr.profile.load_balancer.health_check.unhealthy_threshold: "
        "a new value needs its own source")


def test_a_value_of_the_wrong_type_names_the_field(tmp_path: Path) -> None:
    path = _write(tmp_path, VARIANTS.replace("{instances: 3}", "{instances: many}"))
    assert _error(path).startswith(
        f"{path}:{_line(path, 'instances: many')}: variants.legacy#rr.profile.app.instances: ")


def test_a_check_across_sections_points_at_the_setting_it_blames(tmp_path: Path) -> None:
    # the depth is checked against the app's paths after the fields, on the whole profile;
    # the error still names the depth's own line, not the variant's `profile:`
    variant = """
variants:
  legacy#rr:
    description: a shallow depth on the deep path
    profile:
      load_balancer:
        health_check:
          depth: {value: shallow, source: "assumption: a wrong depth for /ready"}
"""
    path = _write(tmp_path, variant)
    assert _error(path).startswith(
        f"{path}:{_line(path, 'depth:')}: variants.legacy#rr.profile.load_balancer.health_check"
        ".depth: /ready on the php app is a deep check, not shallow")


def test_a_variant_of_an_unknown_profile_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, VARIANTS.replace("modern#slow-failover:", "modrn#slow-failover:"))
    assert _error(path) == (
        f"{path}:{_line(path, 'modrn#')}: variants.modrn#slow-failover: no stack profile "
        "'modrn'; choose from legacy, modern, modern-nlb, modern-no-proxy")


@pytest.mark.parametrize("label", ["legacy", "legacy#a.b", "#x"])
def test_a_variant_is_named_by_a_label_with_a_variant_part(tmp_path: Path, label: str) -> None:
    path = _write(tmp_path, VARIANTS.replace("modern#slow-failover:", f"'{label}':"))
    assert "name a variant as a label <profile>#<name>" in _error(path)


def test_a_variant_needs_a_description_and_nothing_but_a_profile(tmp_path: Path) -> None:
    no_description = _write(tmp_path, VARIANTS.replace(
        "    description: an Aurora failover at the slow end\n", ""))
    assert "variants.modern#slow-failover.description: say in one line" in _error(
        no_description)
    extra = _write(tmp_path, VARIANTS + "    profil: {}\n")
    assert "a variant has `description:`" in _error(extra)


def test_faults_are_checked_against_the_variants_topology(tmp_path: Path) -> None:
    # legacy has app-1 and app-2; its variant legacy#rr has a third instance to kill
    faults = [{"name": "kill-app", "type": "kill", "target": "app-3", "at": "steady+2s"}]
    slos = [s for s in SMOKE["slos"] if s.get("fault") in (None, "kill-app")]
    scenario = load_scenario(str(_write(tmp_path, archs="[legacy#rr]", faults=faults,
                                        slos=slos)))
    assert scenario.architectures == ["legacy#rr"]
    with pytest.raises(ScenarioError, match="app-3"):
        on_architectures(scenario, ["legacy#rr", "legacy"])
    with pytest.raises(ScenarioError, match="app-3"):
        load_scenario(str(_write(tmp_path, archs="[legacy, legacy#rr]", faults=faults,
                                 slos=slos)))
    # outside `architectures` a variant is checked when `--arch` picks it
    fewer = VARIANTS.replace("{instances: 3}", "{instances: 2}")
    scenario = load_scenario(str(_write(tmp_path, fewer, archs="[modern]", faults=faults,
                                        slos=slos)))
    with pytest.raises(ScenarioError, match="app-3"):
        on_architectures(scenario, ["modern", "legacy#rr"])


def test_arch_picks_a_variant_the_scenario_defines(tmp_path: Path) -> None:
    scenario: Scenario = load_scenario(str(_write(tmp_path, archs="[legacy, modern]")))
    variants = list(scenario.variants)
    assert _pick_archs("modern,modern#slow-failover", scenario.architectures, variants) == [
        "modern", "modern#slow-failover"]
    assert _pick_archs("legacy#rr,legacy#rr", scenario.architectures, variants) == [
        "legacy#rr", "legacy#rr#2"]
    with pytest.raises(typer.BadParameter, match="the scenario's labels legacy#rr"):
        _pick_archs("legacy#tcp", scenario.architectures, variants)
    picked = on_architectures(scenario, ["modern", "modern#slow-failover"])
    assert picked.architectures == ["modern", "modern#slow-failover"]
    assert picked.profile("modern#slow-failover").database.failover_s.value == 120


def test_an_extends_profile_gives_a_new_value_its_source(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text("extends: modern\nname: x\napp:\n  client:\n"
                    "    db_query_timeout_s: {value: 9}\n")
    with pytest.raises(ProfileError, match=rf"^{path}:5: app.client.db_query_timeout_s: a new "
                       "value needs its own source"):
        load_profile(str(path))


def test_validate_lists_the_variants_it_found(tmp_path: Path) -> None:
    path = _write(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "validate", str(path)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert ("variant legacy#rr: round robin, as a CLB's TCP listener routes "
            "(load_balancer.routing: least_outstanding_requests -> round_robin; "
            "load_balancer.health_check.unhealthy_threshold: 2 -> 3; app.instances: 2 -> 3); "
            "runs") in result.stdout
    assert "variant modern#slow-failover: " in result.stdout
    assert "pick with --arch modern#slow-failover" in result.stdout
