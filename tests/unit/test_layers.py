"""Packages import downwards only, in the order of ARCHITECTURE.md's layer table, and no loop.

The table is read from ARCHITECTURE.md, so the document and this check cannot drift
apart. Every module under `harness/` is parsed (not imported); each import of another
harness package is checked against the table: a higher layer, a package missing from
the table, and a loop between packages (possible within one row) are failures that
name the importing file, the line and the imported module.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "harness"

_ROW = re.compile(r"^\|\s*(\d+)\s*\|(.*?)\|")


def layer_table(text: str) -> dict[str, int]:
    """Package -> layer number, from the `## Layers` table of ARCHITECTURE.md."""
    section = text.split("\n## Layers", 1)[1].split("\n## ", 1)[0]
    layers: dict[str, int] = {}
    for line in section.splitlines():
        row = _ROW.match(line)
        if row is not None:
            for package in re.findall(r"`([a-z_]+)`", row.group(2)):
                layers[package] = int(row.group(1))
    assert layers, "ARCHITECTURE.md: no `| layer | packages |` rows under ## Layers"
    return layers


LAYERS = layer_table((ROOT / "ARCHITECTURE.md").read_text())


@dataclass(frozen=True)
class Import:
    file: str
    line: int
    #: the module as written, resolved if relative (`harness.load.runner`)
    module: str
    #: the harness package it belongs to (`load`), or `harness` for harness/__init__.py
    package: str


def package_of(file: str) -> str:
    """`harness/analysis/series.py` -> analysis; `harness/cli.py` -> cli."""
    parts = Path(file).parts[1:]
    if len(parts) == 1:
        return "harness" if parts[0] == "__init__.py" else parts[0].removesuffix(".py")
    return parts[0]


def _top_level(name: str) -> str:
    """The package behind `harness.<name>`: a module or subpackage, else harness's own name."""
    exists = (HARNESS / name).is_dir() or (HARNESS / f"{name}.py").is_file()
    return name if exists else "harness"


def imports_of(file: str, source: str) -> Iterator[Import]:
    """Every import of a harness module in one module's source."""
    here = list(Path(file).parent.parts)  # the package a relative import starts from
    for node in ast.walk(ast.parse(source, file)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _harness(file, node.lineno, alias.name, ())
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            yield from _harness(file, node.lineno, module, [a.name for a in node.names])


def _harness(file: str, line: int, module: str, names: Iterable[str]) -> Iterator[Import]:
    parts = module.split(".")
    if parts[0] != "harness":
        return
    if len(parts) > 1:
        yield Import(file, line, module, parts[1])
        return
    if not names:  # `import harness`
        yield Import(file, line, module, "harness")
    for name in names:  # `from harness import x`: x is the package (or a name in __init__)
        yield Import(file, line, f"harness.{name}", _top_level(name))


def violations(modules: Iterable[tuple[str, str]], layers: dict[str, int] = LAYERS
               ) -> list[str]:
    """Upward imports, unplaced packages and package loops among (file, source) pairs."""
    problems: list[str] = []
    edges: dict[str, dict[str, Import]] = {}
    for file, source in modules:
        own = package_of(file)
        if own not in layers:
            problems.append(f"{file}: package {own!r} has no row in ARCHITECTURE.md's layers")
            continue
        for imp in imports_of(file, source):
            if imp.package == own:
                continue
            edges.setdefault(own, {}).setdefault(imp.package, imp)
            if imp.package not in layers:
                problems.append(f"{imp.file}:{imp.line}: imports {imp.module}, whose package "
                                f"{imp.package!r} has no row in ARCHITECTURE.md's layers")
            elif layers[imp.package] > layers[own]:
                problems.append(
                    f"{imp.file}:{imp.line}: imports {imp.module} ({imp.package}, layer "
                    f"{layers[imp.package]}) from {own} (layer {layers[own]}): a higher layer")
    problems += [_describe(loop, edges) for loop in _loops(edges)]
    return problems


def _loops(edges: dict[str, dict[str, Import]]) -> list[list[str]]:
    """The strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _describe(loop: list[str], edges: dict[str, dict[str, Import]]) -> str:
    inside = [imp for a in loop for b, imp in sorted(edges.get(a, {}).items()) if b in loop]
    return f"packages {', '.join(loop)} import each other: " + "; ".join(
        f"{imp.file}:{imp.line} imports {imp.module}" for imp in inside)


def _harness_modules() -> Iterator[tuple[str, str]]:
    for path in sorted(HARNESS.rglob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text()


def test_every_harness_import_points_down_the_layers_and_closes_no_loop() -> None:
    problems = violations(_harness_modules())
    assert not problems, "\n".join(problems)


def test_every_package_has_a_layer_and_every_layer_a_package() -> None:
    packages = {package_of(file) for file, _ in _harness_modules()}
    assert packages == set(LAYERS)


def test_an_upward_import_is_reported_with_its_file_line_and_module() -> None:
    fake = ("harness/analysis/fake.py",
            "from harness.model.profile import Profile\nfrom harness.load.runner import LoadRun\n")
    assert violations([fake]) == [
        "harness/analysis/fake.py:2: imports harness.load.runner (load, layer 13) from "
        "analysis (layer 6): a higher layer"]


def test_a_loop_within_one_row_is_reported() -> None:
    loop = [("harness/load/fake.py", "import harness.deploys.base\n"),
            ("harness/deploys/fake.py", "from harness.load import runner\n")]
    assert violations(loop) == [
        "packages deploys, load import each other: harness/deploys/fake.py:1 imports "
        "harness.load; harness/load/fake.py:1 imports harness.deploys.base"]


def test_relative_imports_and_the_package_root_are_resolved() -> None:
    fake = ("harness/report/fake.py", "from ..stacks import stack\nfrom harness import errors\n"
                                      "from harness import __version__\n")
    assert [(i.line, i.module, i.package) for i in imports_of(*fake)] == [
        (1, "harness.stacks", "stacks"), (2, "harness.errors", "errors"),
        (3, "harness.__version__", "harness")]
    assert violations([fake]) == [
        "harness/report/fake.py:1: imports harness.stacks (stacks, layer 12) from report "
        "(layer 7): a higher layer"]
