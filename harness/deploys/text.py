"""A `deploy.*` event as one short line for the live view and the plain log."""

from __future__ import annotations

from typing import Any

_STEPS = {
    "start": "{deploy}: deploying release {version}",
    "instance_reloading": "{deploy}: reloading php-fpm on {component} (still in the CLB)",
    "instance_updated": "{deploy}: {component} serves the release (reload {reload_s} s)",
    "green_started": "{deploy}: green task set started",
    "green_healthy": "{deploy}: green task set healthy in the target group",
    "shift": "{deploy}: {percent} % of traffic on green",
    "traffic_shifted": "{deploy}: all traffic on the release",
    "rollback": "{deploy}: ROLLBACK ({reason}), traffic back on blue",
    "blue_terminated": "{deploy}: blue task set terminated",
    "done": "{deploy}: done, {outcome}",
    "failed": "{deploy}: FAILED: {error}",
}


def event_line(event: dict[str, Any]) -> str | None:
    """The line for a deploy event worth showing; None for the others."""
    step = str(event.get("kind", "")).removeprefix("deploy.")
    template = _STEPS.get(step)
    if template is None:
        return None
    try:
        return "deploy " + template.format(**event)
    except (KeyError, IndexError):
        return f"deploy {event.get('deploy')}: {step}"
