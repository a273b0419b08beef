"""A pass's order: the slowest files first, a file's tests together and in order."""

from __future__ import annotations

import json

from tests.support.slow_first import ALONE_PART, TABLE, file_of, merged, part_of, slowest_first

ROOT = TABLE.parents[1]


def test_slow_files_go_first_and_a_files_tests_stay_together_in_order() -> None:
    nodeids = ["tests/unit/test_a.py::one", "tests/integration/test_b.py::one",
               "tests/unit/test_a.py::two", "tests/integration/test_b.py::two[x]",
               "tests/integration/test_c.py::one"]
    seconds = {"tests/integration/test_b.py": 60.0, "tests/integration/test_c.py": 80.0}
    parts = [part_of(n, alone=False) for n in nodeids]
    ordered = [nodeids[i] for i in slowest_first(parts, seconds)]
    assert ordered == ["tests/integration/test_c.py::one", "tests/integration/test_b.py::one",
                       "tests/integration/test_b.py::two[x]", "tests/unit/test_a.py::one",
                       "tests/unit/test_a.py::two"]


def test_a_files_alone_tests_are_keyed_and_ordered_apart() -> None:
    nodeids = ["tests/t_run.py::shared_one", "tests/t_run.py::smoke", "tests/t_b.py::one"]
    alone = [False, True, False]
    parts = [part_of(n, a) for n, a in zip(nodeids, alone, strict=True)]
    assert parts == ["tests/t_run.py", "tests/t_run.py" + ALONE_PART, "tests/t_b.py"]
    # the file's shared part is quick, its alone part the slowest of all
    seconds = {"tests/t_run.py": 1.0, "tests/t_run.py" + ALONE_PART: 90.0, "tests/t_b.py": 5.0}
    assert [nodeids[i] for i in slowest_first(parts, seconds)] == [
        "tests/t_run.py::smoke", "tests/t_b.py::one", "tests/t_run.py::shared_one"]


def test_a_stored_run_replaces_its_files_and_keeps_the_others() -> None:
    table = {"tests/a.py": 10.0, "tests/b.py": 5.0}
    assert merged(table, {"tests/b.py": 30.04, "tests/c.py": 0.5, "tests/d.py": 7.0}) == {
        "tests/b.py": 30.0, "tests/a.py": 10.0, "tests/d.py": 7.0}
    assert list(merged(table, {})) == ["tests/a.py", "tests/b.py"]


def test_the_committed_table_names_files_that_exist() -> None:
    table = json.loads(TABLE.read_text())
    assert len(table) > 20, "tests/durations.json: refresh it with `pytest --store-durations`"
    missing = [f for f in table if not (ROOT / f.removesuffix(ALONE_PART)).is_file()]
    assert missing == [], f"{TABLE}: stale entries {missing}; refresh it"
    assert file_of("tests/x.py::test_y[a::b]") == "tests/x.py"
