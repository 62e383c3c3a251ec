"""The kinds of the apps/v1 group."""

from __future__ import annotations

from server.registry.base import Kind


def kinds() -> list[Kind]:
    # TODO: Deployments and ReplicaSets (apps/v1) come in a later task; until
    # then the apps group is not served at all.
    return []
