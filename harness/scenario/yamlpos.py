"""Line numbers for error messages about a YAML file.

Validators report a field path (`faults[2].target`); a person wants the line.
PyYAML's composed node tree keeps every node's position, so the path is walked
through it. Written by hand because pydantic knows nothing of YAML positions
and ruamel.yaml would be a second YAML library for this one lookup.
"""

from __future__ import annotations

import re

import yaml

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def compose(text: str) -> yaml.Node | None:
    """The YAML node tree of `text` (None for an empty document)."""
    return yaml.compose(text, Loader=yaml.SafeLoader)


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
