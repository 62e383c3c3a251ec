"""The vocabulary of strategic merge patch: directives, errors and the Schema.

Shared by applying a patch (server.strategic_merge), ordering merged lists
(server.strategic_order) and computing a patch (server.strategic_diff), as in
k8s.io/apimachinery/pkg/util/strategicpatch and pkg/util/mergepatch.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.gojson import go_equal, go_fmt, go_type
from server.patch_meta import MergeKeys

DIRECTIVE = "$patch"
DELETE = "delete"
REPLACE = "replace"
MERGE = "merge"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER = "$setElementOrder"

# k8s.io/apimachinery/pkg/util/mergepatch errors kube-apiserver answers 400 or
# 422 for; every other failure of the merge is a 500 with the error's text.
BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
BAD_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"
NO_LIST_OF_LISTS = "lists of lists are not supported"


class PatchError(ValueError):
    """A patch that cannot be merged; ``status`` is kube-apiserver's code."""

    def __init__(self, message: str, status: int = 500):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Schema:
    """A position in an object: the merge-key table and the path so far."""

    table: MergeKeys
    path: str = ""

    def _join(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def child(self, key: str) -> "Schema":
        return Schema(self.table, self._join(key))

    def field(self, key: str) -> tuple[str, str, bool]:
        """(merge key, strategy, retainKeys) of the field ``key`` here."""
        merge_key, strategies = self.table.get(self._join(key), ("", ""))
        names = [s for s in strategies.split(",") if s]
        others = [s for s in names if s != "retainKeys"]
        return merge_key, others[0] if others else "", "retainKeys" in names


def _kind_name(value: object) -> str:
    # reflect.Kind names as mergepatch.ErrBadArgType prints them.
    return {"nil": "invalid"}.get(go_type(value), go_type(value))


def bad_arg_type(expected: str, actual: object) -> PatchError:
    return PatchError(f"expected a {expected}, but received a {_kind_name(actual)}")


def no_merge_key(item: dict, merge_key: str) -> PatchError:
    return PatchError(f"map: {go_fmt(item)} does not contain declared merge key: "
                      f"{merge_key}")


def element_kind(*lists: list) -> str:
    """The one Go type of the items of ``lists`` (sliceElementType)."""
    kind = None
    for items in lists:
        for item in items:
            if kind is None:
                kind = go_type(item)
                if kind == "slice":
                    raise PatchError(NO_LIST_OF_LISTS, 422)
            elif go_type(item) != kind:
                shown = "[" + " ".join(go_fmt(s) for s in lists) + "]"
                raise PatchError(f"list element types are not identical: {shown}")
    if kind is None:
        raise PatchError("no elements in any of the given slices")
    return kind


def is_delete(item: object) -> bool:
    """Whether a list item is a ``$patch: delete`` directive."""
    return isinstance(item, dict) and item.get(DIRECTIVE) == DELETE


def dedup_scalars(items: list) -> list:
    """Drop repeated scalars the way Go's deduplicateScalars does: each repeat
    is overwritten by the last item, so the order changes."""
    items = list(items)
    last = len(items) - 1
    i = 0
    while i < last:
        j = i + 1
        while j <= last:
            if go_equal(items[i], items[j]):
                items[j] = items[last]
                del items[last]
                last -= 1
                j -= 1
            j += 1
        i += 1
    return items
