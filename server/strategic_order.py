"""The order of a merged list, as Kubernetes keeps it.

Patched items follow ``$setElementOrder`` (or the patch's own order), items
only the live object had keep their live order, and the two are interleaved
by where the live list had them (design-proposals/cli/
preserve-order-in-strategic-merge-patch.md).
"""

from __future__ import annotations

from server.gojson import go_equal
from server.strategic_schema import (
    PatchError, bad_arg_type, is_delete, no_merge_key,
)


def _key_of(item: object, merge_key: str, kind: str) -> object:
    if kind != "map":
        return item
    return item.get(merge_key) if isinstance(item, dict) else None


def index_of(items: list, wanted: object, merge_key: str, kind: str) -> int:
    key = _key_of(wanted, merge_key, kind)
    for i, item in enumerate(items):
        if go_equal(_key_of(item, merge_key, kind), key):
            return i
    return -1


def _check_merge_keys(merge_key: str, *lists: list) -> None:
    for items in lists:
        for item in items:
            if not isinstance(item, dict):
                raise bad_arg_type("map", item)
            if merge_key not in item:
                raise no_merge_key(item, merge_key)


def normalize_slice_order(items: list, order: list, merge_key: str,
                          kind: str) -> list:
    """``items`` sorted by their place in ``order``; deletions go last."""
    deletions: list = []
    if kind == "map":
        _check_merge_keys(merge_key, items, order)
        deletions = [i for i in items if is_delete(i)]
        items = [i for i in items if not is_delete(i)]

    def place(item: object) -> int:
        found = index_of(order, item, merge_key, kind)
        return found if found >= 0 else len(order)

    return sorted(items, key=place) + deletions


def _merge_sorted(server_only: list, patched: list, server_order: list,
                  merge_key: str, kind: str) -> list:
    # Interleave the two sorted lists; a server-only item goes first only
    # when the live list had it before the patched item it is compared with.
    result, i, j = [], 0, 0
    while i < len(server_only) or j < len(patched):
        if i < len(server_only) and j < len(patched):
            left = index_of(server_order, server_only[i], merge_key, kind)
            right = index_of(server_order, patched[j], merge_key, kind)
            take_left = left >= 0 and right >= 0 and left < right
        else:
            take_left = i < len(server_only)
        if take_left:
            result.append(server_only[i])
            i += 1
        else:
            result.append(patched[j])
            j += 1
    return result


def normalize_element_order(patched: list, server_only: list, patch_order: list,
                            server_order: list, merge_key: str, kind: str) -> list:
    """The order Kubernetes gives a merged list: $setElementOrder (or the
    patch) for patched items, the live order for the others."""
    patched = normalize_slice_order(patched, patch_order, merge_key, kind)
    server_only = normalize_slice_order(server_only, server_order, merge_key, kind)
    return _merge_sorted(server_only, patched, server_order, merge_key, kind)


def partition(merged: list, present_in: list, merge_key: str) -> tuple[list, list]:
    """Split ``merged`` into items found in ``present_in`` and the others."""
    if not merge_key:
        inside = [v for v in merged if any(go_equal(v, p) for p in present_in)]
        outside = [v for v in merged if not any(go_equal(v, p) for p in present_in)]
        return inside, outside
    inside, outside = [], []
    for item in merged:
        if not isinstance(item, dict):
            raise bad_arg_type("map", item)
        if merge_key not in item:
            raise no_merge_key(item, merge_key)
        found = find_by_key(present_in, merge_key, item[merge_key]) >= 0
        (inside if found else outside).append(item)
    return inside, outside


def find_by_key(items: list, merge_key: str, value: object) -> int:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise PatchError(f"value for key {i} is not a map")
        if merge_key in item and go_equal(item[merge_key], value):
            return i
    return -1
