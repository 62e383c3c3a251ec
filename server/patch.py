"""PATCH bodies: JSON patch, JSON merge patch and strategic merge patch.

:func:`apply_patch` answers what kube-apiserver answers
(staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go): its status
codes, reasons and messages, down to the Go wording of JSON decoding errors.
The ``create_*`` functions compute patches for the CLI (``kctl apply``).
"""

from __future__ import annotations

import copy
import json

import jsonpatch
import jsonpointer
import orjson

from server import strategic_diff
from server.decode import DecodeError, decode_patched
from server.errors import (
    APIError, BadRequest, FieldError, Invalid, RequestEntityTooLarge,
    UnsupportedMediaType,
)
from server.gojson import GoJSONError, decode, go_fmt, go_type, json_kind
from server.patch_meta import merge_keys_for
from server.strategic_merge import strategic_merge
from server.strategic_schema import PatchError

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# kube-apiserver's limit on the operations of one JSON patch.
MAX_JSON_PATCH_OPERATIONS = 10000

# What kube-apiserver says for a JSON patch that does not apply (a failed
# test, a missing path): the real reason is dropped by
# errors.NewGenericServerResponse, so clients see only this.
REJECTED = "the server rejected our request due to an error in our request"


def supports_strategic(kind_name: str) -> bool:
    """Whether ``kind_name`` takes a strategic merge patch: built-in kinds do,
    custom resources do not (kube-apiserver answers 415)."""
    return merge_keys_for(kind_name) is not None


def patch_types(kind_name: str) -> list[str]:
    """The patch media types served for a kind, in kube-apiserver's order."""
    # Server-side apply (APPLY_PATCH) is server.apply's, not apply_patch's.
    if supports_strategic(kind_name):
        return [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH]
    return [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]


def apply_patch(kind_name: str, obj: dict, patch: bytes,
                content_type: str) -> dict:
    """``obj`` with ``patch`` applied, as a new object; ``obj`` is unchanged.

    ``content_type`` may carry parameters ("; charset=utf-8"). Raises
    UnsupportedMediaType for a type the kind does not take, BadRequest for a
    body that does not decode, and the 422 or 500 kube-apiserver answers for
    a patch that does not apply.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    accepted = patch_types(kind_name)
    if media_type not in accepted:
        raise UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media "
            "types include: " + ", ".join(accepted))

    if media_type == APPLY_PATCH:
        raise AssertionError("server-side apply goes through server.apply")
    original = copy.deepcopy(obj)
    if media_type == JSON_PATCH:
        return _apply_json_patch(original, patch)
    if media_type == MERGE_PATCH:
        return _apply_merge_patch(original, patch)
    return _apply_strategic_patch(kind_name, original, patch)


def decode_result(kind_name: str, patched: dict, patch: bytes, content_type: str,
                  directive: str) -> tuple[dict, list[str]]:
    """The patched object as the kind's type holds it, and the warnings.

    As for a create, unknown fields are dropped, warned about (Warn) or
    refused (Strict, 400). A value of the wrong type is kube-apiserver's 422
    on the field "patch", which quotes the patched document (JSON and merge
    patches) or the patch itself (strategic merge).
    """
    try:
        return decode_patched(kind_name, patched, directive)
    except DecodeError as err:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type == STRATEGIC_MERGE_PATCH:
            # TODO: kube-apiserver's detail here is the unstructured
            # converter's ("unrecognized type: int32"), not encoding/json's.
            shown = go_fmt(decode(patch))
        else:
            # Not orjson: the patched document may hold an integer past
            # int64, the very value being refused.
            shown = json.dumps(patched, separators=(",", ":"), ensure_ascii=False)
        error = FieldError("Invalid value", "patch", shown, err.message)
        raise Invalid("", "", [error]) from None


def _decode(body: bytes, prefix: str = "") -> object:
    try:
        return decode(body)
    except GoJSONError as err:
        raise BadRequest(prefix + str(err)) from None


def _cannot_unmarshal(value: object, go_type_name: str, prefix: str) -> BadRequest:
    return BadRequest(f"{prefix}json: cannot unmarshal {json_kind(value)} into "
                      f"Go value of type {go_type_name}")


# --- application/json-patch+json (RFC 6902) ---

_DECODING = "error decoding patch: "


def _apply_json_patch(obj: dict, body: bytes) -> dict:
    operations = _decode(body, _DECODING)
    if operations is None:
        return obj  # null decodes to an empty patch
    if not isinstance(operations, list):
        raise _cannot_unmarshal(operations, "[]handlers.jsonPatchOp", _DECODING)
    for operation in operations:
        _check_operation(operation)
    if len(operations) > MAX_JSON_PATCH_OPERATIONS:
        raise RequestEntityTooLarge(
            "The allowed maximum operations in a JSON patch is "
            f"{MAX_JSON_PATCH_OPERATIONS}, got {len(operations)}")

    try:
        patched = _apply_operations(obj, operations)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException,
            KeyError, IndexError, TypeError, ValueError):
        raise APIError(REJECTED, code=422, reason="Invalid") from None
    if not isinstance(patched, dict):
        # TODO: kube-apiserver's 422 here quotes the Go decoding error of
        # the patched document; this one only says it is not an object.
        raise APIError(REJECTED, code=422, reason="Invalid")
    return patched


# How much "copy" operations of one patch may add, in encoded bytes: copies
# of copies grow a document exponentially, a few of them past any memory.
MAX_COPIED = 3 * 1024 * 1024


def _apply_operations(obj: object, operations: list) -> object:
    """The operations applied one by one (to ``obj``, a copy of the stored
    object), the bytes they copy counted against MAX_COPIED."""
    copied = 0
    for operation in operations:
        if operation.get("op") == "copy":
            value = jsonpointer.resolve_pointer(obj, operation.get("from", ""))
            copied += len(orjson.dumps(value))
            if copied > MAX_COPIED:
                # The json-patch library's own limit on copies, which kube
                # relies on, words it so.
                raise ValueError(f"Unable to copy, the accumulated size increase "
                                 f"of copy is {copied}, exceeding the limit "
                                 f"{MAX_COPIED}")
        obj = jsonpatch.apply_patch(obj, [operation], in_place=True)
    return obj


def _check_operation(operation: object) -> None:
    # The fields kube-apiserver decodes strictly before applying.
    if not isinstance(operation, dict):
        raise _cannot_unmarshal(operation, "handlers.jsonPatchOp", _DECODING)
    for name in ("op", "path", "from"):
        value = operation.get(name)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{_DECODING}json: cannot unmarshal "
                             f"{json_kind(value)} into Go struct field "
                             f"jsonPatchOp.{name} of type string")


# --- application/merge-patch+json (RFC 7386) ---


def _apply_merge_patch(obj: dict, body: bytes) -> dict:
    patch = _decode(body, _DECODING)
    if isinstance(patch, dict):
        return merge_patch(obj, patch)
    if patch is None:
        raise BadRequest("Invalid JSON Patch")
    # TODO: kube-apiserver takes an array body as the whole new document and
    # fails decoding it with a 422; this answers the decoding error instead.
    raise _cannot_unmarshal(patch, "map[string]interface {}", _DECODING)


def merge_patch(target: object, patch: object) -> object:
    """RFC 7386: ``patch`` merged into ``target`` (which is changed)."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        return _without_nulls(patch)
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(target.get(key), dict) and isinstance(value, dict):
            merge_patch(target[key], value)
        elif isinstance(target.get(key), dict):
            target[key] = value
        else:
            target[key] = _without_nulls(value)
    return target


def _without_nulls(value: object) -> object:
    # A merge patch's new maps land without their nulls, also inside lists
    # (evanphx/json-patch prunes them so), while null list items stay.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


# --- application/strategic-merge-patch+json ---


def _apply_strategic_patch(kind_name: str, obj: dict, body: bytes) -> dict:
    patch = _decode(body)
    if patch is None:
        return obj
    if not isinstance(patch, dict):
        raise _cannot_unmarshal(patch, "map[string]interface {}", "")
    try:
        return strategic_merge(obj, patch, merge_keys_for(kind_name))
    except PatchError as err:
        raise _patch_error(err) from None


def _patch_error(err: PatchError) -> APIError:
    if err.status == 400:
        return BadRequest(str(err))
    if err.status == 422:
        return APIError(REJECTED, code=422, reason="Invalid")
    # Errors Kubernetes does not classify reach the client as a bare 500.
    return APIError(str(err), code=500, reason="")


# --- creating patches (the CLI's side) ---


def create_merge_patch(original: dict, modified: dict) -> dict:
    """The RFC 7386 patch that turns ``original`` into ``modified``."""
    patch: dict = {}
    for key, new in modified.items():
        old = original.get(key, _MISSING)
        if isinstance(old, dict) and isinstance(new, dict):
            inner = create_merge_patch(old, new)
            if inner:
                patch[key] = inner
        elif old is _MISSING or go_type(old) != go_type(new) or old != new:
            patch[key] = copy.deepcopy(new)
    for key in original:
        if key not in modified:
            patch[key] = None
    return patch


_MISSING = object()


def create_three_way_json_merge_patch(original: dict | None, modified: dict,
                                      current: dict | None) -> dict:
    """kubectl apply's patch for kinds without strategic merge (custom
    resources): changes from ``current`` to ``modified`` plus the deletions
    from ``original`` (last applied) to ``modified``."""
    changes = _nulls(create_merge_patch(current or {}, modified), keep=False)
    deletions = _nulls(create_merge_patch(original or {}, modified), keep=True)
    return merge_patch(deletions, changes)


def _nulls(patch: dict, keep: bool) -> dict:
    # Only the nulls (keep) or everything but the nulls; an explicitly empty
    # map is a value, not an empty patch.
    kept = {}
    for key, value in patch.items():
        if value is None:
            if keep:
                kept[key] = None
        elif isinstance(value, dict) and value:
            inner = _nulls(value, keep)
            if inner:
                kept[key] = inner
        elif not keep:
            kept[key] = value
    return kept


def create_three_way_merge_patch(original: dict | None, modified: dict,
                                 current: dict | None, kind_name: str) -> dict:
    """The strategic merge patch ``kubectl apply`` sends for a built-in kind:
    from the last-applied configuration (``original``), the new manifest
    (``modified``) and the live object (``current``). Fields removed from the
    manifest are deleted; fields others set on the live object are kept.
    Raises PatchError when the documents cannot be diffed (a list item
    without its merge key); ValueError for a kind without strategic merge.
    """
    table = merge_keys_for(kind_name)
    if table is None:
        raise ValueError(f"{kind_name} does not take a strategic merge patch; "
                         "use create_three_way_json_merge_patch")
    return strategic_diff.three_way_patch(original, modified, current, table)


def create_two_way_merge_patch(original: dict, modified: dict,
                               kind_name: str) -> dict:
    """The strategic merge patch that turns ``original`` into ``modified``."""
    table = merge_keys_for(kind_name)
    if table is None:
        raise ValueError(f"{kind_name} does not take a strategic merge patch")
    return strategic_diff.two_way_patch(original, modified, table)
