"""Applying a strategic merge patch, as k8s.io/apimachinery/pkg/util/strategicpatch.

A strategic merge patch is a JSON merge patch (RFC 7386) in which some lists
are merged by a key instead of replaced, with directives: ``$patch`` (replace,
delete), ``$retainKeys``, ``$deleteFromPrimitiveList/<field>`` and
``$setElementOrder/<field>``. Which lists merge comes from a table of merge keys
(server.patch_meta) read through a :class:`Schema`.

The same merge runs in two modes. The server applies a patch to an object
(``SERVER``). kubectl's three-way patch merges two patches (``CLIENT``): there
directives are carried into the result, not acted upon. Functions here change
their arguments; callers pass copies.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.gojson import go_equal, go_fmt, go_type
from server.patch_meta import MergeKeys
from server.strategic_order import find_by_key, normalize_element_order, partition
from server.strategic_schema import (
    BAD_PRIMITIVE_LIST, BAD_RETAIN_KEYS, BAD_SET_ELEMENT_ORDER, DELETE,
    DELETE_FROM_PRIMITIVE_LIST, DIRECTIVE, MERGE, REPLACE, RETAIN_KEYS,
    SET_ELEMENT_ORDER, PatchError, Schema, bad_arg_type, dedup_scalars,
    element_kind, is_delete, no_merge_key,
)


@dataclass(frozen=True)
class MergeOptions:
    # Act on $deleteFromPrimitiveList and $setElementOrder (the server does);
    # otherwise carry them into the result (a patch merged with a patch).
    merge_parallel_list: bool
    # Drop a null for a field the original lacks (the server does); otherwise
    # keep it, as a deletion the merged patch must still carry.
    ignore_unmatched_nulls: bool


SERVER = MergeOptions(merge_parallel_list=True, ignore_unmatched_nulls=True)
CLIENT = MergeOptions(merge_parallel_list=False, ignore_unmatched_nulls=False)


def merge_map(original: dict | None, patch: dict, schema: Schema,
              opts: MergeOptions) -> dict:
    """``patch`` merged into ``original`` (which is changed and returned)."""
    if DIRECTIVE in patch:
        return _map_directive(patch, schema, opts)
    if original is None:
        original = {}
    _apply_retain_keys(original, patch, opts)
    _merge_element_orders(original, patch, schema, opts)
    for key in list(patch):
        _merge_field(original, key, patch[key], schema, opts)
    return original


def _map_directive(patch: dict, schema: Schema, opts: MergeOptions) -> dict:
    directive = patch[DIRECTIVE]
    if directive == REPLACE:
        del patch[DIRECTIVE]
        return _fresh_map(patch, schema, opts)
    if directive == DELETE:
        return {}
    raise PatchError(f"unknown patch type: {go_fmt(directive)} in map: "
                     f"{go_fmt(patch)}")


def _merge_field(original: dict, key: str, value: object, schema: Schema,
                 opts: MergeOptions) -> None:
    deleting_items = False
    if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
        if not opts.merge_parallel_list:
            original[key] = value
            return
        key = extract_key(key, DELETE_FROM_PRIMITIVE_LIST)
        deleting_items = True

    if value is None:
        original.pop(key, None)
        if opts.ignore_unmatched_nulls:
            return
    if key not in original or go_type(original[key]) != go_type(value):
        # Nothing to merge with: the patch's value stands (a deletion list
        # for a list the object lacks deletes nothing).
        if not deleting_items:
            original[key] = _fresh(value, key, schema, opts)
        return

    current = original[key]
    merge_key, strategy, _ = schema.field(key)
    if isinstance(current, dict):
        if strategy == REPLACE:
            original[key] = value
        else:
            original[key] = merge_map(current, value, schema.child(key), opts)
    elif isinstance(current, list):
        if strategy == MERGE:
            original[key] = merge_list(current, value, schema.child(key),
                                       merge_key, opts, deleting_items)
        else:
            original[key] = value
    else:
        original[key] = value


def _fresh(value: object, key: str, schema: Schema, opts: MergeOptions) -> object:
    """A patch value for a field the object lacks.

    Kubernetes stores it as sent, nulls dropped, and leaves its directives to
    the typed decoding that follows. Objects are stored untyped here, so the
    server merges it into an empty value instead: directives act (a
    ``$patch: delete`` item deletes nothing) rather than landing in storage.
    A patch merged with a patch keeps them, for the server to act on later.
    """
    if not opts.merge_parallel_list:
        return value
    if isinstance(value, dict):
        return merge_map({}, value, schema.child(key), opts)
    merge_key, strategy, _ = schema.field(key)
    if isinstance(value, list) and strategy == MERGE and merge_key and value:
        return merge_list([], value, schema.child(key), merge_key, opts, False)
    return discard_nulls(value)


def _fresh_map(patch: dict, schema: Schema, opts: MergeOptions) -> dict:
    # A "$patch: replace" map, on the server, is cleaned like a new field.
    if not opts.merge_parallel_list:
        return patch
    return merge_map({}, patch, schema, opts)


def discard_nulls(value: object) -> object:
    if isinstance(value, dict):
        return {k: discard_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [discard_nulls(v) for v in value]
    return value


def extract_key(key: str, prefix: str) -> str:
    """The field a ``prefix/<field>`` directive key names."""
    head, sep, field = key.partition("/")
    if not sep or head != prefix:
        if prefix == DELETE_FROM_PRIMITIVE_LIST:
            raise PatchError(BAD_PRIMITIVE_LIST, 400)
        raise PatchError(BAD_SET_ELEMENT_ORDER, 400)
    return field


def _apply_retain_keys(original: dict, patch: dict, opts: MergeOptions) -> None:
    if RETAIN_KEYS not in patch:
        return
    keys = patch.pop(RETAIN_KEYS)
    if not opts.merge_parallel_list:
        if RETAIN_KEYS not in original:
            original[RETAIN_KEYS] = keys
        elif original[RETAIN_KEYS] != keys:
            raise PatchError(f"{go_fmt(original[RETAIN_KEYS])} and {go_fmt(keys)} "
                             "are not deep equal: this may happen when "
                             "calculating the 3-way diff patch")
        return

    if not isinstance(keys, list):
        raise PatchError(BAD_RETAIN_KEYS, 400)
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST,
                                            SET_ELEMENT_ORDER)):
            continue
        if key not in keys:
            raise PatchError(BAD_RETAIN_KEYS, 400)
    for key in [k for k in original if k not in keys]:
        del original[key]


def _merge_element_orders(original: dict, patch: dict, schema: Schema,
                          opts: MergeOptions) -> None:
    for key in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(key)
        if not opts.merge_parallel_list:
            if key not in original:
                original[key] = order
            elif original[key] != order:
                raise PatchError(BAD_SET_ELEMENT_ORDER, 400)
        if not isinstance(order, list):
            raise bad_arg_type("slice", order)
        field = extract_key(key, SET_ELEMENT_ORDER)
        merged = _ordered_list(original, patch, field, order, schema, opts)
        if merged is not None:
            original[field] = merged
            patch.pop(field, None)


def _ordered_list(original: dict, patch: dict, field: str, order: list,
                  schema: Schema, opts: MergeOptions) -> list | None:
    """The list ``field`` merged and put in the order ``order`` gives."""
    live, patched = original.get(field), patch.get(field)
    for value in (live, patched):
        if value is not None and not isinstance(value, list):
            raise bad_arg_type("slice", value)
    merge_key, strategy, _ = schema.field(field)
    check_order(patched or [], order, merge_key)

    if live is None and patched is None:
        return None
    if patched is None:
        merged = live
    elif live is None:
        merged = _fresh(patched, field, schema, opts)
    elif strategy == MERGE:
        merged = merge_list(live, patched, schema.child(field), merge_key, opts,
                            False)
    else:
        merged = patched

    inside, outside = partition(merged, order, merge_key)
    kind = element_kind(live or [], patched or [])
    return normalize_element_order(inside, outside, order, live or [], merge_key,
                                   kind)


def check_order(patched: list, order: list, merge_key: str) -> None:
    """The patch list's items must come in $setElementOrder's order."""
    if not order or not patched:
        return
    items = patched
    if merge_key:
        for item in patched:
            if not isinstance(item, dict):
                raise bad_arg_type("map", item)
        items = [i for i in patched if not is_delete(i)]
    p = s = 0
    while p < len(items) and s < len(order):
        if isinstance(items[p], dict) and DIRECTIVE in items[p]:
            p += 1
            continue
        if _same_key(items[p], order[s], merge_key):
            p += 1
        s += 1
    if p < len(items) and s >= len(order):
        raise PatchError(f"The order in patch list:\n{go_fmt(patched)}\n doesn't "
                         f"match {SET_ELEMENT_ORDER} list:\n{go_fmt(order)}\n")


def _same_key(left: object, right: object, merge_key: str) -> bool:
    if not merge_key:
        return go_equal(left, right)
    for item in (left, right):
        if not isinstance(item, dict):
            raise bad_arg_type("map", item)
        if merge_key not in item:
            raise no_merge_key(item, merge_key)
    return go_equal(left[merge_key], right[merge_key])


def merge_list(original: list, patch: list, schema: Schema, merge_key: str,
               opts: MergeOptions, deleting_items: bool) -> list:
    """A list with the merge strategy: by ``merge_key`` for maps, as a set of
    scalars otherwise; ``deleting_items`` for $deleteFromPrimitiveList."""
    if not original and not patch:
        return original
    kind = element_kind(original, patch)
    if kind != "map":
        if opts.merge_parallel_list and deleting_items:
            return [v for v in original if not any(go_equal(v, d) for d in patch)]
        merged = dedup_scalars(original + patch)
    else:
        if not merge_key:
            raise PatchError("cannot merge lists without merge key for "
                             f"{schema.path}")
        original, patch = _list_directives(original, patch, merge_key)
        merged = _merge_items(original, patch, merge_key, schema, opts)
    inside, outside = partition(merged, patch, merge_key)
    return normalize_element_order(inside, outside, patch, original, merge_key, kind)


def _list_directives(original: list, patch: list,
                     merge_key: str) -> tuple[list, list]:
    """Act on ``$patch`` items: delete drops the live item with that key,
    replace makes the patch's other items the whole list."""
    rest, replace = [], False
    for item in patch:
        if DIRECTIVE not in item:
            rest.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == DELETE:
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
            original = [o for o in original
                        if not (merge_key in o and go_equal(o[merge_key],
                                                            item[merge_key]))]
        elif directive == REPLACE:
            replace = True
        elif directive == MERGE:
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise PatchError(f"unknown patch type: {go_fmt(directive)} in map: "
                             f"{go_fmt(item)}")
    if replace:
        return rest, []
    return original, rest


def _merge_items(original: list, patch: list, merge_key: str, schema: Schema,
                 opts: MergeOptions) -> list:
    result = list(original)
    for item in patch:
        if merge_key not in item:
            raise no_merge_key(item, merge_key)
        found = find_by_key(result, merge_key, item[merge_key])
        if found >= 0:
            result[found] = merge_map(result[found], item, schema, opts)
        elif opts.merge_parallel_list:
            result.append(merge_map({}, item, schema, opts))
        else:
            result.append(item)
    return result


def strategic_merge(original: dict, patch: dict, table: MergeKeys) -> dict:
    """``patch`` applied to ``original`` as kube-apiserver applies it."""
    return merge_map(original, patch, Schema(table), SERVER)
