"""A whole scenario file: workload + fault timeline + SLOs, checked against each stack.

    name: smoke
    description: one line for `harness list`
    architectures: [legacy, modern]
    seed: 7
    time_scale: 0.05          # AWS timings x 0.05 (health checks, launches, failovers)
    drain: 5s                 # after the load, before the invariants are read
    workload: {...}           # harness/scenario/workload.py
    faults: [...]             # harness/scenario/faults.py
    slos: [...]               # harness/scenario/slo.py
    recovery: {...}
    scaling: {schedule: [...]}  # harness/scenario/scaling.py (scheduled scaling)
    variants: {legacy#x: {description: ..., profile: {...}}}  # harness/scenario/variants.py
    own_service: {schema: [...], seed: ..., invariants: [...]}  # harness/scenario/own.py

Every problem is one line `file:line: field: what is wrong and what to do`, found
before anything starts: a fault aimed at a component a stack does not have is
an error here, not halfway through a run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from harness import yamlfile
from harness.errors import ProfileError, ScenarioError
from harness.model.cited import check_time_scale
from harness.model.monitoring import AlarmSpec
from harness.model.prices import check_overrides, load_prices
from harness.model.profile import Profile
from harness.model.profile_file import available_profiles, load_profile
from harness.scenario import alarms as scenario_alarms
from harness.scenario import faults as fault_schema
from harness.scenario.deploys import check_deploys
from harness.scenario.labels import profile_of
from harness.scenario.own import OwnService, check_own, parse_own
from harness.scenario.replayed import ReplaySource, parse_source
from harness.scenario.scaling import ScenarioScaling, check_scaling, parse_scaling
from harness.scenario.slo import Objectives, check_phases, load_objectives
from harness.scenario.variants import Variant, parse_variants
from harness.scenario.workload import (
    Duration,
    Workload,
    format_validation_error,
    load_workload,
    with_locustfile_from,
)

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"
#: the architectures a scenario runs on when it names none (`both` on the command line)
ARCHS: tuple[str, ...] = ("legacy", "modern")


class _Header(BaseModel):
    """The top level; the three big parts are validated by their own modules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = Field(min_length=1, description="one line, shown by `harness list`")
    #: stack profiles (stacks/<name>/profile.yaml); checked against them below
    architectures: list[str] = Field(default_factory=lambda: list(ARCHS), min_length=1)
    seed: int = Field(1, description="overrides workload.seed: same seed, same traffic")
    #: the run's default; --time-scale and HARNESS_TIME_SCALE override it (Settings.time_scale)
    time_scale: Annotated[float, AfterValidator(check_time_scale)] = Field(
        1.0, description="multiplies every AWS timing")
    drain: Duration = Field(5.0, description="wait after the load before checking invariants")
    bug: Literal["ack_before_commit", "skip_stock_check"] | None = Field(
        None, description="plant a bug in the sample services, to see the checks fail"
    )
    workload: dict[str, Any]
    faults: list[Any] = Field(default_factory=list)
    slos: list[Any] = Field(default_factory=list)
    recovery: dict[str, Any] = Field(default_factory=dict)
    alarms: list[Any] = Field(default_factory=list)
    scaling: dict[str, Any] = Field(default_factory=dict)
    #: what-if copies of a profile, keyed by label (harness.scenario.variants)
    variants: dict[str, Any] = Field(default_factory=dict)
    #: AWS prices that replace the table's (harness.model.prices), by name: {name: USD}
    prices: Any = None
    #: a team's own schema, seed, queues, buckets and SQL checks (harness.scenario.own)
    own_service: Any = None
    #: the original night a `harness replay` scenario replays (harness.scenario.replayed)
    replayed_from: Any = None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario, ready to plan."""

    name: str
    description: str
    path: Path
    architectures: list[str]
    seed: int
    #: the file's `time_scale:`, the run's default: what a run uses is Settings.time_scale
    #: (harness.settings.resolve_time_scale), as `seed` is the default of the run's seed
    time_scale: float
    drain_s: float
    bug: str | None
    workload: Workload
    faults: list[fault_schema.FaultSpec]
    objectives: Objectives
    #: the file as parsed, kept in run.json so a run says what it ran
    definition: dict[str, Any]
    #: changes to the profiles' CloudWatch alarms (harness.scenario.alarms)
    alarms: list[scenario_alarms.AlarmOverride] = field(default_factory=list)
    #: scheduled scaling actions (harness.scenario.scaling)
    scaling: ScenarioScaling | None = None
    #: what-if copies of a profile by label (harness.scenario.variants)
    variants: dict[str, Variant] = field(default_factory=dict)
    #: the original night this scenario replays (harness.scenario.replayed); None: none
    replayed_from: ReplaySource | None = None
    #: a team's own data and checks; None: the sample shop's (harness.scenario.own)
    own: OwnService | None = None

    def profile(self, label: str) -> Profile:
        """The stack profile an architecture label runs: its variant's, else its profile's.

        Every caller that needs a label's profile (the run, validation, the CLI) asks here.
        """
        return _profile(label, self.variants, self.own)

    def variant(self, label: str) -> Variant | None:
        """The scenario's variant this label runs (`legacy#x`, or a copy `legacy#x#2`)."""
        return _variant(label, self.variants)

    def alarm_specs(self, profile: Profile, arch: str) -> list[AlarmSpec]:
        """The profile's alarms with this scenario's changes for the architecture."""
        return scenario_alarms.apply(profile, self.alarms, arch, str(self.path))

    @property
    def phase_starts(self) -> dict[str, float]:
        return {name: start for name, start, _end in self.workload.phase_windows()}


def resolve_path(name_or_path: str) -> Path:
    """`smoke` -> scenarios/smoke.yaml; a path is taken as it is."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.parent != Path("."):
        return path
    candidate = SCENARIOS_DIR / f"{name_or_path}.yaml"
    if not candidate.exists():
        raise ScenarioError(
            f"no scenario {name_or_path!r}; choose one of {', '.join(available())} "
            "or give a path to a .yaml file"
        )
    return candidate


def available() -> list[str]:
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml"))


def describe(name: str) -> str:
    """The one-line description of a shipped scenario (for `harness list`)."""
    raw = yaml.safe_load((SCENARIOS_DIR / f"{name}.yaml").read_text())
    return str(raw.get("description", "")) if isinstance(raw, dict) else ""


def load_scenario(name_or_path: str) -> Scenario:
    """Read, validate and check a scenario against the stacks it names; ScenarioError if bad."""
    path = resolve_path(name_or_path)
    source = str(path)
    raw, root = yamlfile.read(path, "scenario", ScenarioError)
    try:
        return _validate(raw, path, source, root)
    except ScenarioError as exc:
        raise ScenarioError(yamlfile.add_lines(str(exc), source, root)) from None


def _validate(raw: Any, path: Path, source: str, root: yaml.Node | None = None) -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: <top>: a scenario is a mapping (name:, workload:, ...)")
    try:
        header = _Header.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(source, exc)) from None
    workload = load_workload(header.workload, source, prefix="workload",
                             base_dir=path.parent)
    workload = with_locustfile_from(workload.model_copy(update={"seed": header.seed}), path.parent)
    if workload.locustfile is not None and not workload.locustfile.path.is_file():
        raise ScenarioError(
            f"{source}: workload.locustfile.path: {workload.locustfile.path} does not exist; "
            "a relative path is taken from the scenario file's folder"
        )
    faults = fault_schema.parse_timeline(header.faults, source=source)
    objectives = load_objectives({"slos": header.slos, "recovery": header.recovery}, source)
    phases = [name for name, _s, _e in workload.phase_windows()]
    check_phases(objectives, phases, source)
    names = {fault_schema.fault_name(f, i) for i, f in enumerate(faults)}
    for i, slo in enumerate(objectives.slos):
        wanted = getattr(slo, "fault", None)
        if wanted is not None and wanted not in names:
            raise ScenarioError(
                f"{source}: slos[{i}].fault: no fault named {wanted!r}; "
                f"faults: {', '.join(sorted(names)) or 'none'}"
            )
    starts = {name: start for name, start, _end in workload.phase_windows()}
    known = available_profiles()
    for i, arch in enumerate(header.architectures):
        if profile_of(arch) not in known:
            raise ScenarioError(
                f"{source}: architectures[{i}]: no stack profile {profile_of(arch)!r}; "
                f"choose from {', '.join(known)} (a label may add a variant: legacy#prescaled)"
            )
    if len(set(header.architectures)) < len(header.architectures):
        raise ScenarioError(f"{source}: architectures: a label appears twice; give copies "
                            "their own variant (modern, modern#2)")
    alarms = scenario_alarms.parse_alarms(header.alarms, source)
    try:  # checked here; the cost analysis reads them back from the recorded definition
        check_overrides(header.prices, load_prices().names, source)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    # first: `${NAME}` in a profile's app.env may name the block's queues and buckets
    own = parse_own(header.own_service, source, base_dir=path.parent)
    variants = parse_variants(header.variants, source=source, root=root,
                              env_names=own.variables if own is not None else ())
    for arch in header.architectures:
        profile = _profile(arch, variants, own)
        specs = scenario_alarms.apply(profile, alarms, arch, source)
        check_deploys(faults, profile=profile, arch=arch, source=source,
                      alarm_names=[a.name for a in specs])
        fault_schema.check_timeline(
            faults, source=source, topology=fault_schema.Topology.from_profile(profile),
            phases=starts, run_s=workload.duration,
        )
    replayed_from = parse_source(header.replayed_from, workload, source)
    check_own(own, profiles={a: _profile(a, variants, own) for a in header.architectures},
              bug=header.bug, source=source)
    scaling = parse_scaling(header.scaling, source)
    if scaling is not None:
        check_scaling(scaling, source=source, phases=starts, run_s=workload.duration,
                      profiles={a: _profile(a, variants, own) for a in header.architectures})
    return Scenario(
        name=header.name, description=header.description, path=path,
        architectures=list(header.architectures), seed=header.seed,
        time_scale=header.time_scale, drain_s=header.drain, bug=header.bug,
        workload=workload, faults=faults, objectives=objectives, definition=raw,
        alarms=alarms, scaling=scaling, variants=variants, own=own, replayed_from=replayed_from,
    )


def on_architectures(scenario: Scenario, archs: list[str]) -> Scenario:
    """The scenario run on other stack profiles (`--arch`), its fault timeline checked on each."""
    known = available_profiles()
    for arch in dict.fromkeys(archs):
        if profile_of(arch) not in known:
            raise ScenarioError(
                f"--arch: no stack profile {profile_of(arch)!r}; choose from {', '.join(known)}"
            )
        # a variant is checked on its own topology, alarms and deploy
        profile = scenario.profile(arch)
        fault_schema.check_timeline(
            scenario.faults, source=str(scenario.path),
            topology=fault_schema.Topology.from_profile(profile),
            phases=scenario.phase_starts, run_s=scenario.workload.duration,
        )
        check_deploys(scenario.faults, profile=profile, arch=arch,
                      source=str(scenario.path), alarm_names=[
                          a.name for a in scenario.alarm_specs(profile, arch)])
    check_own(scenario.own, profiles={a: scenario.profile(a) for a in archs}, bug=scenario.bug,
              source=str(scenario.path))
    return dataclasses.replace(scenario, architectures=list(archs))


def _variant(label: str, variants: dict[str, Variant]) -> Variant | None:
    # a copy of a variant (`legacy#x#2`, as `--arch legacy#x,legacy#x` labels it) runs it too
    while label not in variants and label.count("#") > 1:
        label = label.rsplit("#", 1)[0]
    return variants.get(label)


def _profile(arch: str, variants: dict[str, Variant], own: OwnService | None) -> Profile:
    variant = _variant(arch, variants)
    if variant is not None:
        return variant.profile
    try:
        return load_profile(profile_of(arch),
                            env_names=own.variables if own is not None else ())
    except ProfileError as exc:
        raise ScenarioError(f"architectures: {exc}") from None
