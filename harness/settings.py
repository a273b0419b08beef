"""The one settings object, built once: CLI flag over HARNESS_* environment over scenario
over defaults.

Nothing reads the environment at import time; `Settings.from_env()` is called
by the CLI (and by tests) and the result is passed down.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.model.cited import check_time_scale

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: MariaDB, php-fpm and HAProxy make Unix sockets under <state_dir>/stacks/<stack-id>/<part>/,
#: and a socket path has at most 107 bytes; the deepest one adds 59 to the state dir.
MAX_STATE_DIR_CHARS = 107 - 59


@dataclass(frozen=True)
class Settings:
    """Where harness keeps its state and finds its tools."""

    #: stack work dirs (datadirs, sockets, registries) live under <state_dir>/stacks/<id>
    state_dir: Path
    #: `make setup`'s tools: toxiproxy-server, the LocalStack virtualenv
    tools_dir: Path
    #: where run results go
    results_dir: Path
    #: HARNESS_CACHE_DIR, else <tools_dir>/cache (`cache_dir`)
    cache: Path | None = None
    #: the run's time scale, applied to every AWS timing (1.0 = real AWS figures): the one
    #: value the stack, the run record and so the analysis and report read; see
    #: resolve_time_scale
    time_scale: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, time_scale: float | None = None,
                 scenario_time_scale: float = 1.0, **overrides: Any) -> Settings:
        """Build from HARNESS_* variables; keyword overrides (CLI flags) win.

        `time_scale` is the --time-scale flag, `scenario_time_scale` the scenario's
        (already checked where the scenario was read).
        """
        env = os.environ if env is None else env
        default_state = Path(env.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
        settings = cls(
            # empty counts as unset: "" would be the working directory
            state_dir=Path(env.get("HARNESS_STATE_DIR") or default_state / "harness"),
            tools_dir=Path(env.get("HARNESS_TOOLS_DIR", PROJECT_ROOT / ".tools")),
            results_dir=Path(env.get("HARNESS_RESULTS_DIR", PROJECT_ROOT / "results")),
            cache=Path(env["HARNESS_CACHE_DIR"]) if env.get("HARNESS_CACHE_DIR") else None,
            time_scale=resolve_time_scale(env, flag=time_scale, scenario=scenario_time_scale),
        )
        settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
        if not settings.state_dir.is_absolute():
            # the harness kills and removes what dead runs left under <state dir>/stacks:
            # relative to wherever a command runs, that could be anything (a project's
            # own stacks/ folder)
            raise ConfigError(
                f"HARNESS_STATE_DIR={settings.state_dir}: not an absolute path; e.g. "
                f"{Path.cwd() / settings.state_dir}"
            )
        if len(str(settings.state_dir)) > MAX_STATE_DIR_CHARS:
            raise ConfigError(
                f"HARNESS_STATE_DIR={settings.state_dir}: longer than {MAX_STATE_DIR_CHARS} "
                "characters, too long for the Unix sockets made under it; choose a shorter path"
            )
        return settings

    def tool(self, name: str) -> str:
        """Path of a tool: from tools_dir/bin first, then PATH; the bare name if neither."""
        local = self.tools_dir / "bin" / name
        if local.exists():
            return str(local)
        return shutil.which(name) or name

    @property
    def cache_dir(self) -> Path:
        """Files the harness can make again but keeps for speed (a fresh MariaDB datadir);
        safe to delete."""
        return self.cache or self.tools_dir / "cache"

    @property
    def localstack_python(self) -> Path:
        return self.tools_dir / "localstack" / "bin" / "python"

    @property
    def go_app_binary(self) -> Path:
        return PROJECT_ROOT / "stacks" / "apps" / "go" / "bin" / "shop"

    @property
    def rdsproxy_binary(self) -> Path:
        """The RDS Proxy stand-in (stacks/apps/rdsproxy), built by `make setup`."""
        return PROJECT_ROOT / "stacks" / "apps" / "rdsproxy" / "bin" / "rdsproxy"


def resolve_time_scale(env: Mapping[str, str], *, flag: float | None = None,
                       scenario: float = 1.0) -> float:
    """The run's time scale: --time-scale over HARNESS_TIME_SCALE over the scenario's.

    A flag or variable goes through the same check as a scenario's `time_scale:`
    (harness.model.cited.check_time_scale); the error names where the value came from.
    """
    raw = env.get("HARNESS_TIME_SCALE")
    if flag is not None:
        value, where = flag, f"--time-scale {flag:g}"
    elif raw is not None:
        where = f"HARNESS_TIME_SCALE={raw!r}"
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{where}: not a number; e.g. 0.1") from None
    else:
        return scenario  # checked with its file and line where the scenario was read
    try:
        return check_time_scale(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
