"""A scenario's `variants:` block: what-if copies of a stack profile, one setting changed.

    architectures: [legacy, legacy#tcp-check]
    variants:
      legacy#tcp-check:
        description: the CLB's API default target, TCP:80, instead of a deep HTTP check
        profile:                    # merged onto stacks/legacy/profile.yaml, key by key
          load_balancer:
            routing: {value: round_robin, source: "ELB Classic guide: TCP listeners ..."}

`profile:` may also name a team's profile file (`profile: payments-legacy.yaml`, which
says `extends: legacy`), or be `{extends: payments-legacy.yaml, ...}` with keys on top.

The key is an architecture label `<profile>#<name>`; its runs use the profile with
`profile:` merged on top as a profile's `extends:` is, and validated like a profile
file (an unknown key, a wrong type or a new value without its source is an error with
the scenario's file and line). A variant need not be in `architectures`: `--arch
legacy#tcp-check` picks it. The run records each override with the base value beside
the new one, so the report says what the variant changed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness import yamlfile
from harness.errors import ProfileError, ScenarioError
from harness.model.profile import Profile
from harness.model.profile_file import (
    available_profiles,
    load_profile,
    merge,
    own_keys,
    profile_with,
    with_workdir,
)
from harness.scenario.labels import profile_of

#: `<profile>#<name>`: no dots, so that `variants.<label>.profile...` stays a field path
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*#[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Override:
    """One setting a variant changes, as a dotted path into the profile."""

    setting: str
    base_value: Any
    value: Any
    #: the override's own source (a cited setting); None for a plain setting
    source: str | None

    def to_json(self) -> dict[str, Any]:
        return {"setting": self.setting, "base_value": self.base_value, "value": self.value,
                "source": self.source}

    def covers(self, setting: str) -> bool:
        """Does this override change `setting` (a modelled row's path), or part of it?"""
        return (setting == self.setting or setting.startswith(f"{self.setting}.")
                or self.setting.startswith(f"{setting}."))


@dataclass(frozen=True)
class Variant:
    """A labelled copy of a stack profile with the scenario's overrides."""

    label: str
    description: str
    profile: Profile
    overrides: list[Override]

    def overridden(self, setting: str) -> bool:
        return any(o.covers(setting) for o in self.overrides)

    def to_json(self) -> dict[str, Any]:
        return {"description": self.description,
                "overrides": [o.to_json() for o in self.overrides]}

    def summary(self) -> str:
        """One line for `harness validate`: what the variant changes."""
        changes = "; ".join(f"{o.setting}: {_short(o.base_value)} -> {_short(o.value)}"
                            for o in self.overrides) or "no overrides"
        return f"{self.label}: {self.description} ({changes})"


def modelled_rows(profile: Profile, variant: Variant | None, time_scale: float
                  ) -> list[dict[str, Any]]:
    """The profile's "what this run modelled" rows, those the variant overrides marked."""
    return [{**m.to_json(), "overridden": variant is not None and variant.overridden(m.setting)}
            for m in profile.modelled(time_scale)]


def parse_variants(raw: dict[str, Any], *, source: str, root: yaml.Node | None,
                   env_names: Collection[str] = ()) -> dict[str, Variant]:
    """The scenario's `variants:`, each merged onto its profile and validated.

    `env_names`: the scenario's own variables (its queues and buckets), which `${NAME}` in
    a variant's `app.env` may name besides the harness's.
    """
    known = available_profiles()
    found: dict[str, Variant] = {}
    for label, body in raw.items():
        at = f"variants.{label}"
        where = _where(source, root, at)
        if not isinstance(label, str) or not _LABEL.match(label):
            raise ScenarioError(
                f"{where}: {at}: name a variant as a label <profile>#<name> "
                "(legacy#tcp-check): letters, digits, - and _ after the #"
            )
        if profile_of(label) not in known:
            raise ScenarioError(
                f"{where}: {at}: no stack profile {profile_of(label)!r}; "
                f"choose from {', '.join(known)}"
            )
        if not isinstance(body, dict) or set(body) - {"description", "profile"}:
            raise ScenarioError(f"{where}: {at}: a variant has `description:` (one line) and "
                                "`profile:` (the profile keys it changes), nothing else")
        description = body.get("description")
        if not isinstance(description, str) or not description.strip():
            raise ScenarioError(f"{_where(source, root, f'{at}.description')}: "
                                f"{at}.description: say in one line what the variant changes "
                                "and why")
        overrides = _from_file(body.get("profile"), label, source, root, f"{at}.profile",
                               env_names)
        if not isinstance(overrides, dict) or not overrides:
            raise ScenarioError(f"{_where(source, root, f'{at}.profile')}: {at}.profile: the "
                                "profile keys the variant changes, as a mapping (as in "
                                f"stacks/{profile_of(label)}/profile.yaml), or a profile file "
                                f"of your own that says extends: {profile_of(label)}")
        try:
            # the base first: a broken base profile is its own file's error, not the variant's
            base = load_profile(profile_of(label))
            profile = profile_with(profile_of(label), overrides, file=source, node=root,
                                   at=f"{at}.profile", env_names=env_names,
                                   team_file=_team_file(body.get("profile"), source))
        except ProfileError as exc:
            raise ScenarioError(str(exc)) from None
        found[label] = Variant(label, description.strip(), profile,
                               _overrides(base, profile, overrides))
    return found


def _team_file(over: Any, source: str) -> Path | None:
    """The team's profile file a variant's `profile:` names (read by `_from_file`), if any."""
    file = over if isinstance(over, str) else (
        over.get("extends") if isinstance(over, dict) else None)
    return Path(source).parent / file if isinstance(file, str) else None


def _from_file(over: Any, label: str, source: str, root: yaml.Node | None, at: str,
               env_names: Collection[str]) -> Any:
    """A variant's `profile:` with a team's profile file read into it.

    `profile: payments-legacy.yaml` is that file's keys (it says `extends: legacy`);
    `profile: {extends: payments-legacy.yaml, app: {...}}` is the file's keys with the
    mapping's on top. A path is relative to the scenario file; an inline `app.command`
    runs in the scenario's folder.
    """
    folder = Path(source).parent
    if isinstance(over, str):
        over = {"extends": over}
    if not isinstance(over, dict):
        return over
    file = over.get("extends")
    rest = {k: v for k, v in over.items() if k != "extends"}
    rest = with_workdir(rest, folder)
    if file is None:
        return rest
    base = profile_of(label)
    if not isinstance(file, str) or not Path(file).suffix:
        raise ScenarioError(f"{_where(source, root, f'{at}.extends')}: {at}.extends: a "
                            f"profile file of your own (payments-{base}.yaml) that says "
                            f"extends: {base}; the label already names {base}")
    path = folder / file
    if not path.is_file():
        raise ScenarioError(f"{_where(source, root, at)}: {at}: {path} is not a file; a "
                            "relative path is taken from the scenario file's folder")
    try:
        keys = own_keys(path, base, env_names=env_names)
    except ProfileError as exc:
        raise ScenarioError(str(exc)) from None
    return merge(keys, rest)



def _overrides(base: Profile, varied: Profile, over: dict[str, Any]) -> list[Override]:
    """Every setting `over` names, with the base profile's value and the variant's."""
    before, after = base.model_dump(mode="json"), varied.model_dump(mode="json")
    out: list[Override] = []

    def walk(node: dict[str, Any], path: str) -> None:
        for key, value in node.items():
            at = f"{path}{key}"
            if isinstance(value, dict) and ("value" in value or "source" in value):
                # a cited setting: one row with its new source (a Timing's floor below it)
                out.append(Override(at, _get(before, f"{at}.value"), _get(after, f"{at}.value"),
                                    _get(after, f"{at}.source")))
                walk({k: v for k, v in value.items() if k not in ("value", "source")}, f"{at}.")
            elif isinstance(value, dict) and value:
                walk(value, f"{at}.")
            else:
                # a plain value, or null for an optional section or cited setting: show the
                # cited setting's value rather than its {value, source}
                out.append(Override(at, _bare(_get(before, at)), _bare(_get(after, at)), None))

    walk(over, "")
    return out


def _get(data: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _bare(value: Any) -> Any:
    return value["value"] if isinstance(value, dict) and "value" in value else value


def _where(source: str, root: yaml.Node | None, path: str) -> str:
    line = yamlfile.line_of(root, path)
    return f"{source}:{line}" if line is not None else source


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else f"{text[:37]}..."
