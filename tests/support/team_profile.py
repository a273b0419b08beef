"""A team's own stack profile, written outside the repository, for the tests that start one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.model.profile import Profile
from harness.model.profile_file import load_profile


def team_profile(tmp_path: Path, app: dict[str, Any], *, base: str = "modern") -> Profile:
    """A profile of the team's own in `tmp_path` that extends `base` with `app` on top."""
    path = tmp_path / "team-profile.yaml"
    path.write_text(yaml.safe_dump({"extends": base, "app": app}, sort_keys=False))
    return load_profile(str(path))
