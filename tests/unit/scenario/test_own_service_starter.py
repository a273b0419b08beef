"""`harness init --own-service`: the starter folder validates as written; a team's profile
files are variants of the eras they extend, their relative command runs beside them, and
`${NAME}` in app.env maps the harness's variables onto the team's names."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError, ScenarioError, StackError
from harness.load.locustcheck import check_workload
from harness.scenario.own_starter import write_own_starter
from harness.scenario.scenario import load_scenario
from harness.stacks.components.apps import mapped

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "payments" / "scenario.yaml"


def test_the_own_service_starter_validates_as_written(tmp_path: Path) -> None:
    scenario_file, *_ = write_own_starter(tmp_path / "mine")
    scenario = load_scenario(str(scenario_file))
    assert scenario.architectures == ["legacy#mine", "modern#mine"]
    assert scenario.own is not None
    assert not scenario.own.sample_shop
    assert [i.name for i in scenario.own.invariants] == ["no_empty_items"]
    for label, era in (("legacy#mine", "legacy"), ("modern#mine", "modern")):
        profile = scenario.profile(label)
        assert profile.name == era  # extends the shipped era, keeps its name and configs
        assert profile.app.command == ["{python}", "app.py", "--port", "{port}"]
        assert profile.app.workdir == str((tmp_path / "mine").resolve())
    assert check_workload(scenario.workload, str(scenario_file)) == ["Client"]
    with pytest.raises(ConfigError, match="already exists"):
        write_own_starter(tmp_path / "mine")


def test_a_profile_file_for_the_wrong_era_is_refused_with_its_file_and_line(
    tmp_path: Path
) -> None:
    scenario_file, legacy, *_ = write_own_starter(tmp_path)
    legacy.write_text(legacy.read_text().replace("extends: legacy", "extends: modern"))
    with pytest.raises(ScenarioError, match=r"legacy\.yaml:3: extends: .*extends: legacy"):
        load_scenario(str(scenario_file))


def test_an_unknown_command_placeholder_names_the_profile_file(tmp_path: Path) -> None:
    scenario_file, legacy, *_ = write_own_starter(tmp_path)
    legacy.write_text(legacy.read_text().replace('"{port}"]', '"{prot}"]'))
    with pytest.raises(ScenarioError, match=r"legacy\.yaml:\d+: app\.command: .*\{prot\}"):
        load_scenario(str(scenario_file))


def test_the_example_runs_its_planted_bug_as_a_variant_of_its_profile_files() -> None:
    scenario = load_scenario(str(EXAMPLE))
    bug = scenario.profile("modern#payments-bug")
    assert bug.app.env["BUG"] == "ack_before_commit"
    assert bug.app.env["PAYMENTS_DB_HOST"] == "${DB_HOST}"
    assert "BUG" not in scenario.profile("modern#payments").app.env
    assert bug.load_balancer.health_check.path is not None
    assert bug.load_balancer.health_check.path.value == "/readyz"


def test_app_env_maps_the_harness_variables_onto_the_teams_names() -> None:
    profile = load_scenario(str(EXAMPLE)).profile("legacy#payments")
    harness_env = {"DB_HOST": "127.0.0.1", "DB_PORT": "4000", "DB_USER": "app",
                   "DB_PASSWORD": "pw", "DB_NAME": "shop", "AWS_ENDPOINT_URL": "http://x",
                   "AWS_REGION": "us-east-1", "SQS_QUEUE_URL_PAYMENT_EVENTS": "http://x/q"}
    env = mapped(harness_env, profile)
    assert env["PAYMENTS_DB_PORT"] == "4000"
    assert env["PAYMENTS_EVENTS_QUEUE"] == "http://x/q"
    assert env["DB_HOST"] == "127.0.0.1"  # the harness's own names stay
    del harness_env["SQS_QUEUE_URL_PAYMENT_EVENTS"]
    with pytest.raises(StackError, match=r"app\.env\.PAYMENTS_EVENTS_QUEUE: "
                                         r"\$\{SQS_QUEUE_URL_PAYMENT_EVENTS\}"):
        mapped(harness_env, profile)
