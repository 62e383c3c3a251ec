"""Server-side apply: merge a manager's configuration into the live object.

A PATCH of type application/apply-patch+yaml carries the fields one manager
(``fieldManager``) wants set. The server remembers, per manager, which fields
it applied (``metadata.managedFields``, in the FieldsV1 form kube-apiserver
writes), so that:

- fields the manager applied before and leaves out now are removed, unless
  another applier also owns them;
- a field another applier owns and this one would set to a different value
  is a 409 conflict, unless ``force`` is given, which moves the ownership.

Lists merge as their schema says: keyed lists (containers by name, ports by
containerPort...) element by element, lists of scalars with the merge
strategy as sets, every other list replaced whole. The keys are the strategic
merge keys of the same schema (server.patch_meta).

TODO: only Apply operations own fields here. kube-apiserver also records an
Update entry for every create, update and patch, so a field changed with
`kubectl edit` or `kubectl scale` conflicts with the next apply and is not
removed by it; here such a field is simply overwritten (or removed) by the
applier that owned it. Keys of lists whose Kubernetes list-map keys have two
fields (container ports: containerPort and protocol) use the one merge key.
"""

from __future__ import annotations

import copy

import orjson

from server import objects
from server.errors import APIError, FieldError, Invalid
from server.patch_meta import merge_keys_for

# Metadata that belongs to the server or names the object: never owned.
_UNOWNED_META = ("name", "namespace", "uid", "resourceVersion", "generation",
                 "creationTimestamp", "deletionTimestamp",
                 "deletionGracePeriodSeconds", "selfLink", "managedFields")

Path = tuple[str, ...]
_MISSING = object()


def check_options(query, is_apply: bool) -> None:
    """fieldManager and force as kube-apiserver checks PatchOptions."""
    errors = []
    if is_apply and not query.get("fieldManager"):
        errors.append(FieldError("Required value", "fieldManager", None,
                                 "is required for apply patch"))
    if not is_apply and "force" in query:
        errors.append(FieldError("Forbidden", "force", None,
                                 "may not be specified for non-apply patch"))
    manager = query.get("fieldManager", "")
    if len(manager) > 128:
        errors.append(FieldError("Too long", "fieldManager", None,
                                 "may not be more than 128 characters"))
    if errors:
        raise Invalid("PatchOptions", "", errors, "meta.k8s.io")


class ApplyConflict(APIError):
    code = 409
    reason = "Conflict"


def managed_entry(manager: str, api_version: str, fields: dict,
                  time: str | None = None) -> dict:
    return {"manager": manager, "operation": "Apply", "apiVersion": api_version,
            "time": time or objects.now(), "fieldsType": "FieldsV1",
            "fieldsV1": fields}


def owned_fields(kind_name: str, applied: dict) -> dict:
    """The FieldsV1 tree of what ``applied`` sets."""
    table = merge_keys_for(kind_name) or {}
    top = {k: v for k, v in applied.items()
           if k not in ("apiVersion", "kind", "status")}
    meta = top.get("metadata")
    if isinstance(meta, dict):
        meta = {k: v for k, v in meta.items() if k not in _UNOWNED_META}
        if meta:
            top["metadata"] = meta
        else:
            top.pop("metadata")
    return _fields(top, table, "")


def _fields(obj: dict, table: dict, path: str) -> dict:
    tree: dict = {}
    for key, value in obj.items():
        sub = f"{path}.{key}" if path else key
        if isinstance(value, dict) and value:
            tree["f:" + key] = _fields(value, table, sub)
        elif isinstance(value, list) and value and _keyed(table, sub, value):
            merge_key = table[sub][0]
            tree["f:" + key] = {
                _element_key(merge_key, item): {".": {}, **_fields(item, table, sub)}
                for item in value}
        elif isinstance(value, list) and value and _is_set(table, sub, value):
            tree["f:" + key] = {"v:" + _compact(item): {} for item in value}
        else:
            tree["f:" + key] = {}
    return tree


def _keyed(table: dict, path: str, items: list) -> bool:
    merge_key = table.get(path, ("", ""))[0]
    return bool(merge_key) and all(
        isinstance(item, dict) and merge_key in item for item in items)


def _is_set(table: dict, path: str, items: list) -> bool:
    merge_key, strategies = table.get(path, ("", ""))
    return (not merge_key and "merge" in strategies
            and all(not isinstance(item, (dict, list)) for item in items))


def _compact(value: object) -> str:
    return orjson.dumps(value).decode()


def _element_key(merge_key: str, item: dict) -> str:
    return "k:" + _compact({merge_key: item[merge_key]})


def paths(tree: dict, prefix: Path = ()) -> set[Path]:
    """Every owned path of a FieldsV1 tree: leaves and list elements."""
    found: set[Path] = set()
    for key, child in tree.items():
        if key == ".":
            found.add(prefix)
            continue
        path = prefix + (key,)
        if child:
            found |= paths(child, path)
        else:
            found.add(path)
    return found


def tree(owned: set[Path]) -> dict:
    """The FieldsV1 tree of a set of paths."""
    root: dict = {}
    for path in sorted(owned):
        node = root
        for part in path:
            node = node.setdefault(part, {})
        if path and path[-1].startswith("k:"):
            node.setdefault(".", {})
    return root


def path_text(path: Path) -> str:
    """A path as kube-apiserver prints it: .spec.containers[name="web"].image"""
    text = ""
    for part in path:
        kind, _, value = part.partition(":")
        if kind == "f":
            text += "." + value
        elif kind == "k":
            pairs = orjson.loads(value)
            text += "[" + ",".join(f"{k}={_compact(v)}" for k, v in pairs.items()) + "]"
        else:
            text += "[=" + value + "]"
    return text


def _lookup(obj: object, path: Path) -> object:
    for part in path:
        kind, _, value = part.partition(":")
        if kind == "f":
            if not isinstance(obj, dict) or value not in obj:
                return _MISSING
            obj = obj[value]
        elif kind == "k":
            wanted = orjson.loads(value)
            if not isinstance(obj, list):
                return _MISSING
            obj = next((item for item in obj if isinstance(item, dict) and all(
                item.get(k) == v for k, v in wanted.items())), _MISSING)
            if obj is _MISSING:
                return obj
        else:
            item = orjson.loads(value)
            return item if isinstance(obj, list) and item in obj else _MISSING
    return obj


def _remove(obj: dict, path: Path) -> None:
    parent = _lookup(obj, path[:-1])
    kind, _, value = path[-1].partition(":")
    if kind == "f" and isinstance(parent, dict):
        parent.pop(value, None)
    elif kind == "k" and isinstance(parent, list):
        wanted = orjson.loads(value)
        parent[:] = [item for item in parent if not (isinstance(item, dict) and all(
            item.get(k) == v for k, v in wanted.items()))]
    elif kind == "v" and isinstance(parent, list):
        item = orjson.loads(value)
        parent[:] = [v for v in parent if v != item]


def _prune(obj: dict, path: Path) -> None:
    # Maps and lists a removal left empty go too, up to the first that holds
    # something else.
    while len(path) > 1:
        path = path[:-1]
        holder = _lookup(obj, path)
        if holder is _MISSING or holder:
            return
        if not path[-1].startswith("f:"):
            return
        _remove(obj, path)


def merge(live: object, applied: object, table: dict, path: str = "") -> object:
    """``applied`` merged into ``live`` (which is changed where it can be)."""
    if isinstance(live, dict) and isinstance(applied, dict):
        for key, value in applied.items():
            sub = f"{path}.{key}" if path else key
            live[key] = merge(live.get(key, _MISSING), value, table, sub)
        return live
    if isinstance(live, list) and isinstance(applied, list):
        if _keyed(table, path, applied) and _keyed(table, path, live):
            merge_key = table[path][0]
            result = list(live)
            for item in applied:
                index = next((i for i, old in enumerate(result)
                              if old.get(merge_key) == item[merge_key]), None)
                if index is None:
                    result.append(copy.deepcopy(item))
                else:
                    result[index] = merge(result[index], item, table, path)
            return result
        if _is_set(table, path, applied) and _is_set(table, path, live or [""]):
            return live + [item for item in applied if item not in live]
    return copy.deepcopy(applied)


def apply(kind_name: str, api_version: str, live: dict, applied: dict,
          manager: str, force: bool) -> dict:
    """The object ``live`` becomes when ``manager`` applies ``applied``.

    Raises ApplyConflict for fields other appliers own with other values.
    The result carries the new managedFields.
    """
    table = merge_keys_for(kind_name) or {}
    entries = [dict(e) for e in live["metadata"].get("managedFields") or []
               if isinstance(e, dict)]
    mine = next((e for e in entries if e.get("manager") == manager
                 and e.get("operation") == "Apply"
                 and not e.get("subresource")), None)
    new_fields = owned_fields(kind_name, applied)
    new_paths = paths(new_fields)
    old_paths = paths(mine.get("fieldsV1") or {}) if mine else set()

    others = [e for e in entries if e is not mine]
    conflicts: list[tuple[str, Path]] = []
    for entry in others:
        theirs = paths(entry.get("fieldsV1") or {})
        clashing = {p for p in theirs & new_paths
                    if not p[-1:] or not p[-1].startswith("k:")
                    if _lookup(live, p) != _lookup(applied, p)}
        if clashing and force:
            entry["fieldsV1"] = tree(theirs - clashing)
        conflicts += [(entry.get("manager", ""), p) for p in sorted(clashing)]
    if conflicts and not force:
        raise _conflict_error(conflicts)

    result = copy.deepcopy(live)
    owned_by_others: set[Path] = set()
    for entry in others:
        owned_by_others |= paths(entry.get("fieldsV1") or {})
    # Shallowest first: a list element or a map that goes takes the fields
    # inside it along (its key must still be there to find it), and what is
    # inside a field already gone is not looked for again.
    kept = owned_by_others | new_paths
    removed: list[Path] = []
    for path in sorted(old_paths - new_paths - owned_by_others, key=len):
        if not path or any(path[:len(gone)] == gone for gone in removed):
            continue
        if any(other[:len(path)] == path for other in kept):
            continue  # someone still owns something inside it
        _remove(result, path)
        _prune(result, path)
        removed.append(path)
    body = {k: v for k, v in applied.items() if k != "status"}
    body["metadata"] = {k: v for k, v in (applied.get("metadata") or {}).items()
                        if k != "managedFields"}
    merge(result, body, table)

    if mine is not None and new_paths == old_paths:
        entry = mine  # unchanged: the same entry, the same time
    else:
        entry = managed_entry(manager, api_version, new_fields)
    # Appliers left owning nothing drop out; the others keep their place.
    managed = [entry if e is mine else e for e in entries
               if e is mine or paths(e.get("fieldsV1") or {})]
    if mine is None:
        managed.append(entry)
    result["metadata"]["managedFields"] = managed
    return result


def _conflict_error(conflicts: list[tuple[str, Path]]) -> ApplyConflict:
    causes = [{"reason": "FieldManagerConflict",
               "message": f'conflict with "{manager}"',
               "field": path_text(path)} for manager, path in conflicts]
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        message = (f'Apply failed with 1 conflict: conflict with "{manager}": '
                   f"{path_text(path)}")
    else:
        lines = []
        for manager in sorted({m for m, _ in conflicts}):
            lines.append(f'conflicts with "{manager}":')
            lines += [f"- {path_text(p)}" for m, p in conflicts if m == manager]
        message = (f"Apply failed with {len(conflicts)} conflicts: "
                   + "\n".join(lines))
    return ApplyConflict(message, details={"causes": causes})
