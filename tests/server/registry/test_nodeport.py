"""The allocator of service node ports."""

import pytest

from server.registry.nodeport import NodePortAllocator, parse_port_range


@pytest.mark.parametrize("text,expected", [
    ("30000-32767", (30000, 32767)),
    ("30000+99", (30000, 30099)),
    ("31000", (31000, 31000)),
], ids=["dash", "plus", "single"])
def test_port_range_forms(text, expected):
    assert parse_port_range(text) == expected


@pytest.mark.parametrize("text", ["x", "32767-30000", "1-70000"])
def test_bad_port_range(text):
    with pytest.raises(ValueError):
        parse_port_range(text)


def test_dynamic_ports_keep_out_of_the_static_band():
    ports = NodePortAllocator("30000-32767")

    taken = {ports.allocate() for _ in range(200)}

    # A static band of 2768 / 32 = 86 ports is left for requested ones.
    assert min(taken) >= 30086 and max(taken) <= 32767


def test_a_full_range_uses_the_static_band_last():
    ports = NodePortAllocator("30000-30019")  # 20 ports: a band of 16

    taken = [ports.allocate() for _ in range(20)]

    assert sorted(taken[:4]) == [30016, 30017, 30018, 30019]
    with pytest.raises(ValueError, match="range is full"):
        ports.allocate()


def test_reserve_and_release():
    ports = NodePortAllocator()

    ports.reserve(31000)
    with pytest.raises(ValueError, match="provided port is already allocated"):
        ports.reserve(31000)
    ports.release(31000)
    ports.reserve(31000)

    assert ports.holds(31000)


def test_out_of_range_names_the_range():
    with pytest.raises(ValueError) as raised:
        NodePortAllocator("30000-30100").reserve(80)

    assert str(raised.value) == ("provided port is not in the valid range. The "
                                 "range of valid ports is 30000-30100")
