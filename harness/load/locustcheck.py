"""Does a team's locustfile import, and does it define the User classes a scenario names?

Importing a locustfile imports Locust, which monkey-patches the whole process with
gevent; the harness process keeps the clock, starts stacks and injects faults and
must stay plain Python. So the import is tried in a child process,

    python -m harness.load.locustcheck FILE

which prints one `@harness-check {...}` line: the User classes found, or the
problem with the user's file and line (`locustfile.py:3: the locustfile does not
import: SyntaxError: invalid syntax`). `harness validate` and `harness run` call
`check_workload` before any stack starts, so a broken locustfile is bad input
(exit 2), not a failed rehearsal.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

from harness import yamlfile
from harness.errors import LoadError, ScenarioError
from harness.scenario.workload import Workload

PREFIX = "@harness-check "
#: importing Locust takes 1-2 s; a locustfile that takes a minute to import is stuck
TIMEOUT_S = 60.0


def describe_import_error(path: str, exc: BaseException) -> str:
    """One line: the user's `file:line`, then what went wrong while importing `path`.

    The last traceback frame is importlib's (a line of no file the user has), so the
    line is the deepest frame in the locustfile itself, or a SyntaxError's own position.
    """
    where = path
    detail = str(exc)
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        where = f"{path if _same(exc.filename, path) else exc.filename}:{exc.lineno}"
        detail = exc.msg
    else:
        mine = [f for f in traceback.extract_tb(exc.__traceback__) if _same(f.filename, path)]
        if mine:
            where = f"{path}:{mine[-1].lineno}"
    text = f"{where}: the locustfile does not import: {type(exc).__name__}: {detail}"
    return text.splitlines()[0]


def no_users_message(path: str) -> str:
    return (
        f"{path}: defines no Locust User class; add a class deriving from locust's HttpUser "
        "(or User) with at least one @task"
    )


def unknown_user_classes(found: list[str], wanted: list[str]) -> list[str]:
    """The names in `wanted` that the locustfile does not define."""
    return [name for name in wanted if name not in found]


def check(path: Path) -> list[str]:
    """The names of the User classes `path` defines; LoadError naming file:line if unusable."""
    if not path.is_file():
        raise LoadError(f"{path}: no such locustfile")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "harness.load.locustcheck", str(path)],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT_S,
            check=False, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    except subprocess.TimeoutExpired:
        raise LoadError(
            f"{path}: importing the locustfile took longer than {TIMEOUT_S:g} s; "
            "does it wait for something at import time?"
        ) from None
    reports = [line[len(PREFIX):] for line in done.stdout.splitlines() if line.startswith(PREFIX)]
    if not reports:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise LoadError(f"{path}: the locustfile check exited {done.returncode}: {tail}")
    report = json.loads(reports[-1])
    if report.get("error"):
        raise LoadError(str(report["error"]))
    return [str(name) for name in report["users"]]


def check_workload(workload: Workload, source: str) -> list[str]:
    """The User classes the workload's locustfile will run ([] without a locustfile).

    Errors name the locustfile's own line, or (for `user_classes`) the scenario
    field in `source`; both are exit 2.
    """
    locustfile = workload.locustfile
    if locustfile is None:
        return []
    try:
        found = check(locustfile.path)
    except LoadError as exc:
        raise ScenarioError(f"{exc} (the locustfile of {source})") from None
    unknown = unknown_user_classes(found, locustfile.user_classes)
    if unknown:
        message = (
            f"{source}: workload.locustfile.user_classes: {', '.join(unknown)} not found in "
            f"{locustfile.path}; it defines {', '.join(found)}"
        )
        with contextlib.suppress(ScenarioError):  # no line then, the field still says where
            _data, root = yamlfile.read(Path(source), "scenario", ScenarioError)
            message = yamlfile.add_lines(message, source, root)
        raise ScenarioError(message)
    return locustfile.user_classes or found


def _same(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def main(argv: list[str]) -> int:
    """Child process: import the locustfile, print one report line."""
    if len(argv) != 1:
        print("usage: python -m harness.load.locustcheck LOCUSTFILE", file=sys.stderr)
        return 2
    path = argv[0]
    import locust  # noqa: F401  # gevent's monkey-patching first, as in a real worker
    from locust.util.load_locustfile import load_locustfile

    report: dict[str, object]
    try:
        found, _shapes = load_locustfile(path)
    except BaseException as exc:  # a locustfile can raise anything, SystemExit included
        report = {"error": describe_import_error(path, exc)}
    else:
        report = {"users": sorted(found)} if found else {"error": no_users_message(path)}
    sys.stdout.write(PREFIX + json.dumps(report) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
