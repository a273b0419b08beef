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

A `LoadTestShape` class in the file is followed on a dry clock: its `tick()` is
called for second 0, 1, 2, ... (Locust ticks once a second from the start of the
load) with `get_run_time()` returning that second, which gives its stages and the
second it returns None. A shape whose tick reads anything else (the live user
count, the wall clock) cannot be followed so; it still runs, with its stages unknown.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import yamlfile
from harness.errors import LoadError, ScenarioError
from harness.scenario.workload import Workload

PREFIX = "@harness-check "
#: importing Locust takes 1-2 s; a locustfile that takes a minute to import is stuck
TIMEOUT_S = 60.0
#: how far a shape is followed on the dry clock when no workload says how long the load is
FOLLOW_S = 3600.0
#: stages shown by `harness validate` before "... and N more"
SHOWN_STAGES = 8


@dataclass(frozen=True)
class Stage:
    """From `at_s` on, tick() asks for `users` at `spawn_rate` (of `user_classes`, or all)."""

    at_s: float
    users: int
    spawn_rate: float
    user_classes: list[str] | None = None

    def describe(self) -> str:
        only = f" of {', '.join(self.user_classes)}" if self.user_classes else ""
        return f"{self.at_s:g} s: {self.users} users{only} (spawn {self.spawn_rate:g}/s)"


@dataclass(frozen=True)
class Shape:
    """A locustfile's LoadTestShape as followed on the dry clock."""

    name: str
    stages: list[Stage] = field(default_factory=list)
    #: the first second tick() returned None; None when it did not within the dry run
    end_s: float | None = None
    #: why the stages could not be followed ("" when they could)
    unknown: str = ""
    #: how far the dry run went
    followed_s: float = 0.0

    def describe(self) -> str:
        """One line for `harness validate`."""
        if self.unknown:
            return (f"shape {self.name}: stages unknown ({self.unknown}); it runs until its "
                    "tick() returns None or the locustfile's duration")
        shown = [s.describe() for s in self.stages[:SHOWN_STAGES]]
        if len(self.stages) > SHOWN_STAGES:
            shown.append(f"... and {len(self.stages) - SHOWN_STAGES} more")
        end = (f"ends the load at {self.end_s:g} s" if self.end_s is not None
               else f"still running at {self.followed_s:g} s: the load stops it at the duration")
        return f"shape {self.name}: {'; '.join(shown)}; {end}"


@dataclass(frozen=True)
class LocustfileInfo:
    """What a locustfile defines: its User classes and its shape, if any."""

    path: Path
    users: list[str]
    shape: Shape | None = None


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


def many_shapes_message(path: str, names: list[str]) -> str:
    return (
        f"{path}: defines {len(names)} LoadTestShape classes ({', '.join(sorted(names))}); "
        "Locust runs one shape: keep one in the file (or mark the others `abstract = True`)"
    )


def unknown_user_classes(found: list[str], wanted: list[str]) -> list[str]:
    """The names in `wanted` that the locustfile does not define."""
    return [name for name in wanted if name not in found]


def check(path: Path) -> list[str]:
    """The names of the User classes `path` defines; LoadError naming file:line if unusable."""
    return inspect(path).users


def inspect(path: Path, follow_s: float = FOLLOW_S) -> LocustfileInfo:
    """The User classes `path` defines and its shape followed for `follow_s` seconds.

    LoadError naming file:line if the locustfile is unusable.
    """
    if not path.is_file():
        raise LoadError(f"{path}: no such locustfile")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "harness.load.locustcheck", str(path), f"{follow_s:g}"],
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
    shape = report.get("shape")
    return LocustfileInfo(
        path, [str(name) for name in report["users"]],
        Shape(
            name=shape["name"], stages=[Stage(*row) for row in shape["stages"]],
            end_s=shape["end_s"], unknown=shape["unknown"], followed_s=shape["followed_s"],
        ) if shape else None,
    )


def check_workload(workload: Workload, source: str) -> list[str]:
    """The User classes the workload's locustfile will run ([] without a locustfile).

    Errors name the locustfile's own line, or the scenario field in `source`; all
    are exit 2.
    """
    info = inspect_workload(workload, source)
    return info.users if info is not None else []


def inspect_workload(workload: Workload, source: str) -> LocustfileInfo | None:
    """The locustfile's User classes to run and its shape (None without a locustfile).

    With a shape, `users` and `spawn_rate` must be left out (Locust ignores them with
    a shape too) and a shape followed to its end must not end before `duration`, or
    faults and SLO windows would fall after the load; without one, `users` is needed.
    """
    locustfile = workload.locustfile
    if locustfile is None:
        return None
    try:
        # one second past the duration: a shape ending exactly at it is seen to end
        info = inspect(locustfile.path, follow_s=math.floor(locustfile.duration) + 1)
    except LoadError as exc:
        raise ScenarioError(f"{exc} (the locustfile of {source})") from None
    field_ = f"{source}: workload.locustfile"
    unknown = unknown_user_classes(info.users, locustfile.user_classes)
    if unknown:
        raise ScenarioError(_with_lines(
            f"{field_}.user_classes: {', '.join(unknown)} not found in "
            f"{locustfile.path}; it defines {', '.join(info.users)}", source))
    shape = info.shape
    if shape is not None:
        given = sorted({"users", "spawn_rate"} & locustfile.model_fields_set)
        if given:
            raise ScenarioError(_with_lines(
                f"{field_}.{given[0]}: {locustfile.path} has a LoadTestShape ({shape.name}) "
                "that sets the users and spawn rate over time, as Locust ignores -u and -r "
                f"with a shape; remove {' and '.join(given)} (or the shape class)", source))
        if shape.end_s is not None and shape.end_s < locustfile.duration:
            raise ScenarioError(_with_lines(
                f"{field_}.duration: {locustfile.duration:g} s, but the shape {shape.name} "
                f"in {locustfile.path} ends the load at {shape.end_s:g} s (its tick() returns "
                f"None); set duration: {shape.end_s:g}s so fault times and SLO windows fall "
                "inside the load", source))
    elif locustfile.users is None:
        raise ScenarioError(_with_lines(
            f"{field_}: no `users`: say how many concurrent users to run (users: 20), or "
            f"give {locustfile.path} a LoadTestShape class to set them over time", source))
    return LocustfileInfo(info.path, locustfile.user_classes or info.users, shape)


def _with_lines(message: str, source: str) -> str:
    with contextlib.suppress(ScenarioError):  # no line then, the field still says where
        _data, root = yamlfile.read(Path(source), "scenario", ScenarioError)
        message = yamlfile.add_lines(message, source, root)
    return message


def follow_shape(shape: Any, follow_s: float) -> dict[str, Any]:
    """The shape's stages on a dry clock, as Locust would tick it: second 0, 1, 2, ...

    Run in the child process (the shape is a live LoadTestShape instance).
    """
    report: dict[str, Any] = {"name": type(shape).__name__, "stages": [], "end_s": None,
                              "unknown": "", "followed_s": 0.0}
    last: tuple[Any, ...] | None = None
    for second in range(math.floor(follow_s) + 1):
        report["followed_s"] = float(second)
        shape.get_run_time = lambda second=second: float(second)  # the dry clock
        try:
            tick = shape.tick()
        except Exception as exc:  # the shape reads what only a live run has
            report["unknown"] = (f"its tick() raised {type(exc).__name__}: {exc} at "
                                 f"{second} s of a dry run")
            return report
        if tick is None:
            report["end_s"] = float(second)
            return report
        try:
            row = _stage_row(tick)
        except (TypeError, ValueError) as exc:
            report["unknown"] = f"its tick() at {second} s returned {tick!r:.60}: {exc}"
            return report
        if row != last:
            report["stages"].append([float(second), *row])
            last = row
    return report


def _stage_row(tick: Any) -> tuple[int, float, list[str] | None]:
    """(users, spawn rate, class names or None) from a tick's 2- or 3-tuple."""
    if not isinstance(tick, tuple | list) or len(tick) not in (2, 3):
        raise ValueError("expected (users, spawn_rate) or (users, spawn_rate, user_classes)")
    users, rate = int(tick[0]), float(tick[1])
    classes = tick[2] if len(tick) == 3 else None
    names = [getattr(c, "__name__", str(c)) for c in classes] if classes else None
    return users, rate, names


def _same(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def main(argv: list[str]) -> int:
    """Child process: import the locustfile, print one report line."""
    if len(argv) not in (1, 2):
        print("usage: python -m harness.load.locustcheck LOCUSTFILE [FOLLOW_S]", file=sys.stderr)
        return 2
    path = argv[0]
    follow_s = float(argv[1]) if len(argv) == 2 else FOLLOW_S
    import locust  # noqa: F401  # gevent's monkey-patching first, as in a real worker
    from locust.util.load_locustfile import load_locustfile

    report: dict[str, object]
    try:
        found, shapes = load_locustfile(path)
    except BaseException as exc:  # a locustfile can raise anything, SystemExit included
        report = {"error": describe_import_error(path, exc)}
    else:
        if not found:
            report = {"error": no_users_message(path)}
        elif len(shapes) > 1:
            report = {"error": many_shapes_message(path, [type(s).__name__ for s in shapes])}
        else:
            report = {"users": sorted(found),
                      "shape": follow_shape(shapes[0], follow_s) if shapes else None}
    sys.stdout.write(PREFIX + json.dumps(report) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
