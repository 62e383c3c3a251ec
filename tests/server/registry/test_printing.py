"""Table cell helpers."""

from datetime import datetime, timezone

import pytest

from server.registry.printing import (
    container_cells,
    format_labels,
    human_duration,
    since,
)


@pytest.mark.parametrize("seconds,text", [
    (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (59, "59s"), (119, "119s"),
    (120, "2m"), (310, "5m10s"), (600, "10m"), (179 * 60, "179m"),
    (3 * 3600, "3h"), (7 * 3600 + 59 * 60, "7h59m"), (8 * 3600, "8h"),
    (47 * 3600, "47h"), (2 * 86400, "2d"), (2 * 86400 + 3600, "2d1h"),
    (8 * 86400, "8d"), (400 * 86400, "400d"), (730 * 86400, "2y"),
    (731 * 86400, "2y1d"), (3000 * 86400, "8y"),
], ids=lambda v: str(v))
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_since():
    now = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

    assert since("2024-05-01T11:55:00Z", now) == "5m"
    assert since("", now) == "<unknown>"


def test_labels_and_containers():
    assert format_labels({"b": "2", "a": "1"}) == "a=1,b=2"
    assert format_labels({}) == "<none>"
    assert container_cells([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]) \
        == ("a,b", "x,y")
