"""The one settings object, built once: CLI flag over HARNESS_* environment over defaults.

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
    #: the time scale applied to every AWS timing (1.0 = real AWS figures)
    time_scale: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build from HARNESS_* variables; keyword overrides (CLI flags) win."""
        env = os.environ if env is None else env
        default_state = Path(env.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
        try:
            time_scale = float(env.get("HARNESS_TIME_SCALE", "1.0"))
        except ValueError:
            raise ConfigError(
                f"HARNESS_TIME_SCALE={env['HARNESS_TIME_SCALE']!r}: not a number; e.g. 0.1"
            ) from None
        settings = cls(
            # empty counts as unset: "" would be the working directory
            state_dir=Path(env.get("HARNESS_STATE_DIR") or default_state / "harness"),
            tools_dir=Path(env.get("HARNESS_TOOLS_DIR", PROJECT_ROOT / ".tools")),
            results_dir=Path(env.get("HARNESS_RESULTS_DIR", PROJECT_ROOT / "results")),
            time_scale=time_scale,
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
        if not 0.001 <= settings.time_scale <= 10:
            raise ConfigError(
                f"time scale {settings.time_scale:g} is out of range; "
                "use 0.001 to 10 (1 = AWS timings)"
            )
        return settings

    def tool(self, name: str) -> str:
        """Path of a tool: from tools_dir/bin first, then PATH; the bare name if neither."""
        local = self.tools_dir / "bin" / name
        if local.exists():
            return str(local)
        return shutil.which(name) or name

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
