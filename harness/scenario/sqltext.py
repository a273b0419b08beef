"""SQL files split into statements, each with the line it starts on.

A team's schema and seed files are what `mariadb < file` takes: statements ended by
`;`, comments (`-- `, `#`, `/* */`), quoted text that may hold a `;`, and the
client's `DELIMITER` command for stored routines. The harness sends them one at a
time over PyMySQL (no multi-statement mode), so a failing statement is named by its
file and line, and an unterminated quote is found when the scenario is validated,
not halfway through starting a stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_DELIMITER = re.compile(r"DELIMITER[ \t]+(\S+)[ \t]*(?:\n|$)", re.IGNORECASE)
_QUOTES = {"'": "string", '"': "string", "`": "quoted name"}


class SqlTextError(ValueError):
    """A problem of the text at a line (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"{line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Statement:
    #: the line (1-based) of the statement's first character that is not a comment
    line: int
    text: str


def split(text: str) -> list[Statement]:
    """The statements of `text`, in order; SqlTextError for an unterminated quote or comment."""
    statements: list[Statement] = []
    delimiter = ";"
    i, n, line = 0, len(text), 1
    start, start_line = 0, None  # the current statement's text start; its first real line
    while i < n:
        ch = text[i]
        if start_line is None:
            if ch in " \t\r\n":
                line += ch == "\n"
                i += 1
                start = i
                continue
            found = _DELIMITER.match(text, i)
            if found is not None:  # a client command, never sent to the server
                delimiter = found.group(1)
                line += found.group(0).count("\n")
                i = start = found.end()
                continue
        if ch == "\n":
            line += 1
            i += 1
        elif text.startswith(delimiter, i):
            if start_line is not None:
                statements.append(Statement(start_line, text[start:i].strip()))
            i += len(delimiter)
            start, start_line = i, None
        elif ch == "#" or (text.startswith("--", i) and (i + 2 >= n or text[i + 2] in " \t\r\n")):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise SqlTextError(line, "a /* comment is never closed; add */")
            if text.startswith("/*!", i) or text.startswith("/*M!", i):
                start_line = line if start_line is None else start_line  # executable comment
            line += text.count("\n", i, end)
            i = end + 2
        elif ch in _QUOTES:
            if start_line is None:
                start_line = line
            end = _closing(text, i)
            if end < 0:
                raise SqlTextError(line, f"a {_QUOTES[ch]} opened with {ch} is never closed; "
                                   f"close it with {ch}")
            line += text.count("\n", i, end)
            i = end + 1
        else:
            if start_line is None:
                start_line = line
            i += 1
    if start_line is not None and text[start:].strip():
        statements.append(Statement(start_line, text[start:].strip()))
    return statements


def _closing(text: str, at: int) -> int:
    """Where the quote opened at `at` closes (-1: never): doubled quotes and, except in
    a backquoted name, backslash escapes stay inside."""
    quote, i = text[at], at + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quote != "`":
            i += 2
        elif ch == quote:
            if text.startswith(quote, i + 1):
                i += 2
            else:
                return i
        else:
            i += 1
    return -1


def read(path: Path) -> list[Statement]:
    """The statements of an SQL file; ValueError (with `file:line` where there is one) if it
    cannot be read or split."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not UTF-8 text; save it as UTF-8") from None
    try:
        return split(text)
    except SqlTextError as exc:
        raise ValueError(f"{path}:{exc.line}: {exc.message}") from None
