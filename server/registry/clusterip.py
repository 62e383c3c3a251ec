"""The allocator of service cluster IPs."""

from __future__ import annotations

import ipaddress
import random
import threading


class ClusterIPAllocator:
    """Hands out the IPs of a service CIDR, each to one service at a time.

    As kube-apiserver's bitmap allocator: the network address (and, for
    IPv4, the broadcast address) is never used, and dynamic allocation
    prefers the upper part of the range so that the lower part stays free
    for IPs that users ask for by hand.
    """

    def __init__(self, cidr: str):
        self.network = ipaddress.ip_network(cidr, strict=False)
        first, last = int(self.network.network_address), int(
            self.network.broadcast_address)
        if self.network.num_addresses > 2:
            first += 1
            if self.network.version == 4:
                last -= 1
        self._first, self._size = first, last - first + 1
        # KEP-3070: a static band of min(max(16, size/16), 256) addresses.
        self._static_band = min(max(16, self._size // 16), 256, self._size)
        self._used: set[int] = set()
        self._lock = threading.Lock()

    @property
    def free(self) -> int:
        return self._size - len(self._used)

    def allocate(self) -> str:
        """A free IP, or ValueError("range is full")."""
        with self._lock:
            for band in (range(self._static_band, self._size),
                         range(0, self._static_band)):
                offset = self._random_free(band)
                if offset is not None:
                    self._used.add(offset)
                    return str(ipaddress.ip_address(self._first + offset))
        raise ValueError("range is full")

    def _random_free(self, band: range) -> int | None:
        if not band:
            return None
        start = random.randrange(len(band))
        for i in range(len(band)):
            offset = band[(start + i) % len(band)]
            if offset not in self._used:
                return offset
        return None

    def reserve(self, ip: str) -> None:
        """Take ``ip``; ValueError with kube-apiserver's reason if it cannot be."""
        offset = self._offset(ip)
        with self._lock:
            if offset in self._used:
                raise ValueError("provided IP is already allocated")
            self._used.add(offset)

    def release(self, ip: str) -> None:
        try:
            offset = self._offset(ip)
        except ValueError:
            return
        with self._lock:
            self._used.discard(offset)

    def _offset(self, ip: str) -> int:
        address = ipaddress.ip_address(ip)
        offset = int(address) - self._first
        if address not in self.network or not 0 <= offset < self._size:
            raise ValueError(
                f"the provided IP ({ip}) is not in the valid range. The range of "
                f"valid IPs is {self.network}")
        return offset
