"""Reading the project's YAML files (scenarios, stack profiles), with line numbers in errors.

Validators report a field path (`faults[2].target`); a person wants the line.
PyYAML's composed node tree keeps every node's position, so the path is walked
through it. Written by hand because pydantic knows nothing of YAML positions
and ruamel.yaml would be a second YAML library for this one lookup.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError

#: a path's parts: `[2]` an index, `name` a key; any other `[...]` (pydantic's `[key]`,
#: a union member's `[str,int]`) is no part of the file, and the walk stops there
_TOKEN = re.compile(r"\[(\d+)\]|(\[[^\]]*\])|\.?([^.\[\]]+)")
#: deeper than any project file nests; deeper input would exhaust Python's recursion
#: in the parser, pydantic or copying, so it is bad input with a line
MAX_DEPTH = 32
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


def compose(text: str) -> yaml.Node | None:
    """The YAML node tree of `text` (None for an empty document)."""
    return yaml.compose(text, Loader=yaml.SafeLoader)


class _Bad(Exception):
    """A problem of the text at a line (1-based; None: the file as a whole)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def read(path: Path, what: str, error: type[HarnessError]) -> tuple[Any, yaml.Node | None]:
    """The data of a YAML file and its node tree (for `add_lines`), parsed once.

    A file that cannot be read or parsed raises `error` naming the file and the line;
    so do a key that appears twice in one mapping and a key that is not text (`1:`,
    `null:`), which PyYAML would take silently.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise error(f"{path}:{line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); "
                    f"save the {what} as UTF-8") from None
    try:
        data, root = _parsed(text)
    except _Bad as exc:
        where = f":{exc.line}" if exc.line is not None else ""
        raise error(f"{path}{where}: {exc.message}") from None
    # the cache's copy stays as parsed: callers may change theirs (`extends:` is popped)
    return copy.deepcopy(data), root


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> tuple[Any, yaml.Node | None]:
    # cached by content: a scenario reads each stack profile several times (its own
    # architectures, each variant's base), and parsing is most of validating
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # the reader checks every character up front
        raise _bad_character(text, exc) from None
    try:
        root = loader.get_single_node()
        _check_keys(root)
        return (None if root is None else loader.construct_document(root)), root
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "syntax error"
        raise _Bad(mark.line + 1 if mark is not None else None,
                   f"not valid YAML: {problem}; fix the syntax") from None
    except RecursionError:
        raise _Bad(_too_deep_at(text), f"nested more than {MAX_DEPTH} levels deep; "
                   "flatten it") from None
    finally:
        loader.dispose()


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, with a tag that cannot read its value (`!!float x`) a YAML error."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, KeyError, AttributeError):
            # PyYAML's own converters raise these, without the node's position
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a {tag}", node.start_mark) from None


def top_line(root: yaml.Node | None) -> int:
    """The line where a document's top level starts (1 for an empty document)."""
    if root is None or (isinstance(root, yaml.ScalarNode) and root.value == ""):
        return 1
    return int(root.start_mark.line) + 1


def _bad_character(text: str, exc: yaml.reader.ReaderError) -> _Bad:
    char = exc.character
    code = f"U+{char:04X}" if isinstance(char, int) else repr(char)
    return _Bad(text.count("\n", 0, exc.position) + 1,
                f"not valid YAML: the character {code} is not allowed in YAML; remove it")


def _check_keys(root: yaml.Node | None) -> None:
    """Every mapping key is text and appears once in its mapping; no deeper than MAX_DEPTH."""
    todo: list[tuple[yaml.Node, str, int]] = [] if root is None else [(root, "", 1)]
    seen: set[int] = set()  # an alias repeats a node, or makes a loop
    while todo:
        node, at, depth = todo.pop()
        if id(node) in seen or not isinstance(node, yaml.CollectionNode):
            continue
        seen.add(id(node))
        line = node.start_mark.line + 1
        if depth > MAX_DEPTH:
            raise _Bad(line, f"{at or '<top>'}: nested more than {MAX_DEPTH} levels deep; "
                       "flatten it")
        if isinstance(node, yaml.SequenceNode):
            todo += [(item, f"{at}[{i}]", depth + 1) for i, item in enumerate(node.value)]
            continue
        first: dict[str, int] = {}
        for key, value in node.value:
            if key.tag == _MERGE:
                todo.append((value, at, depth))
                continue
            key_line = key.start_mark.line + 1
            if not isinstance(key, yaml.ScalarNode) or key.tag != _STR or not key.value:
                what = (f"the key {key.value!r}" if isinstance(key, yaml.ScalarNode)
                        else "a list or mapping as a key")
                raise _Bad(key_line, f"{at or '<top>'}: {what} is not a name; write a name "
                           "(quote a number, true/false or null to keep it as text)")
            name = f"{at}.{key.value}" if at else str(key.value)
            if key.value in first:
                raise _Bad(key_line, f"{name}: appears twice in one mapping (also on line "
                           f"{first[key.value]}); keep one")
            first[key.value] = key_line
            todo.append((value, name, depth + 1))


def _too_deep_at(text: str) -> int | None:
    """The line where `text` nests deeper than MAX_DEPTH (the parser keeps no recursion)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return None if mark is None else int(mark.line) + 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass  # a syntax error past the depth: the depth is the first problem
    return None


def line_of(root: yaml.Node | None, path: str) -> int | None:
    """1-based line of the deepest node on `path` (`a.b[0].c`) that exists."""
    node = root
    line = None if node is None else node.start_mark.line + 1
    for index, other, name in _TOKEN.findall(path):
        child: yaml.Node | None = None
        if other:
            return line
        if index and isinstance(node, yaml.SequenceNode):
            items = node.value
            child = items[int(index)] if int(index) < len(items) else None
            if child is not None:
                line = child.start_mark.line + 1
        elif name and isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == name:
                    # point at the key: the value may start on a later line
                    line = key.start_mark.line + 1
                    child = value
                    break
        if child is None:
            return line
        node = child
    return line


def add_lines(message: str, source: str, root: yaml.Node | None) -> str:
    """Turn each `source: path: what` of a validator's message into `source:LINE: path: what`."""
    # the file's name as a whole (not the end of a longer path), then a field path
    head = r"(?<![^\s(])" + re.escape(source) + r": ([A-Za-z_][\w.\[\]]*|<top>): "

    def with_line(match: re.Match[str]) -> str:
        line = top_line(root) if match.group(1) == "<top>" else line_of(root, match.group(1))
        where = f"{source}:{line}" if line is not None else source
        return f"{where}: {match.group(1)}: "

    return re.sub(head, with_line, message)
