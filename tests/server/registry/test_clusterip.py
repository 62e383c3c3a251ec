"""The clusterIP allocator."""

import ipaddress

import pytest

from server.registry.clusterip import ClusterIPAllocator


def test_allocator_skips_network_broadcast_and_api_server_addresses():
    allocator = ClusterIPAllocator("10.0.0.0/29")

    ips = {allocator.allocate() for _ in range(5)}

    assert ips == {f"10.0.0.{i}" for i in range(2, 7)}
    assert allocator.free == 0


def test_full_range():
    allocator = ClusterIPAllocator("10.0.0.0/30")

    assert allocator.allocate() == "10.0.0.2"
    with pytest.raises(ValueError, match="^range is full$"):
        allocator.allocate()


def test_the_first_ip_is_the_api_servers_only():
    allocator = ClusterIPAllocator("10.96.0.0/24")

    with pytest.raises(ValueError, match="^provided IP is already allocated$"):
        allocator.reserve("10.96.0.1")
    allocator.reserve("10.96.0.1", kubernetes_service=True)

    assert allocator.api_server_ip == "10.96.0.1"
    assert allocator.free == 253
    with pytest.raises(ValueError, match="^provided IP is already allocated$"):
        allocator.reserve("10.96.0.1", kubernetes_service=True)


def test_restore_takes_any_stored_ip_once():
    allocator = ClusterIPAllocator("10.0.0.0/24")

    allocator.restore("10.0.0.1")
    allocator.restore("10.0.0.9")

    with pytest.raises(ValueError, match="^provided IP is already allocated$"):
        allocator.restore("10.0.0.9")


def test_released_ip_can_be_allocated_again():
    allocator = ClusterIPAllocator("10.0.0.0/29")
    first, *_ = [allocator.allocate() for _ in range(5)]

    allocator.release(first)

    assert allocator.allocate() == first


def test_many_allocations_have_no_duplicates():
    allocator = ClusterIPAllocator("10.96.0.0/24")

    ips = [allocator.allocate() for _ in range(253)]

    assert len(set(ips)) == 253 and "10.96.0.1" not in ips
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/24")
               for ip in ips)


def test_dynamic_allocation_prefers_the_upper_band():
    allocator = ClusterIPAllocator("10.0.0.0/24")

    ips = [ipaddress.ip_address(allocator.allocate()) for _ in range(50)]

    # The lowest 16 addresses stay free for clusterIPs asked for by hand.
    assert min(ips) > ipaddress.ip_address("10.0.0.16")


def test_reserve_errors():
    allocator = ClusterIPAllocator("10.0.0.0/24")
    allocator.reserve("10.0.0.10")

    with pytest.raises(ValueError, match="^provided IP is already allocated$"):
        allocator.reserve("10.0.0.10")
    with pytest.raises(ValueError) as err:
        allocator.reserve("10.0.1.1")
    assert str(err.value) == ("the provided IP (10.0.1.1) is not in the valid range. "
                              "The range of valid IPs is 10.0.0.0/24")
    with pytest.raises(ValueError):
        allocator.reserve("10.0.0.255")
