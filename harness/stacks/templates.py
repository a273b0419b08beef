"""Config templates (Jinja2): stacks/<arch>/templates/ first, then stacks/common/."""

from __future__ import annotations

from typing import Any

import jinja2

from harness.model.profile_file import stacks_root


def render(arch: str, template: str, **variables: Any) -> str:
    """Render a template; an undefined variable is an error, not an empty string."""
    root = stacks_root()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([root / arch / "templates", root / "common"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return env.get_template(template).render(**variables)
