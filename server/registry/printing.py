"""Helpers for Table cells, as kube-apiserver's printers compute them.

The column descriptions kube-apiserver sends are the API's own field docs
(SwaggerDoc); the ones several kinds share live here.
"""

from __future__ import annotations

from datetime import datetime, timezone

CONTAINER_NAMES_DOC = "Names of each container in the template."
CONTAINER_IMAGES_DOC = "Images referenced by each container in the template."


def parse_time(text: object) -> datetime | None:
    """An RFC 3339 timestamp (with or without fractional seconds), or None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """duration.HumanDuration: "45s", "5m10s", "3h", "2d4h", "3y"."""
    secs = int(seconds)
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 120:
        return f"{secs}s"
    minutes = secs // 60
    if minutes < 10:
        rest = secs % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{hours // 24 // 365}y"


def since(timestamp: object, now: datetime | None = None) -> str:
    """translateTimestampSince: the age of ``timestamp``, or "<unknown>"."""
    when = parse_time(timestamp)
    if when is None:
        return "<unknown>"
    now = now or datetime.now(timezone.utc)
    return human_duration((now - when).total_seconds())


def format_labels(labels: dict | None) -> str:
    """labels.FormatLabels: "a=b,c=d" sorted by key, or "<none>"."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def container_cells(containers: list | None) -> tuple[str, str]:
    """layoutContainerCells: the names and the images, comma-separated."""
    containers = [c for c in containers or [] if isinstance(c, dict)]
    names = ",".join(c.get("name", "") for c in containers)
    images = ",".join(c.get("image", "") for c in containers)
    return names, images


def or_none(text: object) -> str:
    return text if isinstance(text, str) and text else "<none>"
