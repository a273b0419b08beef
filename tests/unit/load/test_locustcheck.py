"""A team's locustfile is checked before anything starts, in a child process, with the
team's own file and line in every error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import LoadError, ScenarioError
from harness.load.locustcheck import check, check_workload, describe_import_error
from harness.scenario.workload import load_workload

DOCS_STYLE = """\
from locust import HttpUser, task, between


class QuickstartUser(HttpUser):
    wait_time = between(0.5, 1.5)

    @task
    def hello_world(self):
        self.client.get("/products")

    @task(3)
    def view_item(self):
        self.client.get("/products/1")
"""


def _broken_on_line_3(text: str) -> str:
    lines = text.splitlines()
    lines[2] = "class Broken(:"
    return "\n".join(lines) + "\n"


def test_a_syntax_error_names_the_users_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "locustfile.py"
    source = _broken_on_line_3(DOCS_STYLE)
    try:
        compile(source, str(path), "exec")
    except SyntaxError as exc:
        message = describe_import_error(str(path), exc)
    assert message == f"{path}:3: the locustfile does not import: SyntaxError: invalid syntax"


def test_a_documentation_style_locustfile_passes_and_gevent_stays_out(tmp_path: Path) -> None:
    path = tmp_path / "locustfile.py"
    path.write_text(DOCS_STYLE)
    assert check(path) == ["QuickstartUser"]
    # in a fresh interpreter: the check imports Locust only in its child process
    code = (
        "import sys; from pathlib import Path; from harness.load.locustcheck import check;"
        f"check(Path({str(path)!r})); print('gevent' in sys.modules, 'locust' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_a_broken_copy_fails_with_line_3(tmp_path: Path) -> None:
    path = tmp_path / "locustfile.py"
    path.write_text(_broken_on_line_3(DOCS_STYLE))
    with pytest.raises(LoadError, match=rf"^{path}:3: the locustfile does not import: SyntaxError"):
        check(path)


def test_an_exception_at_import_names_the_line_in_the_locustfile(tmp_path: Path) -> None:
    path = tmp_path / "team.py"
    path.write_text("import locust\n\nimport no_such_module_here\n")
    with pytest.raises(LoadError) as info:
        check(path)
    assert str(info.value) == (
        f"{path}:3: the locustfile does not import: "
        "ModuleNotFoundError: No module named 'no_such_module_here'"
    )


def test_a_locustfile_without_user_classes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "team.py"
    path.write_text("from locust import HttpUser\n\nx = 1\n")
    with pytest.raises(LoadError, match=rf"^{path}: defines no Locust User class"):
        check(path)


def test_unknown_user_classes_name_the_scenario_line(tmp_path: Path) -> None:
    (tmp_path / "locustfile.py").write_text(DOCS_STYLE)
    scenario = tmp_path / "byo.yaml"
    scenario.write_text(
        "workload:\n"
        "  locustfile:\n"
        "    path: locustfile.py\n"
        "    user_classes: [Shopper]\n"
        "    users: 1\n"
        "    duration: 1s\n"
    )
    workload = load_workload(
        {"locustfile": {"path": str(tmp_path / "locustfile.py"), "user_classes": ["Shopper"],
                        "users": 1, "duration": "1s"}}, str(scenario))
    with pytest.raises(ScenarioError) as info:
        check_workload(workload, str(scenario))
    assert str(info.value) == (
        f"{scenario}:4: workload.locustfile.user_classes: Shopper not found in "
        f"{tmp_path / 'locustfile.py'}; it defines QuickstartUser"
    )
