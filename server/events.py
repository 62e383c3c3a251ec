"""Event retention: events are removed an hour after they last happened,
as kube-apiserver's --event-ttl lets etcd expire them."""

from __future__ import annotations

import asyncio
import logging
import time

from server.errors import APIError
from server.resources import Resources
from server.tables import parse_timestamp

log = logging.getLogger(__name__)


def last_seen(event: dict) -> float:
    """When the event last happened: its newest timestamp of any kind."""
    meta = event.get("metadata", {})
    stamps = (event.get("lastTimestamp"), event.get("eventTime"),
              (event.get("series") or {}).get("lastObservedTime"),
              meta.get("creationTimestamp"))
    seen = [parse_timestamp(s) for s in stamps if isinstance(s, str)]
    return max((s for s in seen if s is not None), default=0.0)


async def expire_events(resources: Resources, ttl: float) -> None:
    kind = resources.registry.get("", "v1", "events")
    interval = max(min(ttl / 4, 60.0), 0.1)
    while True:
        await asyncio.sleep(interval)
        cutoff = time.time() - ttl
        expired = [e for e in resources.cache.resource(kind).select("", None)
                   if last_seen(e.object()) < cutoff]
        for entry in expired:
            try:
                await resources.delete(kind, entry.namespace, entry.name, {})
            except APIError as error:
                if error.code != 404:
                    log.warning("expiring event %s: %s", entry.key, error.message)
        if expired:
            log.debug("expired %d events older than %.0fs", len(expired), ttl)
