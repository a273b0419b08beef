"""SQL files split into statements as the `mariadb` client splits them, each with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.scenario import sqltext


def _split(text: str) -> list[tuple[int, str]]:
    return [(s.line, s.text) for s in sqltext.split(text)]


def test_statements_end_at_semicolons_and_start_at_their_first_line() -> None:
    text = "CREATE TABLE a (id INT);\n\n  INSERT INTO a\n  VALUES (1);\nSELECT 1"
    assert _split(text) == [(1, "CREATE TABLE a (id INT)"), (3, "INSERT INTO a\n  VALUES (1)"),
                            (5, "SELECT 1")]


def test_a_semicolon_in_quotes_or_comments_ends_nothing() -> None:
    text = ("INSERT INTO a VALUES ('x;y', \"p;q\", 'it''s', 'back\\\\'';');  -- c;d\n"
            "# e;f\n/* g;\nh */ SELECT `we;ird`;\n")
    assert [line for line, _ in _split(text)] == [1, 4]
    assert _split(text)[1][1] == "SELECT `we;ird`"


def test_comments_alone_are_no_statement_and_the_line_skips_them() -> None:
    assert _split("-- only a comment\n/* and\nanother */\n") == []
    assert _split("-- header\n\n# more\nSELECT 1;") == [(4, "SELECT 1")]


def test_double_dash_without_a_space_is_no_comment() -> None:
    assert _split("SELECT 5--1;") == [(1, "SELECT 5--1")]


def test_delimiter_lines_change_the_end_of_a_statement_and_are_not_sent() -> None:
    text = ("DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END$$\n"
            "DELIMITER ;\nCALL p();\n")
    assert _split(text) == [(2, "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END"),
                            (4, "CALL p()")]


@pytest.mark.parametrize(("text", "line", "says"), [
    ("SELECT 1;\nSELECT 'open\n;\n", 2, "string opened with ' is never closed"),
    ("SELECT 1;\n\n/* never\nclosed", 3, "never closed; add */"),
    ("SELECT `name\n", 1, "quoted name"),
])
def test_an_unterminated_quote_or_comment_names_the_line_it_opened_on(
    text: str, line: int, says: str
) -> None:
    with pytest.raises(sqltext.SqlTextError) as exc:
        sqltext.split(text)
    assert exc.value.line == line
    assert says in exc.value.message


def test_a_file_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "seed.sql"
    path.write_text("SELECT 1;\nSELECT 'x\n")
    with pytest.raises(ValueError, match=rf"^{path}:2: a string"):
        sqltext.read(path)
    path.write_bytes(b"SELECT 1;\n\xff\n")
    with pytest.raises(ValueError, match=rf"^{path}:2: not UTF-8"):
        sqltext.read(path)
