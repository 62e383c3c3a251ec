"""Computing a strategic merge patch from two or three versions of an object.

``kubectl apply`` sends the three-way patch of
k8s.io/apimachinery/pkg/util/strategicpatch.CreateThreeWayMergePatch: the
changes and additions from the live object to the new manifest, plus the
deletions from the last-applied configuration to the new manifest, so fields
other writers set on the live object survive. Merged lists carry
``$setElementOrder/<field>`` to keep the manifest's order, lists of scalars
carry ``$deleteFromPrimitiveList/<field>``, and maps with the retainKeys
strategy carry ``$retainKeys``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from server.gojson import go_fmt, go_type
from server.patch_meta import MergeKeys
from server.strategic_merge import CLIENT, merge_map
from server.strategic_order import normalize_slice_order
from server.strategic_schema import (
    DELETE, DELETE_FROM_PRIMITIVE_LIST, DIRECTIVE, MERGE, REPLACE, RETAIN_KEYS,
    SET_ELEMENT_ORDER, PatchError, Schema, bad_arg_type, dedup_scalars,
    element_kind, no_merge_key,
)


@dataclass(frozen=True)
class DiffOptions:
    set_element_order: bool = False
    ignore_changes_and_additions: bool = False
    ignore_deletions: bool = False
    build_retain_keys: bool = False


def two_way_patch(original: dict, modified: dict, table: MergeKeys) -> dict:
    """The patch that turns ``original`` into ``modified``."""
    original, modified = copy.deepcopy(original), copy.deepcopy(modified)
    return diff_maps(original, modified, Schema(table),
                     DiffOptions(set_element_order=True))


def three_way_patch(original: dict | None, modified: dict, current: dict | None,
                    table: MergeKeys) -> dict:
    """kubectl apply's patch: what turns ``current`` (live) into ``modified``
    (manifest), deleting only what ``original`` (last applied) had."""
    original = copy.deepcopy(original or {})
    modified = copy.deepcopy(modified or {})
    current = copy.deepcopy(current or {})
    schema = Schema(table)
    delta = diff_maps(current, modified, schema,
                      DiffOptions(set_element_order=True, ignore_deletions=True))
    deletions = diff_maps(original, modified, schema,
                          DiffOptions(set_element_order=True,
                                      ignore_changes_and_additions=True))
    return merge_map(deletions, delta, schema, CLIENT)


def diff_maps(original: dict, modified: dict, schema: Schema,
              opts: DiffOptions) -> dict:
    patch: dict = {}
    retained = []
    for key, new in modified.items():
        if opts.build_retain_keys and new is not None:
            retained.append(key)
        if key not in original:
            if not opts.ignore_changes_and_additions:
                patch[key] = new
            continue
        _diff_field(key, original[key], new, patch, schema, opts)

    if not opts.ignore_deletions:
        for key in original:
            if key not in modified:
                patch[key] = None
    if retained and (patch or _has_extra_field(original, modified)):
        patch[RETAIN_KEYS] = sorted(retained, key=go_fmt)
    return patch


def _diff_field(key: str, old: object, new: object, patch: dict, schema: Schema,
                opts: DiffOptions) -> None:
    if key == DIRECTIVE:
        if not (isinstance(old, str) and isinstance(new, str)):
            raise PatchError(f"invalid value for special key: {DIRECTIVE}")
        if old != new:
            patch[key] = new
    elif go_type(old) != go_type(new):
        if not opts.ignore_changes_and_additions:
            patch[key] = new
    elif isinstance(old, dict):
        _diff_map_field(key, old, new, patch, schema, opts)
    elif isinstance(old, list):
        _diff_list_field(key, old, new, patch, schema, opts)
    elif not opts.ignore_changes_and_additions and old != new:
        patch[key] = new


def _has_extra_field(original: dict, modified: dict) -> bool:
    return any(v is not None and k not in modified for k, v in original.items())


def _diff_map_field(key: str, old: dict, new: dict, patch: dict, schema: Schema,
                    opts: DiffOptions) -> None:
    _, strategy, retain_keys = schema.field(key)
    if strategy == REPLACE:
        if not opts.ignore_changes_and_additions:
            patch[key] = new
        return
    value = diff_maps(old, new, schema.child(key),
                      replace(opts, build_retain_keys=retain_keys))
    if value:
        patch[key] = value


def _diff_list_field(key: str, old: list, new: list, patch: dict, schema: Schema,
                     opts: DiffOptions) -> None:
    merge_key, strategy, retain_keys = schema.field(key)
    if strategy != MERGE:
        if not opts.ignore_changes_and_additions and old != new:
            patch[key] = new
        return
    opts = replace(opts, build_retain_keys=retain_keys)
    changes, deletions, order = diff_lists(old, new, schema.child(key), merge_key,
                                           opts)
    if changes:
        patch[key] = changes
    if deletions:
        patch[f"{DELETE_FROM_PRIMITIVE_LIST}/{key}"] = deletions
    if order:
        patch[f"{SET_ELEMENT_ORDER}/{key}"] = order


def diff_lists(original: list, modified: list, schema: Schema, merge_key: str,
               opts: DiffOptions) -> tuple[list, list, list]:
    """(patch list, $deleteFromPrimitiveList list, $setElementOrder list)."""
    if not original:
        if not modified or opts.ignore_changes_and_additions:
            return [], [], []
        return modified, [], []

    kind = element_kind(original, modified)  # lists of lists raise here
    if kind == "map":
        return _diff_lists_of_maps(original, modified, schema, merge_key, opts)

    additions, deletions = _diff_scalars(original, modified, opts)
    additions = normalize_slice_order(additions, modified, "", kind)
    changed = ((not opts.ignore_deletions and deletions)
               or (not opts.ignore_changes_and_additions and original != modified))
    order = modified if opts.set_element_order and changed else []
    return additions, deletions, order


def _diff_lists_of_maps(original: list, modified: list, schema: Schema,
                        merge_key: str, opts: DiffOptions) -> tuple[list, list, list]:
    changes, deletions = _diff_items(original, modified, schema, merge_key, opts)
    changes = normalize_slice_order(changes, modified, merge_key, "map")
    same_order = _same_order(original, modified, merge_key)
    # Deletions travel in the patch list itself, after the changes.
    changes = changes + deletions
    wanted = ((not opts.ignore_changes_and_additions
               and (changes or not same_order))
              or (not opts.ignore_deletions and changes))
    order = []
    if opts.set_element_order and wanted:
        order = [{merge_key: item[merge_key]} for item in modified]
    return changes, [], order


def _same_order(original: list, modified: list, merge_key: str) -> bool:
    if len(original) != len(modified):
        return False
    for old, new in zip(original, modified):
        if _merge_value(old, merge_key) != _merge_value(new, merge_key):
            return False
    return True


def _merge_value(item: object, merge_key: str) -> object:
    if not isinstance(item, dict):
        raise bad_arg_type("map", item)
    if merge_key not in item:
        raise no_merge_key(item, merge_key)
    return item[merge_key]


def _sorted_by_key(items: list, merge_key: str) -> list:
    # Go sorts both lists by the merge key's %v text and walks them together.
    for item in items:
        _merge_value(item, merge_key)
    return sorted(items, key=lambda item: go_fmt(item[merge_key]))


def _diff_items(original: list, modified: list, schema: Schema, merge_key: str,
                opts: DiffOptions) -> tuple[list, list]:
    olds = _sorted_by_key(original, merge_key)
    news = _sorted_by_key(modified, merge_key)
    changes: list = []
    deletions: list = []
    i = j = 0
    while i < len(olds) or j < len(news):
        old_key = go_fmt(olds[i][merge_key]) if i < len(olds) else None
        new_key = go_fmt(news[j][merge_key]) if j < len(news) else None
        if old_key is not None and old_key == new_key:
            change = diff_maps(olds[i], news[j], schema, opts)
            if change:
                change[merge_key] = news[j][merge_key]
                changes.append(change)
            i, j = i + 1, j + 1
        elif old_key is None or (new_key is not None and old_key > new_key):
            if not opts.ignore_changes_and_additions:
                changes.append(news[j])
            j += 1
        else:
            if not opts.ignore_deletions:
                deletions.append({merge_key: olds[i][merge_key], DIRECTIVE: DELETE})
            i += 1
    return changes, deletions


def _diff_scalars(original: list, modified: list,
                  opts: DiffOptions) -> tuple[list, list]:
    olds = sorted(original, key=go_fmt)
    news = sorted(modified, key=go_fmt)
    additions: list = []
    deletions: list = []
    i = j = 0
    while i < len(olds) or j < len(news):
        old = go_fmt(olds[i]) if i < len(olds) else None
        new = go_fmt(news[j]) if j < len(news) else None
        if old is not None and old == new:
            i, j = i + 1, j + 1
        elif old is None or (new is not None and old > new):
            if not opts.ignore_changes_and_additions:
                additions.append(news[j])
            j += 1
        else:
            if not opts.ignore_deletions:
                deletions.append(olds[i])
            i += 1
    return additions, dedup_scalars(deletions)
