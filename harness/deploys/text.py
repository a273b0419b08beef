"""A `deploy.*` event as one short line for the live view and the plain log."""

from __future__ import annotations

from typing import Any

from harness.records.events import DeployEvent, Source

_STEPS: dict[str, str] = {
    DeployEvent.START: "{deploy}: deploying release {version}",
    DeployEvent.INSTANCE_RELOADING: "{deploy}: reloading php-fpm on {component} (still in the CLB)",
    DeployEvent.INSTANCE_UPDATED: "{deploy}: {component} serves the release (reload {reload_s} s)",
    DeployEvent.GREEN_STARTED: "{deploy}: green task set started",
    DeployEvent.GREEN_HEALTHY: "{deploy}: green task set healthy in the target group",
    DeployEvent.SHIFT: "{deploy}: {percent} % of traffic on green",
    DeployEvent.TRAFFIC_SHIFTED: "{deploy}: all traffic on the release",
    DeployEvent.ROLLBACK: "{deploy}: ROLLBACK ({reason}), traffic back on blue",
    DeployEvent.BLUE_TERMINATED: "{deploy}: blue task set terminated",
    DeployEvent.DONE: "{deploy}: done, {outcome}",
    DeployEvent.FAILED: "{deploy}: FAILED: {error}",
}


def event_line(event: dict[str, Any]) -> str | None:
    """The line for a deploy event worth showing; None for the others."""
    kind = str(event.get("kind", ""))
    template = _STEPS.get(kind)
    if template is None:
        return None
    try:
        return "deploy " + template.format(**event)
    except (KeyError, IndexError):
        return f"deploy {event.get('deploy')}: {kind.removeprefix(Source.DEPLOY)}"
