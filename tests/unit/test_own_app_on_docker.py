"""A team's own service under the docker runtime: its image, the image check, start errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, cast

import docker
import pytest
import yaml
from docker.errors import NotFound
from typer.testing import CliRunner

from harness import cli
from harness.errors import EnvironmentProblem, ProfileError, ScenarioError, StackError
from harness.model.app import PYTHON_IMAGE
from harness.model.profile_file import load_profile
from harness.runtime import docker as dockerrt
from harness.runtime.base import ComponentSpec, ProcessSpec
from harness.runtime.wait import PortOpen
from harness.scenario.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "payments"


def _profile(tmp_path: Path, app: dict[str, Any], base: str = "modern") -> Path:
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump({"extends": base, "app": app}, sort_keys=False))
    return path


# --- App.docker_image() -----------------------------------------------------------------

def test_a_python_command_runs_in_the_python_image_else_the_kinds(tmp_path: Path) -> None:
    python = load_profile(str(_profile(tmp_path, {"command": ["{python}", "app.py"]})))
    assert python.app.docker_image() == PYTHON_IMAGE == "harness/python:latest"
    # another program keeps the kind's image: the harness cannot know what it needs
    binary = load_profile(str(_profile(tmp_path, {"command": ["./server", "{port}"]})))
    assert binary.app.docker_image() == "harness/go:latest"
    assert load_profile("legacy").app.docker_image() == "harness/php:latest"
    assert load_profile("modern").app.docker_image() == "harness/go:latest"


def test_app_image_wins_over_the_command(tmp_path: Path) -> None:
    profile = load_profile(str(_profile(
        tmp_path, {"command": ["{python}", "app.py"], "image": "payments:1.4"})))
    assert profile.app.docker_image() == "payments:1.4"
    assert profile.app.image_setting() == "app.image"


# --- app.image checked as an image reference when the profile is read -----------------------

@pytest.mark.parametrize("image", [
    "payments", "payments:1.4", "team/payments:latest", "localhost:5000/team/payments:2",
    "registry.example.com/a/b-c_d.e:1.0-rc1", "payments@sha256:" + "0" * 64,
])
def test_an_image_reference_is_accepted(tmp_path: Path, image: str) -> None:
    assert load_profile(str(_profile(tmp_path, {"image": image}))).app.image == image


@pytest.mark.parametrize("image", [
    "Payments", "pay ments", "payments:", "payments:-1", "/payments", "team//payments",
    "payments:1.4:5", "https://registry.example.com/payments",
])
def test_a_bad_image_reference_names_the_file_and_line(tmp_path: Path, image: str) -> None:
    path = _profile(tmp_path, {"command": ["{python}", "app.py"], "image": image})
    with pytest.raises(ProfileError) as err:
        load_profile(str(path))
    assert err.value.exit_code == 2
    # line 1 extends, 2 app:, 3-5 command, 6 image
    assert str(err.value).startswith(f"{path}:6: app.image: {image!r} is not an image "
                                     "reference"), str(err.value)


def test_a_bad_image_in_a_scenarios_variant_names_the_scenario_line(tmp_path: Path) -> None:
    folder = tmp_path / "payments"
    shutil.copytree(EXAMPLE, folder)
    scenario = yaml.safe_load((folder / "scenario.yaml").read_text())
    scenario["variants"]["modern#payments"]["profile"] = {
        "extends": "payments-modern.yaml", "app": {"image": "Not An Image"}}
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    with pytest.raises(ScenarioError, match=r"scenario\.yaml:\d+: variants\.modern#payments"
                       r"\.profile\.app\.image: 'Not An Image' is not an image reference"):
        load_scenario(str(path))


# --- where the image is chosen: the line a missing image's error names ---------------------

def test_the_examples_image_is_chosen_on_its_profile_files_command_line() -> None:
    found = load_scenario(str(EXAMPLE / "scenario.yaml"))
    for label, file in (("legacy#payments", "payments-legacy.yaml"),
                        ("modern#payments-bug", "payments-modern.yaml")):
        app = found.profile(label).app
        where = app.image_declared_at
        assert where is not None
        assert where.endswith(f"{file}:{_line_of(EXAMPLE / file)}"), where


def _line_of(path: Path, key: str = "  command:") -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1)
                if line.startswith(key))


class _Images:
    def __init__(self, present: set[str]) -> None:
        self.present = present

    def get(self, name: str) -> object:
        if name not in self.present:
            raise NotFound(f"No such image: {name}")
        return object()


class _Client:
    def __init__(self, present: set[str]) -> None:
        self.images = _Images(present)

    def close(self) -> None:
        pass


ALL_IMAGES = {*dockerrt.default_images().values(), PYTHON_IMAGE}


def _require(profiles: dict[str, Any], present: set[str]) -> None:
    dockerrt.require_images(profiles, cast(docker.DockerClient, _Client(present)))


def test_a_missing_python_image_names_the_profile_line_and_make_docker_setup() -> None:
    found = load_scenario(str(EXAMPLE / "scenario.yaml"))
    profiles = {a: found.profile(a) for a in found.architectures}
    _require(profiles, ALL_IMAGES)  # all there: nothing to say
    with pytest.raises(EnvironmentProblem) as err:
        _require(profiles, ALL_IMAGES - {PYTHON_IMAGE})
    assert err.value.exit_code == 2
    line = _line_of(EXAMPLE / "payments-legacy.yaml")
    assert re.match(rf"\S*payments-legacy\.yaml:{line}: app\.command \(legacy#payments\): "
                    r"\{python\} runs in harness/python:latest, which the docker engine does "
                    r"not have; run `make docker-setup`", str(err.value)), str(err.value)


def test_a_missing_own_image_says_to_build_it(tmp_path: Path) -> None:
    path = _profile(tmp_path, {"command": ["./server"], "image": "team/payments:1.4"})
    profile = load_profile(str(path))
    with pytest.raises(EnvironmentProblem) as err:
        _require({"modern": profile}, ALL_IMAGES)
    assert str(err.value).startswith(f"{path}:5: app.image (modern): the docker engine has "
                                     "no image team/payments:1.4; build it (`docker build -t "
                                     "team/payments:1.4 "), str(err.value)


def test_a_missing_stack_image_says_make_docker_setup() -> None:
    with pytest.raises(EnvironmentProblem, match=r"^modern: the docker engine has no image "
                       r"harness/mariadb:latest \(the stack's mariadb\); run `make "
                       r"docker-setup`"):
        _require({"modern": load_profile("modern")}, ALL_IMAGES - {"harness/mariadb:latest"})


def test_validate_runtime_docker_exits_2_on_a_missing_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    present = set(ALL_IMAGES)
    monkeypatch.setattr(dockerrt, "connect", lambda: _Client(present))
    scenario = str(EXAMPLE / "scenario.yaml")
    ok = CliRunner().invoke(cli.app, ["validate", scenario, "--runtime", "docker"])
    assert ok.exit_code == 0, ok.output
    present.discard(PYTHON_IMAGE)
    missing = CliRunner().invoke(cli.app, ["validate", scenario, "--runtime", "docker"])
    # the CLI's main() turns it into its one line and exit 2
    assert isinstance(missing.exception, EnvironmentProblem), missing.output
    assert missing.exception.exit_code == 2
    assert "harness/python:latest" in str(missing.exception)
    # without --runtime nothing asks an engine
    assert CliRunner().invoke(cli.app, ["validate", scenario]).exit_code == 0


# --- the container of a team's service ----------------------------------------------------

def _runtime(tmp_path: Path) -> dockerrt.DockerRuntime:
    # no engine is asked anything: building a container's arguments is pure logic
    return dockerrt.DockerRuntime(
        run_id="run-1", images=dockerrt.default_images(), log_dir=tmp_path / "logs",
        mounts=(tmp_path / "work",), client=cast(docker.DockerClient, object()),
    )


def _team_app(folder: Path, argv: tuple[str, ...]) -> ComponentSpec:
    return ComponentSpec(name="app-1", kind="go", zone="a", image=PYTHON_IMAGE, init=True,
                         processes=(ProcessSpec("app", argv, cwd=folder),), ready=PortOpen(4001))


def test_a_python_app_runs_the_images_python3_in_its_folder_mounted_read_only(
    tmp_path: Path,
) -> None:
    import sys

    folder = tmp_path / "team"
    kwargs = _runtime(tmp_path)._container_kwargs(
        _team_app(folder, (sys.executable, "app.py", "--port", "4001")))
    script = kwargs["command"][2]
    assert script == (f"cd {folder} && exec python3 app.py --port 4001 "
                      f">>{tmp_path / 'logs' / 'app-1.log'} 2>&1")
    assert kwargs["volumes"][str(folder)] == {"bind": str(folder), "mode": "ro"}
    assert kwargs["init"] is True
    assert kwargs["network_mode"] == "host"


def test_a_folder_inside_the_project_is_not_mounted_twice(tmp_path: Path) -> None:
    kwargs = _runtime(tmp_path)._container_kwargs(_team_app(EXAMPLE, ("python3", "app.py")))
    assert str(EXAMPLE) not in kwargs["volumes"]
    assert kwargs["volumes"][str(dockerrt.PROJECT_ROOT)]["mode"] == "ro"


def test_the_sample_services_run_without_docker_init(tmp_path: Path) -> None:
    spec = ComponentSpec(name="app-1", kind="go", processes=(ProcessSpec("shop", ("shop",)),),
                         ready=PortOpen(4001))
    assert "init" not in _runtime(tmp_path)._container_kwargs(spec)


# --- start errors carry the exit code -------------------------------------------------------

@pytest.mark.parametrize(("code", "oom", "expected"), [
    (0, False, 0), (3, False, 3), (128, False, 128), (137, False, -9), (143, False, -15),
    (1, True, -9),
])
def test_the_engines_exit_code_reads_as_a_popens(code: int, oom: bool, expected: int) -> None:
    assert dockerrt.engine_exit_code(code, oom_killed=oom) == expected


class _Exited:
    """A container whose main process ended with `code`."""

    status = "exited"

    def __init__(self, code: int) -> None:
        self.attrs = {"State": {"Status": "exited", "ExitCode": code, "OOMKilled": False}}

    def reload(self) -> None:
        pass

    def logs(self, **_: Any) -> bytes:
        return b""


@pytest.mark.parametrize(("code", "how"), [(3, "exit code 3"), (137, "killed by signal 9")])
def test_an_app_that_exits_at_start_is_named_with_its_exit_code_and_last_lines(
    tmp_path: Path, code: int, how: str,
) -> None:
    runtime = _runtime(tmp_path)
    spec = _team_app(tmp_path, ("python3", "app.py"))
    runtime._containers["app-1"] = cast(Any, _Exited(code))
    runtime._specs["app-1"] = spec
    runtime._main["app-1"] = None
    runtime.log_path("app-1").write_text("starting payments\ncannot read /etc/payments.conf\n")
    with pytest.raises(StackError) as err:
        runtime.wait("app-1")
    assert str(err.value).startswith(
        f"app-1 exited before it was ready ({how}, checked on 127.0.0.1:4001); its last log "
        "lines: starting payments | cannot read /etc/payments.conf; see "), str(err.value)
