"""Bad input never gives a traceback: seeded mutations of the shipped input files.

Each base document (scenarios, stack profiles) is mutated CASES times; case `i` of a
base draws from its own `random.Random(base.seed * 100_000 + i)`, so a failure names a
case that comes out the same on every run (`mutate(base, i)` rebuilds it). Every variant
is loaded as `harness validate FILE` loads it, and must either load or raise the
HarnessError that the CLI turns into exit 2: one line, starting with the file, and with
`file:line` where the fault sits on a line. Anything else (KeyError, TypeError, a raw
pydantic or YAML error, a RecursionError) is a defect in harness, not in the input.
"""

from __future__ import annotations

import copy
import functools
import random
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import cli
from harness.errors import HarnessError
from harness.model.profile_file import stacks_root
from harness.scenario.scenario import SCENARIOS_DIR

CASES = 240
# the test's own YAML work in libyaml (harness reads with PyYAML's, so its lines are tested)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Base:
    """A shipped document to mutate."""

    name: str
    path: Path
    seed: int
    profile: bool = False


BASES = [
    Base("smoke", SCENARIOS_DIR / "smoke.yaml", 101),
    # phases of every shape, windowed SLOs, variants with profile overrides
    Base("blackfriday", SCENARIOS_DIR / "blackfriday.yaml", 202),
    # a deploy fault with a rollback alarm
    Base("bad-release", SCENARIOS_DIR / "bad-release.yaml", 303),
    Base("legacy-profile", stacks_root() / "legacy" / "profile.yaml", 404, profile=True),
    # `extends: modern`, overriding cited settings and alarms
    Base("nlb-profile", stacks_root() / "modern-nlb" / "profile.yaml", 505, profile=True),
]


@dataclass(frozen=True)
class Case:
    """One mutated document and what its error, if any, must point at."""

    what: str
    content: str | bytes
    #: the error must name one of these lines (the fault's and its parents')
    lines: frozenset[int] | None = None
    #: the error must name some line
    needs_line: bool = True
    #: a YAML syntax error must be at or after this line (the inserted one)
    syntax_from: int | None = None


#: keys and indexes from the top of a parsed document to one node
KeyPath = tuple[Any, ...]

WRONG_VALUES: list[Any] = [
    "text", "", 0, -1, -10**9, 10**18, 1.5, -0.5, float("inf"), float("nan"), True, None,
    [], {}, ["x", 1], {"zz_key": "v"}, "legacy#nope", "app-99", "a\nb", "\u2603",
]
BAD_DURATIONS = ["5x", "-3s", "", "3 s s", "1e3s", "s", "peak+", "+5s", "steady+-2s",
                 "5ss", "0x10s", "9" * 400 + "s", "1m-30s", "nan", "inf s"]
BAD_EXTENDS: list[Any] = ["nope", "", 5, ["modern"], "legacy/profile.yaml", "../legacy",
                          "modern-no-proxy", "modern-nlb", {"name": "modern"}]
BAD_LINES = ["key: [unclosed", "\tkey: tab", "a: 'open", "{", "]", "key: value: other",
             "@reserved", "*undefined_alias", "!!python/object/apply:os.system [x]",
             "%DIRECTIVE", "key: &a [*a, *b]", "`backtick"]
TOP_LEVELS = ["- a\n- b\n", "[1, 2]\n", "42\n", "just words\n", "null\n", "", "---\n",
              "~\n", "'quoted'\n", "# only a comment\n", "- name: smoke\n  seed: 1\n"]
_DURATION_LIKE = re.compile(r"^(\d+(\.\d+)?(ms|s|m|h))+$|^[A-Za-z_][\w-]*[+-]\d")


# -- walking the parsed document ------------------------------------------------------

def _paths(node: Any, prefix: KeyPath = ()) -> list[KeyPath]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


def _get(doc: Any, path: KeyPath) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _set(doc: Any, path: KeyPath, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def _lines_to(text: str, path: KeyPath) -> frozenset[int]:
    """Lines of the node at `path` in `text` and of every parent on the way (1-based)."""
    node = yaml.compose(text, Loader=_Loader)
    lines = {1}
    for key in path:
        if isinstance(node, yaml.MappingNode):
            pairs = [(k, v) for k, v in node.value if k.value == str(key)]
            if not pairs:
                break
            key_node, node = pairs[-1]
            lines.add(key_node.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            node = node.value[key]
            lines.add(node.start_mark.line + 1)
        else:
            break
    return frozenset(lines)


def _dump(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def _dotted(path: KeyPath) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".")


# -- mutations on the parsed document --------------------------------------------------

def _delete(rng: random.Random, doc: Any) -> Case:
    path = rng.choice([p for p in _paths(doc)[1:] if isinstance(_get(doc, p[:-1]), dict)])
    del _get(doc, path[:-1])[path[-1]]
    return Case(f"delete {_dotted(path)}", _dump(doc))


def _wrong_type(rng: random.Random, doc: Any) -> Case:
    path = rng.choice(_paths(doc)[1:])
    value = copy.deepcopy(rng.choice(WRONG_VALUES))
    _set(doc, path, value)
    return Case(f"set {_dotted(path)} = {value!r:.40}", _dump(doc))


def _rename(rng: random.Random, doc: Any) -> Case:
    path = rng.choice([p for p in _paths(doc)[1:] if isinstance(_get(doc, p[:-1]), dict)])
    parent, key = _get(doc, path[:-1]), path[-1]
    new = f"zz_{key}"
    # keep the key's place: a renamed key stays on its line
    items = [(new if k == key else k, v) for k, v in parent.items()]
    parent.clear()
    parent.update(items)
    text = _dump(doc)
    return Case(f"rename {_dotted(path)} -> {new}", text,
                lines=_lines_to(text, (*path[:-1], new)))


def _add_key(rng: random.Random, doc: Any) -> Case:
    path = rng.choice([p for p in _paths(doc) if isinstance(_get(doc, p), dict)])
    _get(doc, path)["zz_unknown"] = 1
    text = _dump(doc)
    return Case(f"add {_dotted((*path, 'zz_unknown'))}", text,
                lines=_lines_to(text, (*path, "zz_unknown")))


def _bad_duration(rng: random.Random, doc: Any) -> Case:
    texts = [p for p in _paths(doc)[1:]
             if isinstance(_get(doc, p), str) and _DURATION_LIKE.match(_get(doc, p))]
    numbers = [p for p in _paths(doc)[1:] if isinstance(_get(doc, p), int | float)
               and not isinstance(_get(doc, p), bool)]
    path = rng.choice(texts or numbers)
    value = rng.choice(BAD_DURATIONS)
    _set(doc, path, value)
    return Case(f"duration {_dotted(path)} = {value!r:.40}", _dump(doc))


def _swap(rng: random.Random, doc: Any) -> Case:
    paths = _paths(doc)[1:]
    target, source = rng.choice(paths), rng.choice(paths)
    _set(doc, target, copy.deepcopy(_get(doc, source)))
    return Case(f"set {_dotted(target)} = copy of {_dotted(source)}", _dump(doc))


def _wrap(rng: random.Random, doc: Any) -> Case:
    path = rng.choice(_paths(doc)[1:])
    value = _get(doc, path)
    _set(doc, path, [value] if rng.random() < 0.5 else {"value": value})
    return Case(f"wrap {_dotted(path)}", _dump(doc))


def _recursive(rng: random.Random, doc: Any) -> Case:
    path = rng.choice(_paths(doc)[1:])
    loop: list[Any] = []
    loop.append(loop)  # dumped as an anchor and an alias to itself
    _set(doc, path, loop)
    return Case(f"set {_dotted(path)} = a list containing itself", _dump(doc), needs_line=False)


def _extends(rng: random.Random, doc: Any) -> Case:
    value = rng.choice(BAD_EXTENDS)
    doc["extends"] = value
    text = _dump(doc)
    own = "workload" not in doc  # a profile (a scenario with `extends:` is read as one)
    # a profile that cannot extend `value` says so on the `extends:` line
    lines = _lines_to(text, ("extends",)) - {1} if own else None
    return Case(f"extends: {value!r}", text, lines=lines or None)


# -- mutations on the text (comments and line numbers kept) -------------------------------

def _truncate(rng: random.Random, text: str) -> Case:
    cut = rng.randrange(len(text))
    return Case(f"truncate at character {cut}", text[:cut], needs_line=False)


def _top_level(rng: random.Random, _text: str) -> Case:
    top = rng.choice(TOP_LEVELS)
    return Case(f"whole file {top!r}", top, lines=frozenset({1}))


def _bad_syntax(rng: random.Random, text: str) -> Case:
    lines = text.splitlines(keepends=True)
    at = rng.randrange(len(lines) + 1)
    bad = rng.choice(BAD_LINES)
    lines.insert(at, bad + "\n")
    return Case(f"insert line {at + 1}: {bad!r}", "".join(lines), syntax_from=at + 1)


def _duplicate_key(rng: random.Random, text: str) -> Case:
    lines = text.splitlines(keepends=True)
    keyed = [i for i, line in enumerate(lines) if re.match(r"^\s*[A-Za-z_][\w-]*: \S", line)]
    at = rng.choice(keyed)
    lines.insert(at + 1, lines[at])
    # the copy sits right below its key, in the same mapping (unless inside a text block)
    return Case(f"duplicate line {at + 1}", "".join(lines), lines=frozenset({at + 2}))


def _bad_bytes(rng: random.Random, text: str) -> Case:
    data = text.encode()
    at = rng.randrange(len(data))
    while at and data[at - 1] >= 0x80:  # not inside a character
        at -= 1
    junk = rng.choice([b"\xff\xfe", b"\xc3\x28", b"\x00", b"\x1b[0m", b"\xe9t\xe9"])
    line = data[:at].count(b"\n") + 1
    return Case(f"insert bytes {junk!r} at byte {at}", data[:at] + junk + data[at:],
                lines=frozenset({line}))


def _deep(rng: random.Random, text: str) -> Case:
    # deeper than Python's recursion limit, as mappings: PyYAML takes seconds on deep lists
    depth, nested = rng.choice([(200, "[" * 200 + "]" * 200), (5000, "{a: " * 5000 + "}" * 5000)])
    return Case(f"append a value nested {depth} deep", f"{text}zz_deep: {nested}\n",
                needs_line=False)


def _odd_key(rng: random.Random, text: str) -> Case:
    key = rng.choice(["1: one", "null: x", "true: x", "? [a, b]\n: c", "1.5: x", "'': x",
                      "2024-01-01: x"])
    return Case(f"append key {key!r}", f"{text.rstrip(chr(10))}\n{key}\n")


def _tagged(rng: random.Random, text: str) -> Case:
    lines = text.splitlines(keepends=True)
    valued = [i for i, line in enumerate(lines) if re.match(r"^\s*[A-Za-z_][\w-]*: [^\s#]", line)]
    at = rng.choice(valued)
    tag = rng.choice(["!!binary aGVsbG8=", "!custom x", "!!python/name:os.system ''",
                      "!!timestamp 2024-01-01", "!!set {a, b}", "!!float x", "2024-01-01"])
    key = lines[at].split(":", 1)[0]
    lines[at] = f"{key}: {tag}\n"
    return Case(f"line {at + 1}: {tag!r}", "".join(lines))


def _several(rng: random.Random, doc: Any) -> Case:
    done = []
    for _ in range(rng.randint(2, 3)):
        mutation = rng.choice([_delete, _wrong_type, _bad_duration, _swap, _wrap])
        if len(_paths(doc)) < 3:
            break
        done.append(mutation(rng, doc).what)
    return Case("; ".join(done), _dump(doc))


TREE_MUTATIONS: list[Callable[[random.Random, Any], Case]] = [
    _delete, _wrong_type, _rename, _add_key, _bad_duration, _swap, _wrap, _recursive, _extends,
    _several,
]
TEXT_MUTATIONS: list[Callable[[random.Random, str], Case]] = [
    _truncate, _top_level, _bad_syntax, _duplicate_key, _bad_bytes, _deep, _odd_key, _tagged,
]


@functools.cache
def _parsed(path: Path) -> tuple[str, Any]:
    text = path.read_text()
    return text, yaml.load(text, Loader=_Loader)


def mutate(base: Base, index: int) -> Case:
    """Case `index` of `base`: the same mutation on every run."""
    rng = random.Random(base.seed * 100_000 + index)
    text, doc = _parsed(base.path)
    mutations: list[Callable[[random.Random, Any], Case]] = [*TREE_MUTATIONS, *TEXT_MUTATIONS]
    mutation = rng.choice(mutations)
    if mutation in TEXT_MUTATIONS:
        return mutation(rng, text)
    return mutation(rng, copy.deepcopy(doc))


# -- judging one case ----------------------------------------------------------------

def _write(folder: Path, base: Base, content: str | bytes) -> Path:
    folder.mkdir()
    # `harness validate` takes a file named profile.yaml for a stack profile
    path = folder / ("profile.yaml" if base.profile else base.path.name)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _judge(message: str, exit_code: int, path: Path, case: Case, length: int) -> str | None:
    """What is wrong with this error for this case; None when it is as the rule says."""
    if exit_code != 2:
        return f"exit code {exit_code}, not 2: {message}"
    if "\n" in message or "\r" in message:
        return f"more than one line: {message!r}"
    if "errors.pydantic.dev" in message or "validation error for" in message:
        return f"a raw pydantic error: {message}"
    found = re.match(rf"{re.escape(str(path))}(?::(\d+))?: \S", message)
    if found is None:
        return f"does not start with the file: {message}"
    line = int(found[1]) if found[1] else None
    if line is not None and not 1 <= line <= length + 1:
        return f"line {line} is not in the file ({length} lines): {message}"
    if case.lines is not None and line not in case.lines:
        return f"names line {line}, expected one of {sorted(case.lines)}: {message}"
    if case.needs_line and line is None:
        return f"names no line: {message}"
    if (case.syntax_from is not None and "not valid YAML" in message
            and (line or 0) < case.syntax_from):
        return f"syntax error before the inserted line {case.syntax_from}: {message}"
    return None


def _outcome(path: Path, case: Case) -> tuple[bool, str | None]:
    """(raised an error, what was wrong) for one case loaded as `harness validate` does."""
    content = case.content
    length = (content.count(b"\n") if isinstance(content, bytes) else content.count("\n")) + 1
    try:
        cli.validate(str(path))
    except HarnessError as exc:
        return True, _judge(str(exc), exc.exit_code, path, case, length)
    except Exception as exc:  # the defect this test looks for
        frames = traceback.extract_tb(exc.__traceback__)
        # the deepest frame of harness itself: where the input should have been checked
        where = next((f for f in reversed(frames) if "/harness/" in f.filename), frames[-1])
        return True, (f"{type(exc).__name__} leaked at {where.filename}:{where.lineno}: "
                      f"{exc!r:.300}")
    return False, None


@pytest.mark.parametrize("base", BASES, ids=[b.name for b in BASES])
def test_mutated_inputs_load_or_fail_with_one_line_naming_the_file(
    base: Base, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failures: list[str] = []
    errors = 0
    for index in range(CASES):
        case = mutate(base, index)
        raised, problem = _outcome(_write(tmp_path / str(index), base, case.content), case)
        errors += raised
        if problem is not None:
            failures.append(f"mutate({base.name}, {index}) [seed {base.seed}] {case.what}: "
                            f"{problem}")
        capsys.readouterr()  # `ok: ...` lines of the variants that load
    assert not failures, f"{len(failures)} of {CASES} cases:\n" + "\n".join(failures[:30])
    # most mutations break the document: a fuzzer whose cases all load tests nothing
    assert errors >= CASES // 2


# -- command-line flags ----------------------------------------------------------------

@pytest.fixture
def harness_main(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                 capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """`harness ARGS...` through the real entry point: (exit code, stderr)."""
    monkeypatch.setenv("HARNESS_STATE_DIR", str(tmp_path / "state"))

    def started(*_args: Any) -> None:
        raise AssertionError("bad input got past the checks")

    monkeypatch.setattr(cli.doctor_mod, "require", started)
    # every command first reaps dead runs' containers: not this test's business
    monkeypatch.setattr(cli.select, "cleanup_docker_leftovers", list)

    def run(*args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["harness", *args])
        with pytest.raises(SystemExit) as info:
            cli.main()
        code = info.value.code
        return code if isinstance(code, int) else -1, capsys.readouterr().err

    return run


BAD_COMMAND_LINES = [
    (["run", "no-such-scenario"], "no scenario 'no-such-scenario'"),
    (["validate", "missing/nowhere.yaml"], "missing/nowhere.yaml: cannot read the scenario"),
    (["run", "smoke", "--arch", "serverless"], "--arch: 'serverless'"),
    (["run", "smoke", "--arch", ","], "--arch"),
    (["run", "smoke", "--repeat", "0"], "--repeat: 0"),
    (["run", "smoke", "--repeat", "many"], "'--repeat'"),
    (["run", "smoke", "--workers", "0"], "--workers"),
    (["run", "smoke", "--min-effect", "p99"], "p99"),
    (["run", "smoke", "--no-such-flag"], "--no-such-flag"),
    (["validate"], "Missing argument"),
]


@pytest.mark.parametrize(("args", "names"), BAD_COMMAND_LINES,
                         ids=[" ".join(args) for args, _ in BAD_COMMAND_LINES])
def test_a_bad_flag_or_name_is_exit_2_with_one_line(
    harness_main: Callable[..., tuple[int, str]], args: list[str], names: str
) -> None:
    code, stderr = harness_main(*args)
    assert code == 2, stderr
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("harness: error: "), stderr
    assert names in stderr
