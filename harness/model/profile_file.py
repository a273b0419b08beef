"""A stack profile file: found by architecture name or path, read with `extends:` or overrides.

Validated into a `Profile`; an error names the file, the line and the field.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from harness import yamlfile
from harness.errors import ProfileError
from harness.model.app import ENV_REFERENCE
from harness.model.database import Database
from harness.model.deploy import Deploy
from harness.model.orchestrator import Orchestrator
from harness.model.profile import Profile


def stacks_root() -> Path:
    """The `stacks/` directory of the project (profiles, templates, apps)."""
    return Path(__file__).resolve().parents[2] / "stacks"


def available_profiles() -> list[str]:
    return sorted(p.parent.name for p in stacks_root().glob("*/profile.yaml"))


def profile_path(name_or_path: str) -> Path:
    """The profile file of an architecture name (`legacy`) or a path to a profile."""
    path = Path(name_or_path)
    if path.suffix:
        return path
    path = stacks_root() / name_or_path / "profile.yaml"
    if not path.exists():
        raise ProfileError(
            f"unknown architecture {name_or_path!r}; choose one of: "
            + ", ".join(available_profiles())
        )
    return path


def is_profile_file(path: Path) -> bool:
    """Does this YAML file look like a stack profile (rather than a scenario)?"""
    if path.name == "profile.yaml":
        return True
    try:
        # not UTF-8 is the reader's error to report, with its line
        head = path.read_bytes()[:4096].decode("utf-8", "replace")
    except OSError:
        return False
    head = f"\n{head}"
    return ("\nload_balancer:" in head and "\norchestrator:" in head) or "\nextends:" in head


def _read(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    raw, root = yamlfile.read(path, "stack profile", ProfileError)
    if not isinstance(raw, dict):
        raise ProfileError(
            f"{path}:{yamlfile.top_line(root)}: <top>: a stack profile must be a mapping, got "
            f"{'an empty file' if raw is None else type(raw).__name__}; start with name:, "
            "load_balancer:, ... as stacks/legacy/profile.yaml does")
    return raw, root


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`: mappings merge key by key, anything else replaces.

    How `extends:` and a scenario's variant put their keys on a base profile.
    """
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _has(raw: Any, loc: list[str | int]) -> bool:
    for key in loc:
        if isinstance(key, int):
            if not isinstance(raw, list) or not 0 <= key < len(raw):
                return False
        elif not isinstance(raw, dict) or key not in raw:
            return False
        raw = raw[key]
    return True


def _dotted(loc: list[str | int]) -> str:
    """`['alarms', 3, 'name']` -> `alarms[3].name`, as a field path is written."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


@dataclass(frozen=True)
class _Source:
    """One YAML document that sets a profile's keys, for the line of an error."""

    file: str
    raw: dict[str, Any]
    node: yaml.Node | None
    #: where the profile sits inside the document: "" for a profile file,
    #: `variants.legacy#x.profile` for a scenario's variant
    at: str = ""

    def shown(self, field: str) -> str:
        """The field's path as this document spells it."""
        if not self.at:
            return field
        return self.at if field == "<top>" else f"{self.at}.{field}"


def with_workdir(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    """`raw` (a profile's own keys) with `app.workdir` made absolute from `folder`.

    A team's `app.command` runs in the folder of the file that sets it (unless its
    `app.workdir` says another, relative to that folder), wherever the harness is started.
    """
    app = raw.get("app")
    if not isinstance(app, dict) or not (app.get("command") or "workdir" in app):
        return raw
    workdir = app.get("workdir")
    if workdir is not None and not isinstance(workdir, str):
        return raw  # the model names the wrong type
    return {**raw, "app": {**app, "workdir": str((folder / (workdir or ".")).resolve())}}


def own_keys(path: Path, base: str, *, env_names: Collection[str] | None = None
             ) -> dict[str, Any]:
    """The keys a team's profile file sets on top of `base`, which it must extend.

    The file is validated whole first (its `app.env` against the harness's variables and
    `env_names`, as `load_profile`), so an error in it names its own file and line.
    """
    load_profile(str(path), env_names=env_names)
    raw, root = _read(path)
    if raw.get("extends") != base:
        line = yamlfile.line_of(root, "extends") or yamlfile.top_line(root)
        raise ProfileError(f"{path}:{line}: extends: this profile is used for {base}, so it "
                           f"says extends: {base} (it has {raw.get('extends')!r})")
    return with_workdir({k: v for k, v in raw.items() if k != "extends"}, path.parent)


def _raw_profile(name_or_path: str) -> tuple[dict[str, Any], list[_Source]]:
    """A profile file's keys with its `extends:` base merged under them, and their sources."""
    path = profile_path(name_or_path)
    raw, root = _read(path)
    raw = with_workdir(raw, path.parent)
    sources = [_Source(str(path), raw, root)]
    base_name = raw.pop("extends", None)
    if base_name is not None:
        where = f"{path}:{yamlfile.line_of(root, 'extends')}"
        known = available_profiles()
        if base_name not in known:
            raise ProfileError(
                f"{where}: extends: unknown architecture {base_name!r}; name one of: "
                f"{', '.join(known)}"
            )
        base_path = profile_path(base_name)
        base, base_root = _read(base_path)
        if "extends" in base:
            raise ProfileError(
                f"{where}: extends: {base_name} extends another profile itself; "
                "extend a profile that stands alone"
            )
        _check_cited(raw, sources[0])
        sources.append(_Source(str(base_path), base, base_root))
        raw = merge(base, raw)
    return raw, sources


def load_profile(name_or_path: str, *, env_names: Collection[str] | None = None) -> Profile:
    """Load a profile by architecture name (`legacy`) or path; raise ProfileError if bad.

    A profile may say `extends: <architecture>`: it is then that profile with this
    file's keys on top (mappings merged key by key), so a variant such as
    `modern-no-proxy` stays identical to its base except where it says otherwise.

    `env_names`: the variables the scenario adds for its app (its own queues and buckets),
    which `${NAME}` in `app.env` may name besides the harness's; None when read without a
    scenario, when only names in the harness's own space are checked.
    """
    raw, sources = _raw_profile(name_or_path)
    return _validated(raw, sources, env_names)


def profile_with(base: str, overrides: dict[str, Any], *, file: str, node: yaml.Node | None,
                 at: str, env_names: Collection[str] | None = None,
                 team_file: Path | None = None) -> Profile:
    """The profile `base` with `overrides` (already read from another YAML file) on top.

    Merged key by key as `extends:` does, validated as a profile file is; an error names
    `file:line` through `node` (the file's node tree) and the field as `at.<path>`, e.g.
    `scenario.yaml:14: variants.legacy#x.profile.load_balancer.routing: ...`.
    `env_names` as for `load_profile`. `team_file`: a team's profile file (`extends:
    <base>`) whose keys `overrides` holds too, so a setting it makes is found on its line.
    """
    raw, sources = _raw_profile(base)
    own = _Source(file, overrides, node, at)
    _check_cited(overrides, own)
    team = []
    if team_file is not None:
        team_raw, team_root = _read(team_file)
        team = [_Source(str(team_file), team_raw, team_root)]
    return _validated(merge(raw, overrides), [own, *team, *sources], env_names)


def _check_cited(over: dict[str, Any], source: _Source, prefix: str = "") -> None:
    """A new `value` of a cited setting comes with its own source.

    Merged key by key, `{value: 3}` would keep the base's source, which cites the old figure.
    """
    for key, value in over.items():
        if not isinstance(value, dict):
            continue
        field = f"{prefix}{key}"
        if "value" in value and "source" not in value:
            shown = source.shown(field)
            line = yamlfile.line_of(source.node, shown)
            where = f"{source.file}:{line}" if line is not None else source.file
            raise ProfileError(
                f"{where}: {shown}: a new value needs its own source "
                '({value: ..., source: "where the figure comes from"}); '
                "the base profile's source cites its old value"
            )
        _check_cited(value, source, f"{field}.")


def _source_of(loc: list[str | int], sources: list[_Source]) -> _Source:
    """The document that sets the field at `loc` in the merged profile.

    The variant's own keys come first, then its base; merged as `merge` does, a list
    or a value replaces the base's whole, so what lies below it is that document's.
    """
    for source in sources:
        node: Any = source.raw
        for key in loc:
            if not _has(node, [key]):
                break
            node = node[key]
            if not isinstance(node, dict):
                return source
        else:
            return source
    return sources[0]


def _validated(raw: dict[str, Any], sources: list[_Source],
               env_names: Collection[str] | None = None) -> Profile:
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as exc:
        # a misspelt key gives "extra" and "missing" errors: the misspelling says more
        first = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
        # the discriminated unions add the chosen member's tag to the path: drop it
        loc: list[str | int] = [p for p in first["loc"] if p not in _UNION_TAGS]
        message = _message(first)
        named = _NAMED_FIELD.match(message)
        if not loc and named:
            # a check across sections names the setting it blames: point at that line
            loc, message = list(named["field"].split(".")), named["rest"]
        field = _dotted(loc) or "<top>"
        source = _source_of(loc, sources)
        shown = source.shown(field)
        line = yamlfile.line_of(source.node, shown)
        where = f"{source.file}:{line}" if line is not None else source.file
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ProfileError(f"{where}: {shown}: {message}{more}") from None
    _check_references(profile, sources, env_names)
    # where the app's image comes from, for the docker runtime's missing-image error
    profile.app._image_declared_at = _declared_at(
        profile.app.image_setting().split("."), sources)
    return profile


def _declared_at(loc: list[str], sources: list[_Source]) -> str | None:
    """`file:line` of the first document whose own text sets the field at `loc`."""
    for source in sources:
        line = _exact_line(source.node, [*source.at.split("."), *loc] if source.at else loc)
        if line is not None:
            return f"{source.file}:{line}"
    return sources[0].file if sources else None


def _exact_line(node: yaml.Node | None, keys: list[str]) -> int | None:
    """The line of the key at `keys` (mapping keys only), None unless every key is there."""
    line = None
    for name in keys:
        if not isinstance(node, yaml.MappingNode):
            return None
        found = next(((k, v) for k, v in node.value
                      if isinstance(k, yaml.ScalarNode) and k.value == name), None)
        if found is None:
            return None
        line, node = found[0].start_mark.line + 1, found[1]
    return line


def _check_references(profile: Profile, sources: list[_Source],
                      env_names: Collection[str] | None) -> None:
    """Every `${NAME}` in `app.env` names a variable the app will have when it is filled.

    Checked when the profile is read, so a misspelt name stops `harness validate` and
    `harness run` before anything starts rather than the stack halfway up.
    """
    for key, value in profile.app.env.items():
        for name in ENV_REFERENCE.findall(value):
            problem = profile.env_reference_problem(name, env_names)
            if problem is None:
                continue
            loc: list[str | int] = ["app", "env", key]
            source = _source_of(loc, sources)
            shown = source.shown(_dotted(loc))
            line = yamlfile.line_of(source.node, shown)
            where = f"{source.file}:{line}" if line is not None else source.file
            raise ProfileError(f"{where}: {shown}: {problem}")


def _message(error: ErrorDetails) -> str:
    """What a person should read for one pydantic error, without pydantic's type names."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key; check the spelling against stacks/legacy or stacks/modern"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        got = type(error["input"]).__name__
        if "Cited[" in error["msg"] or "Timing" in error["msg"]:
            return f'expected {{value: ..., source: "where the figure comes from"}}, not {got}'
        return f"expected a mapping of settings, not {got}"
    return error["msg"].removeprefix("Value error, ")


def _union_tags() -> set[str]:
    """The tag values of the profile's discriminated unions (`asg`, `rds_mysql`, ...)."""
    tags: set[str] = set()
    for union, key in ((Orchestrator, "kind"), (Deploy, "kind"), (Database, "engine")):
        for member in get_args(get_args(union)[0]):
            tags.update(get_args(member.model_fields[key].annotation))
    return tags


_UNION_TAGS = _union_tags()
#: a whole-profile check's message that starts with the dotted setting it is about
_NAMED_FIELD = re.compile(r"^(?P<field>[a-z_]+(?:\.[a-z_]+)+):? (?P<rest>.*)$", re.DOTALL)
