"""Field paths of validation errors become line numbers of the scenario file."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.yamlfile import add_lines, compose, line_of, read

TEXT = """\
name: smoke
workload:
  phases:
    - name: warm
      rate: 10/s
    - name: peak
      rate: -5/s
faults:
  - type: kill
    target: app-9
"""


def test_paths_map_to_their_lines() -> None:
    root = compose(TEXT)
    assert line_of(root, "name") == 1
    assert line_of(root, "workload.phases[1].rate") == 7
    assert line_of(root, "faults[0].target") == 10
    # a missing field points at the deepest part that exists
    assert line_of(root, "faults[0].duration") == 9
    assert line_of(root, "faults[3]") == 8
    assert line_of(compose(""), "name") is None


def test_messages_get_lines_inserted() -> None:
    message = "s.yaml: workload.phases[1].rate: must be >= 0; s.yaml: faults[0].target: no app-9"
    assert add_lines(message, "s.yaml", compose(TEXT)) == (
        "s.yaml:7: workload.phases[1].rate: must be >= 0; s.yaml:10: faults[0].target: no app-9"
    )


def test_a_path_part_that_is_no_key_of_the_file_stops_the_walk() -> None:
    root = compose(TEXT)
    # pydantic's `[key]` or a union member's `dict[str,int]` name no key of the file,
    # even where a key of that name exists
    assert line_of(root, "workload[phases]") == 2
    assert line_of(root, "workload[key]") == 2


def test_only_the_file_itself_gets_a_line_not_a_longer_path_ending_in_its_name() -> None:
    message = "s.yaml: name: bad; (see ss.yaml: name: other)"
    assert add_lines(message, "s.yaml", compose(TEXT)) == (
        "s.yaml:1: name: bad; (see ss.yaml: name: other)")


def test_an_empty_document_has_its_top_level_on_line_1() -> None:
    assert add_lines("s.yaml: <top>: not a mapping", "s.yaml", compose("")) == (
        "s.yaml:1: <top>: not a mapping")


@pytest.mark.parametrize(("text", "expected"), [
    ("a: 1\nb:\n  c: 2\n  c: 3\n", r":4: b.c: appears twice in one mapping \(also on line 3\)"),
    ("a: 1\n1: x\n", r":2: <top>: the key '1' is not a name"),
    ("a:\n  null: x\n", r":2: a: the key 'null' is not a name"),
    ("a: 1\nb: !!float x\n", r":2: not valid YAML: 'x' is not a !!float"),
    ("a: 1\nb: \x00\n", r":2: not valid YAML: the character U\+0000 is not allowed"),
    ("a: 1\nb: " + "{a: " * 5000 + "}" * 5000 + "\n", r":2: nested more than 32 levels deep"),
    ("a: 1\nb: " + "[" * 40 + "]" * 40 + "\n", r":2: b(\[0\])+: nested more than 32 levels"),
])
def test_what_pyyaml_would_take_silently_or_crash_on_is_an_error_with_a_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=f"^{path}{expected}"):
        read(path, "scenario", ScenarioError)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"name: x\ndescription: caf\xe9\n")
    with pytest.raises(ScenarioError, match=rf"^{path}:2: not UTF-8 text \(byte 0xe9\)"):
        read(path, "scenario", ScenarioError)


def test_merge_keys_may_repeat_a_key_and_each_read_gets_its_own_copy(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nmine:\n  <<: *b\n  x: 3\n")
    data, _root = read(path, "scenario", ScenarioError)
    assert data["mine"] == {"x": 3, "y": 2}
    data["mine"]["x"] = 9  # a caller's change is not the next caller's data
    assert read(path, "scenario", ScenarioError)[0]["mine"]["x"] == 3
