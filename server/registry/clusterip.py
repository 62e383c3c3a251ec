"""The allocator of service cluster IPs."""

from __future__ import annotations

import ipaddress
import random
import threading


# The first usable IP of the range is the kubernetes service's, as
# kube-apiserver's GetAPIServerServiceIP picks it.
API_SERVER_OFFSET = 0


def random_free(band: range, used: set[int]) -> int | None:
    """A random offset of ``band`` not in ``used``, or None if all are."""
    if not band:
        return None
    start = random.randrange(len(band))
    for i in range(len(band)):
        offset = band[(start + i) % len(band)]
        if offset not in used:
            return offset
    return None


class ClusterIPAllocator:
    """Hands out the IPs of a service CIDR, each to one service at a time.

    As kube-apiserver's bitmap allocator: the network address (and, for
    IPv4, the broadcast address) is never used, and dynamic allocation
    prefers the upper part of the range so that the lower part stays free
    for IPs that users ask for by hand. The first IP (``api_server_ip``) goes
    to the ``kubernetes`` service only, even while that service is missing:
    kube-apiserver makes it again with that IP.
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
    def api_server_ip(self) -> str:
        return str(ipaddress.ip_address(self._first + API_SERVER_OFFSET))

    @property
    def free(self) -> int:
        """How many IPs other services may still be given."""
        return self._size - len(self._used | {API_SERVER_OFFSET})

    def allocate(self) -> str:
        """A free IP other than the API server's, or ValueError("range is full")."""
        with self._lock:
            for band in (range(self._static_band, self._size),
                         range(API_SERVER_OFFSET + 1, self._static_band)):
                offset = random_free(band, self._used)
                if offset is not None:
                    self._used.add(offset)
                    return str(ipaddress.ip_address(self._first + offset))
        raise ValueError("range is full")

    def reserve(self, ip: str, kubernetes_service: bool = False) -> None:
        """Take ``ip`` for a service that asks for it; ValueError with
        kube-apiserver's reason if it cannot be."""
        offset = self._offset(ip)
        if offset == API_SERVER_OFFSET and not kubernetes_service:
            # What kube-apiserver says, the kubernetes service holding it.
            raise ValueError("provided IP is already allocated")
        self.restore(ip)

    def restore(self, ip: str) -> None:
        """Take ``ip`` for a service already stored, whichever it is: a
        stored service keeps its IP even if it is the API server's."""
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
