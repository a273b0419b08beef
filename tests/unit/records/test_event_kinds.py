"""Every event kind is a member of harness.records.events, on both sides of events.jsonl.

Modules are parsed, not imported. In harness/, every `.emit(kind, ...)` and
`.of_kind(kind)` passes a member (or a variable mypy holds to one), never a string,
and no module but the events module spells a kind or a source prefix; the kinds the
tests feed to the code or look for exist; a member is written as the plain string, so
a results folder from before the enum reads the same. (`harness/load/worker.py`'s
module-level `emit` is the worker's stdout protocol, not the journal.)
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path

from harness.records.events import (
    GROUPS,
    KINDS,
    FaultEvent,
    OrchestratorEvent,
    Source,
    StackEvent,
)
from harness.runtime.events import EventLog

ROOT = Path(__file__).resolve().parents[3]
HARNESS = ROOT / "harness"
EVENTS_MODULE = HARNESS / "records" / "events.py"
#: a kind or a source prefix, as a string
SPELLINGS = KINDS | {str(s) for s in Source}
ENUMS = {group.__name__: group for group, _ in GROUPS}


def _trees(root: Path) -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(root.rglob("*.py")):
        if path != EVENTS_MODULE:
            yield str(path.relative_to(ROOT)), ast.parse(path.read_text(), str(path))


def _kind_arguments(tree: ast.AST) -> Iterator[ast.expr]:
    """The first argument of every `<anything>.emit(...)` and `<anything>.of_kind(...)`."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("emit", "of_kind") and node.args):
            yield node.args[0]


def _spelt(node: ast.expr) -> str | None:
    """The kind a string literal or an f-string's leading text spells, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        head = node.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return head.value + "{...}"
    return None


def _kinds_in_tests(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Literal kinds a test feeds or looks for: `"kind": ...` rows, emit/of_kind arguments,
    comparisons with `e["kind"]` / `e.get("kind")`. An event kind has a dot; other records
    have kinds of their own (a write's `"kind": "order"`)."""
    found: list[ast.expr] = list(_kind_arguments(tree))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            found += [v for k, v in zip(node.keys, node.values, strict=True)
                      if isinstance(k, ast.Constant) and k.value == "kind"]
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(map(_reads_kind, sides)):
                for side in sides:
                    found += side.elts if isinstance(side, ast.Tuple | ast.Set) else [side]
    for node in found:
        text = _spelt(node)
        if text is not None and "." in text:
            yield node.lineno, text


def _reads_kind(node: ast.expr) -> bool:
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "kind"
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get" and bool(node.args)
            and isinstance(node.args[0], ast.Constant) and node.args[0].value == "kind")


def test_no_emit_or_of_kind_in_harness_passes_a_string() -> None:
    spelt = [f"{file}:{arg.lineno}: {_spelt(arg)!r}" for file, tree in _trees(HARNESS)
             for arg in _kind_arguments(tree) if _spelt(arg) is not None]
    assert not spelt, "pass a member of harness.records.events:\n" + "\n".join(spelt)


def test_every_member_harness_names_exists() -> None:
    missing = [
        f"{file}:{node.lineno}: {node.value.id}.{node.attr}"
        for file, tree in _trees(HARNESS) for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
        and node.value.id in ENUMS and node.attr not in ENUMS[node.value.id].__members__
    ]
    assert not missing, "\n".join(missing)


def test_no_module_but_the_events_module_spells_a_kind() -> None:
    spelt = [f"{file}:{node.lineno}: {text!r}" for file, tree in _trees(HARNESS)
             for node in ast.walk(tree) if isinstance(node, ast.expr)
             and (text := _spelt(node)) is not None
             and (text in SPELLINGS
                  or (isinstance(node, ast.JoinedStr) and text.startswith(tuple(Source))))]
    assert not spelt, "use harness.records.events:\n" + "\n".join(spelt)


def test_the_kinds_tests_feed_or_look_for_exist() -> None:
    unknown = [f"{file}:{line}: {text!r}" for file, tree in _trees(ROOT / "tests")
               for line, text in _kinds_in_tests(tree) if text not in SPELLINGS]
    assert not unknown, "not a kind in harness.records.events:\n" + "\n".join(unknown)


def test_each_group_shares_its_source_prefix_and_no_kind_is_in_two() -> None:
    for group, source in GROUPS:
        for kind in group:
            if source is None:  # its own prefix: no Source filter may pick it up
                assert not kind.startswith(tuple(Source)), kind
            else:
                assert kind.startswith(source), kind
    assert len(KINDS) == sum(len(group) for group, _ in GROUPS)


def test_a_member_is_written_and_kept_as_the_plain_string(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.emit(OrchestratorEvent.WRITER_DOWN, component="db-writer")
    (row,) = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert row["kind"] == "orchestrator.writer_down" == OrchestratorEvent.WRITER_DOWN
    assert type(log.events[0]["kind"]) is str  # in memory as on disk
    assert log.of_kind(Source.ORCHESTRATOR) == log.of_kind(OrchestratorEvent.WRITER_DOWN)
    assert log.of_kind(Source.FAULT) == log.of_kind(StackEvent.ALARM_STATE_CHANGE) == []


def test_a_kind_read_from_an_old_file_is_its_member() -> None:
    old = json.loads('{"t_s": 1.0, "kind": "fault.applied", "fault": "kill-app"}')
    assert FaultEvent(old["kind"]) is FaultEvent.APPLIED
    assert old["kind"] in {FaultEvent.APPLIED}
