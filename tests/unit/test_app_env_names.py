"""`${NAME}` in a profile's `app.env` is checked when the profile is read: a name the app will
not have stops `harness validate` and `harness run` with file:line, the field, the name and
the names it could be, before anything starts."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import cli
from harness.errors import HarnessError, ProfileError, ScenarioError
from harness.model.components import APP_TO_AWS, APP_TO_DB, APP_TO_READER
from harness.model.profile import MEMBER_ENV, Profile
from harness.model.profile_file import load_profile
from harness.scenario.scenario import SCENARIOS_DIR, load_scenario
from harness.stacks.components import apps

SMOKE: dict[str, Any] = yaml.safe_load((SCENARIOS_DIR / "smoke.yaml").read_text())


def _team_file(folder: Path, env: dict[str, str], *, base: str = "modern",
               name: str = "team.yaml") -> Path:
    """A team's profile file on `base` whose service reads `env` (written line by line)."""
    lines = [f"extends: {base}", "app:", '  command: ["{python}", app.py, --port, "{port}"]',
             "  env:", *(f"    {k}: {v}" for k, v in env.items())]
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _scenario(folder: Path, variants: str, *, archs: str = "[modern#team]",
              own: str = "") -> Path:
    data = {k: v for k, v in SMOKE.items() if k not in ("architectures", "faults", "slos")}
    path = folder / "s.yaml"
    path.write_text(f"architectures: {archs}\n" + yaml.safe_dump(data, sort_keys=False)
                    + variants + own)
    return path


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
          ) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["harness", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.err + captured.out


TEAM_VARIANT = """
variants:
  modern#team:
    description: the team's service
    profile: team.yaml
"""
OWN_QUEUE = """
own_service:
  sample_shop: true
  queues: [payment-events]
"""


# -- the declaration is the fill -------------------------------------------------------------


@pytest.mark.parametrize("arch", ["legacy", "modern"])
def test_the_declared_harness_variables_are_those_the_stack_fills(arch: str) -> None:
    profile = load_profile(arch)
    edges = {APP_TO_DB: ("127.0.0.1", 1), APP_TO_AWS: ("127.0.0.1", 2)}
    if profile.has_reader:
        edges[APP_TO_READER] = ("127.0.0.1", 3)
    filled = apps.env(profile, edges=edges, queue_url="http://127.0.0.1:2/000000000000/orders")
    assert set(filled) - set(profile.app.env) == set(profile.harness_env())


def test_the_declared_variables_follow_the_profile_s_reader_and_bucket() -> None:
    legacy, modern = load_profile("legacy"), load_profile("modern")
    assert not legacy.has_reader
    assert legacy.aws.bucket is None
    assert "DB_READER_HOST" not in legacy.harness_env()
    assert "S3_BUCKET" not in legacy.harness_env()
    assert {"DB_READER_HOST", "DB_READER_PORT", "S3_BUCKET"} <= set(modern.harness_env())


# -- a profile read on its own ----------------------------------------------------------------


def test_a_misspelt_harness_variable_names_the_file_line_field_and_known_names(
    tmp_path: Path,
) -> None:
    path = _team_file(tmp_path, {"PAYMENTS_DB_NAME": "${DB_NAME}",
                                 "PAYMENTS_DB_HOST": "${DB_HSOT}"})
    with pytest.raises(ProfileError) as info:
        load_profile(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}:{_line(path, 'PAYMENTS_DB_HOST')}: "
                              "app.env.PAYMENTS_DB_HOST: ${DB_HSOT} ")
    assert "known: " in message
    assert "DB_HOST" in message.split("known: ", 1)[1]


def test_a_harness_variable_this_stack_lacks_is_refused(tmp_path: Path) -> None:
    # legacy has no reader and no bucket: the names exist, but not on this stack
    for name in ("DB_READER_HOST", "S3_BUCKET"):
        path = _team_file(tmp_path, {"TEAM_VALUE": f"${{{name}}}"}, base="legacy")
        with pytest.raises(ProfileError, match=rf"app\.env\.TEAM_VALUE: \$\{{{name}\}} is not"):
            load_profile(str(path))
    assert load_profile(str(_team_file(tmp_path, {"TEAM_VALUE": "${S3_BUCKET}"})))


@pytest.mark.parametrize("name", MEMBER_ENV)
def test_a_per_member_variable_is_refused_as_it_is_set_after_the_mapping(
    tmp_path: Path, name: str,
) -> None:
    path = _team_file(tmp_path, {"TEAM_VALUE": f"x-${{{name}}}"})
    with pytest.raises(ProfileError) as info:
        load_profile(str(path))
    assert f"app.env.TEAM_VALUE: ${{{name}}} is set on each member after app.env" in str(
        info.value)
    assert f"{path}:{_line(path, 'TEAM_VALUE')}:" in str(info.value)


def test_without_its_scenario_a_name_outside_the_harness_s_space_may_be_a_scenario_s(
    tmp_path: Path,
) -> None:
    # a queue's variable is the scenario's to give: read alone, the file cannot judge it
    profile = load_profile(str(_team_file(tmp_path, {"Q": "${SQS_QUEUE_URL_PAYMENT_EVENTS}"})))
    assert isinstance(profile, Profile)
    with pytest.raises(ProfileError, match=r"SQS_QUEUE_URL_PAYMENT_EVENTS\} is not a variable"):
        load_profile(str(_team_file(tmp_path, {"Q": "${SQS_QUEUE_URL_PAYMENT_EVENTS}"})),
                     env_names=())


# -- a profile read in its scenario -----------------------------------------------------------


def test_a_scenario_s_own_queue_is_a_known_name(tmp_path: Path) -> None:
    _team_file(tmp_path, {"PAYMENTS_EVENTS_QUEUE": "${SQS_QUEUE_URL_PAYMENT_EVENTS}"})
    found = load_scenario(str(_scenario(tmp_path, TEAM_VARIANT, own=OWN_QUEUE)))
    env = found.profile("modern#team").app.env
    assert env["PAYMENTS_EVENTS_QUEUE"] == "${SQS_QUEUE_URL_PAYMENT_EVENTS}"


def test_a_misspelt_own_queue_names_the_team_file_and_the_scenario_s_names(
    tmp_path: Path,
) -> None:
    team = _team_file(tmp_path, {"PAYMENTS_EVENTS_QUEUE": "${SQS_QUEUE_URL_PAYMENT_EVENT}"})
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(_scenario(tmp_path, TEAM_VARIANT, own=OWN_QUEUE)))
    message = str(info.value)
    assert message.startswith(f"{team}:{_line(team, 'PAYMENTS_EVENTS_QUEUE')}: "
                              "app.env.PAYMENTS_EVENTS_QUEUE: ${SQS_QUEUE_URL_PAYMENT_EVENT} ")
    assert message.endswith("own_service queues and buckets: SQS_QUEUE_URL_PAYMENT_EVENTS")


def test_an_own_queue_the_scenario_does_not_declare_is_refused(tmp_path: Path) -> None:
    _team_file(tmp_path, {"PAYMENTS_EVENTS_QUEUE": "${SQS_QUEUE_URL_PAYMENT_EVENTS}"})
    with pytest.raises(ScenarioError, match=r"queues and buckets: none$"):
        load_scenario(str(_scenario(tmp_path, TEAM_VARIANT)))


def test_an_inline_variant_s_name_points_at_the_scenario_s_line(tmp_path: Path) -> None:
    variants = """
variants:
  modern#team:
    description: the sample task reading a bucket it does not get
    profile:
      app:
        env:
          TEAM_BUCKET: ${S3_BUCKET_INVOICE}
"""
    own = "\nown_service:\n  buckets: [invoices]\n"
    path = _scenario(tmp_path, variants, own=own)
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    assert str(info.value).startswith(
        f"{path}:{_line(path, 'TEAM_BUCKET')}: variants.modern#team.profile.app.env.TEAM_BUCKET: "
        "${S3_BUCKET_INVOICE} is not a variable")
    assert "S3_BUCKET_INVOICES" in str(info.value)
    fixed = path.read_text().replace("${S3_BUCKET_INVOICE}", "${S3_BUCKET_INVOICES}")
    path.write_text(fixed)
    assert load_scenario(str(path)).profile("modern#team").app.env["TEAM_BUCKET"]


# -- the commands ------------------------------------------------------------------------------


def test_validate_exits_2_naming_file_line_and_field_on_a_typo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    team = _team_file(tmp_path, {"PAYMENTS_DB_HOST": "${DB_HOST}",
                                 "PAYMENTS_EVENTS_QUEUE": "${SQS_QUEUE_URL_PAYMENT_EVNETS}"})
    scenario = _scenario(tmp_path, TEAM_VARIANT, own=OWN_QUEUE)
    code, said = _main(monkeypatch, capsys, "validate", str(scenario))
    assert code == 2
    line = _line(team, "PAYMENTS_EVENTS_QUEUE")
    assert re.search(rf"harness: error: {re.escape(str(team))}:{line}: "
                     r"app\.env\.PAYMENTS_EVENTS_QUEUE: \$\{SQS_QUEUE_URL_PAYMENT_EVNETS\} ", said)
    fixed = team.read_text().replace("EVNETS", "EVENTS")
    team.write_text(fixed)
    code, said = _main(monkeypatch, capsys, "validate", str(scenario))
    assert (code, said.startswith("ok: ")) == (0, True)


def test_run_refuses_a_typo_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    started: list[object] = []

    def rehearse(*args: object, **_kwargs: object) -> None:
        started.append(args)
        raise HarnessError("a stack would start here")

    monkeypatch.setattr(cli, "rehearse", rehearse)
    monkeypatch.setattr(cli, "capacity_gate", lambda **_k: started.append("gate"))
    _team_file(tmp_path, {"PAYMENTS_DB_HOST": "${DB_HSOT}"})
    code, said = _main(monkeypatch, capsys, "run", str(_scenario(tmp_path, TEAM_VARIANT)),
                       "--ci")
    assert code == 2
    assert "app.env.PAYMENTS_DB_HOST: ${DB_HSOT} is not a variable" in said
    assert started == []
