"""Architecture labels: a stack profile's name, optionally with a variant after `#`."""

from __future__ import annotations


def profile_of(label: str) -> str:
    """The stack profile an architecture label runs: `modern#2` (a second copy) and
    `modern#prescaled` (a variant a scenario's schedule names) run modern."""
    return label.split("#", 1)[0]
