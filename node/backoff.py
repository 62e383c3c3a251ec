"""Back-off: the kubelet's per-container restart back-off, and retry delays.

The restart back-off follows k8s.io/client-go/util/flowcontrol.Backoff as the
kubelet uses it (base 10 s, cap 300 s): the first restart happens at once, each
later one waits twice as long as the one before, and an entry expires when a
container ran for longer than twice the cap since its last restart, which is
the "reset after 10 minutes of clean running".
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable

DEFAULT_BASE = 10.0
DEFAULT_CAP = 300.0


@dataclass
class _Entry:
    delay: float
    last_update: float


class RestartBackoff:
    """Per-key restart delays; a key is a pod UID and a container name."""

    def __init__(self, base: float = DEFAULT_BASE, cap: float = DEFAULT_CAP,
                 clock: Callable[[], float] = time.time):
        self.base = base
        self.cap = cap
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def _expired(self, event_time: float, entry: _Entry) -> bool:
        return event_time - entry.last_update > 2 * self.cap

    def in_backoff_since(self, key: str, event_time: float) -> bool:
        """Whether a container that finished at ``event_time`` must still wait."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return False
        return self.clock() - event_time < entry.delay

    def next(self, key: str, event_time: float) -> None:
        """Record a restart now: the next failure waits twice as long."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            entry = _Entry(delay=self.base, last_update=0.0)
            self._entries[key] = entry
        else:
            entry.delay = min(entry.delay * 2, self.cap)
        entry.last_update = self.clock()

    def delay(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.delay if entry else 0.0

    def remaining(self, key: str, event_time: float) -> float:
        """Seconds left before a container finished at ``event_time`` may restart."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, event_time + entry.delay - self.clock())

    def forget(self, key_prefix: str) -> None:
        """Drop the entries of a pod that is gone."""
        for key in [k for k in self._entries if k.startswith(key_prefix)]:
            del self._entries[key]


class RetryDelay:
    """Exponential delays with jitter for retrying API calls; never zero."""

    def __init__(self, initial: float = 0.2, cap: float = 30.0):
        self.initial = initial
        self.cap = cap
        self._next = initial

    def __call__(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        return delay * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self._next = self.initial


def go_duration(seconds: float) -> str:
    """Format a duration as Go's time.Duration.String does: 10s, 1m20s, 200ms."""
    if seconds == 0:
        return "0s"
    if seconds < 1:
        millis = seconds * 1000
        return f"{millis:g}ms" if millis >= 1 else f"{seconds * 1e6:g}µs"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{int(minutes)}m{text}"
    return text


def parse_duration(text: str) -> float:
    """Parse a Go-style duration (``10s``, ``1m30s``, ``200ms``) or plain seconds."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "µs": 1e-6}
    total, number = 0.0, ""
    i = 0
    while i < len(text):
        char = text[i]
        if char.isdigit() or char == ".":
            number += char
            i += 1
            continue
        unit = next((u for u in ("ms", "us", "µs", "h", "m", "s")
                     if text.startswith(u, i)), None)
        if unit is None or not number:
            raise ValueError(f"invalid duration {text!r}")
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    if number:
        raise ValueError(f"missing unit in duration {text!r}")
    return total
