"""Emptying a Terminating namespace, then removing it."""

from __future__ import annotations

import asyncio
import logging

from server.errors import APIError
from server.resources import Resources

log = logging.getLogger(__name__)

# How often a Terminating namespace is checked for what is left in it.
POLL_SECONDS = 0.5


async def finalize(resources: Resources, name: str) -> None:
    kinds = [k for k in resources.registry.kinds if k.namespaced]
    while True:
        left = 0
        for kind in kinds:
            entries = list(resources.cache.resource(kind).select(name, None))
            left += len(entries)
            for entry in entries:
                await _delete(resources, kind, entry)
        if not left:
            break
        await asyncio.sleep(POLL_SECONDS)
    await _remove(resources, name)
    log.info("namespace %s removed", name)


async def _delete(resources: Resources, kind, entry) -> None:
    if entry.object()["metadata"].get("deletionTimestamp"):
        return  # on its way out already: a pod waits for its node
    try:
        await resources.delete(kind, entry.namespace, entry.name, {})
    except APIError as error:
        if error.code != 404:
            log.warning("emptying namespace %s: %s", entry.namespace, error.message)


async def _remove(resources: Resources, name: str) -> None:
    kind = resources.namespaces

    def finalized(namespace: dict) -> dict:
        namespace.setdefault("spec", {})["finalizers"] = []
        return namespace

    try:
        await resources.guaranteed_update(kind, "", name, finalized, None)
    except APIError as error:
        if error.code != 404:
            raise
