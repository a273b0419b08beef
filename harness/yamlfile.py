"""Reading the project's YAML files (scenarios, stack profiles), with line numbers in errors.

Validators report a field path (`faults[2].target`); a person wants the line.
PyYAML's composed node tree keeps every node's position, so the path is walked
through it. Written by hand because pydantic knows nothing of YAML positions
and ruamel.yaml would be a second YAML library for this one lookup.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def compose(text: str) -> yaml.Node | None:
    """The YAML node tree of `text` (None for an empty document)."""
    return yaml.compose(text, Loader=yaml.SafeLoader)


def read(path: Path, what: str, error: type[HarnessError]) -> tuple[Any, yaml.Node | None]:
    """The data of a YAML file and its node tree (for `add_lines`), parsed once.

    A file that cannot be read or parsed raises `error` naming the file and the line.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror}") from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        return (None if root is None else loader.construct_document(root)), root
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise error(f"{path}{where}: not valid YAML: {problem}; fix the syntax") from None
    finally:
        loader.dispose()


def line_of(root: yaml.Node | None, path: str) -> int | None:
    """1-based line of the deepest node on `path` (`a.b[0].c`) that exists."""
    node = root
    line = None if node is None else node.start_mark.line + 1
    for name, index in _TOKEN.findall(path):
        child: yaml.Node | None = None
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
    head = re.escape(source) + r": ([A-Za-z_][\w.\[\]]*|<top>): "

    def with_line(match: re.Match[str]) -> str:
        line = line_of(root, match.group(1))
        where = f"{source}:{line}" if line is not None else source
        return f"{where}: {match.group(1)}: "

    return re.sub(head, with_line, message)
