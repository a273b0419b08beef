"""Field paths of validation errors become line numbers of the scenario file."""

from __future__ import annotations

from harness.yamlfile import add_lines, compose, line_of

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
