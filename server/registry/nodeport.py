"""The allocator of service node ports (--service-node-port-range)."""

from __future__ import annotations

import threading

from server.registry.clusterip import random_free

DEFAULT_NODE_PORT_RANGE = "30000-32767"


def parse_port_range(text: str) -> tuple[int, int]:
    """(first, last) of "30000-32767", "30000+2767" or "30000", as
    kube-apiserver's ParsePortRange reads the flag; ValueError otherwise."""
    text = text.strip()
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
        elif "+" in text:
            first, size = (int(part) for part in text.split("+", 1))
            last = first + size
        else:
            first = last = int(text)
    except ValueError:
        raise ValueError(f"unable to parse port range: {text}") from None
    if not 0 <= first <= last <= 65535:
        raise ValueError(f"range {text} is not a valid port range")
    return first, last


class NodePortAllocator:
    """Hands out the ports of a range, each to one service port at a time.

    As kube-apiserver's (KEP-3668): dynamic allocation prefers the upper part
    of the range, leaving a static band of min(max(16, size/32), 128) ports
    at the bottom for ports that users ask for by number.
    """

    def __init__(self, port_range: str = DEFAULT_NODE_PORT_RANGE):
        self.first, self.last = parse_port_range(port_range)
        self._size = self.last - self.first + 1
        self._static_band = 0 if self._size <= 16 else min(
            max(16, self._size // 32), 128)
        self._used: set[int] = set()
        self._lock = threading.Lock()

    @property
    def range(self) -> str:
        return f"{self.first}-{self.last}"

    def allocate(self) -> int:
        """A free port, or ValueError("range is full")."""
        with self._lock:
            for band in (range(self._static_band, self._size),
                         range(0, self._static_band)):
                offset = random_free(band, self._used)
                if offset is not None:
                    self._used.add(offset)
                    return self.first + offset
        raise ValueError("range is full")

    def reserve(self, port: int) -> None:
        """Take ``port``; ValueError with kube-apiserver's reason if it cannot be."""
        offset = self._offset(port)
        with self._lock:
            if offset in self._used:
                raise ValueError("provided port is already allocated")
            self._used.add(offset)

    def release(self, port: int) -> None:
        try:
            offset = self._offset(port)
        except ValueError:
            return
        with self._lock:
            self._used.discard(offset)

    def holds(self, port: int) -> bool:
        try:
            return self._offset(port) in self._used
        except ValueError:
            return False

    def _offset(self, port: int) -> int:
        if not isinstance(port, int) or not self.first <= port <= self.last:
            raise ValueError("provided port is not in the valid range. The range "
                             f"of valid ports is {self.range}")
        return port - self.first
