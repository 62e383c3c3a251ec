"""HTTP handlers of the resource API: one entry point, one function per verb."""

from __future__ import annotations

import base64
import bisect
import json
import logging
import posixpath
from collections import OrderedDict
from typing import Callable

import orjson
from aiohttp import web

from server import apply as server_apply
from server import decode, objects, tables
from server.cache import Entry, ResourceCache
from server.errors import BadRequest, Gone, MethodNotAllowed
from server.list_options import (ListOptions, list_options, parse_resource_version,
                                 wait_fresh)
from server.request import (
    API,
    RequestInfo,
    check_acceptable,
    parse_path,
    query_bool,
    wants_yaml,
    query_int,
    wants_table,
)
from server.selectors import parse_field_selector, parse_label_selector
from server.patch import APPLY_PATCH
from server.store import CompactedError

log = logging.getLogger(__name__)

JSON = "application/json"
# Paginated lists kept for their continue tokens, as snapshots of entries; a
# token whose snapshot is gone is served from the store's history.
SNAPSHOTS_KEPT = 64
# The revision of a continue token that goes on at the latest state, as
# kube-apiserver hands out once the token's own revision is compacted.
LATEST = -1


def respond(body: bytes, status: int = 200, warnings: list[str] = ()) -> web.Response:
    response = web.Response(body=body, status=status, content_type=JSON)
    for warning in warnings:
        # The text is quoted as Go's strconv.Quote does (client-go unquotes it):
        # an unknown field's warning carries quotes of its own.
        response.headers.add("Warning", f"299 - {json.dumps(warning)}")
    return response


# Past this size a body is streamed: aiohttp keeps a web.Response, body and
# all, on its keep-alive connection until the next request, so lists of
# 10,000 pods left 10 MiB behind on every idle connection.
STREAMED_BODY = 256 * 1024


async def respond_large(request: web.Request, body: bytes) -> web.StreamResponse:
    """As respond(), for a body that may be large (lists and tables)."""
    if len(body) < STREAMED_BODY or wants_yaml(request):
        # YAML is written from the whole answer (server.app.yaml_answers).
        return respond(body)
    response = web.StreamResponse(headers={"Content-Type": JSON})
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body)
    await response.write_eof()
    return response


async def core_resource(request: web.Request) -> web.StreamResponse:
    return await _dispatch(request, "", "v1")


async def group_resource(request: web.Request) -> web.StreamResponse:
    info = request.match_info
    return await _dispatch(request, info["group"], info["version"])


async def _dispatch(request: web.Request, group: str,
                    version: str) -> web.StreamResponse:
    api = request.app[API]
    segments = request.match_info["path"].split("/")
    info = parse_path(api.registry, group, version, segments)
    check_acceptable(request)
    handler = _route(request.method, info, request)
    return await handler(request, info)


def _route(method: str, info: RequestInfo, request: web.Request) -> Callable:
    sub = info.subresource
    if info.kind.virtual and (method, bool(info.name), sub, info.watch) != (
            "POST", False, "", False):
        raise MethodNotAllowed("the server does not allow this method on the "
                               "requested resource")
    if info.watch or (method == "GET" and query_bool(request, "watch")):
        if method != "GET":
            raise MethodNotAllowed("the server does not allow this method on the "
                                   "requested resource")
        from server.watch import watch

        return watch
    routes = {
        ("GET", True): get_object, ("GET", False): list_objects,
        ("POST", False): create_object,
        ("PUT", True): update_object, ("PATCH", True): patch_object,
        ("DELETE", True): delete_object, ("DELETE", False): delete_collection,
    }
    if sub == "binding" and method == "POST":
        return bind_pod
    if sub == "eviction" and method == "POST":
        return evict_pod
    if sub == "scale":
        from server import scale

        handler = {"GET": scale.get_scale, "PUT": scale.update_scale,
                   "PATCH": scale.patch_scale}.get(method)
        if handler is None:
            raise MethodNotAllowed("the server does not allow this method on the "
                                   "requested resource")
        return handler
    if sub == "log" and method == "GET":
        from server.logs import pod_log

        return pod_log
    if sub == "exec" and method in ("GET", "POST"):
        # kubectl's WebSocket upgrade is a GET; its SPDY fallback a POST.
        from server.exec import pod_exec

        return pod_exec
    if sub in ("binding", "log", "eviction", "exec") or (
            sub and method in ("POST", "DELETE")):
        handler = None
    elif sub == "finalize" and method != "PUT":
        handler = None
    elif method == "DELETE" and not info.name and \
            "deletecollection" not in info.kind.verbs:
        handler = None  # namespaces: kube serves no deletecollection
    else:
        handler = routes.get((method, bool(info.name)))
    if handler is None:
        raise MethodNotAllowed(
            "the server does not allow this method on the requested resource")
    return handler


# Reads.

async def get_object(request: web.Request, info: RequestInfo) -> web.Response:
    api = request.app[API]
    # GetOptions has a resourceVersion only: "not older than" that revision.
    revision = parse_resource_version(request.query.get("resourceVersion", ""))
    await wait_fresh(api.cache, revision)
    entry = api.resources.entry(info.kind, info.namespace, info.name)
    if wants_table(request):
        meta = {"resourceVersion": str(entry.revision)}
        include = request.query.get("includeObject", "Metadata")
        return respond(tables.table(info.kind, [entry], meta, include))
    return respond(entry.data)


def selection(request: web.Request, info: RequestInfo) -> Callable | None:
    """The filter of a list or watch's label and field selectors, or None."""
    labels = parse_label_selector(request.query.get("labelSelector", ""))
    fields = parse_field_selector(request.query.get("fieldSelector", ""), info.kind)
    if labels.empty and fields.empty:
        return None
    if fields.empty:
        return lambda e: labels.matches(e.labels)
    if labels.empty:
        return lambda e: fields.matches(e.fields)
    return lambda e: labels.matches(e.labels) and fields.matches(e.fields)


async def list_objects(request: web.Request, info: RequestInfo) -> web.Response:
    api = request.app[API]
    resource = api.cache.resource(info.kind)
    options = list_options(request, watch=False)
    limit = options.limit
    if options.continue_token:
        entries, revision, start = await _continued(api, resource, info, request,
                                                    options)
    else:
        entries, revision = await _listed(api, resource, info, request, options)
        start = 0
    page, next_token, remaining = entries[start:], "", None
    if limit and len(page) > limit:
        page = page[:limit]
        remaining = len(entries) - start - limit
        next_token = _remember(api, request, info, entries, revision, start + limit)
    meta = {"resourceVersion": str(revision)}
    if next_token:
        meta["continue"] = next_token
        meta["remainingItemCount"] = remaining
    if wants_table(request):
        include = request.query.get("includeObject", "Metadata")
        return await respond_large(request,
                                   tables.table(info.kind, page, meta, include))
    head = orjson.dumps({"kind": f"{info.kind.kind}List",
                         "apiVersion": info.kind.api_version, "metadata": meta})
    body = head[:-1] + b',"items":[' + b",".join(e.data for e in page) + b"]}"
    return await respond_large(request, body)


async def _listed(api, resource: ResourceCache, info: RequestInfo,
                  request: web.Request,
                  options: ListOptions) -> tuple[list[Entry], int]:
    """A first page's entries and the revision they are of: the cache's, at
    least as new as the resourceVersion asked for, or the store's at exactly
    that revision (the only list that reads the store)."""
    revision = options.revision
    await wait_fresh(api.cache, revision)
    if options.exact() and revision != api.cache.revision:
        try:
            entries = await _list_at(api, resource, info, request, revision, "")
        except CompactedError:
            raise Gone("The resourceVersion for the provided list is too old.") \
                from None
        return entries, revision
    match = selection(request, info)
    return list(resource.select(info.namespace, match)), api.cache.revision


def _snapshot_id(request: web.Request, info: RequestInfo, revision: int) -> str:
    return "|".join([info.kind.resource, info.kind.group, info.namespace,
                     request.query.get("labelSelector", ""),
                     request.query.get("fieldSelector", ""), str(revision)])


def _remember(api, request: web.Request, info: RequestInfo, entries: list[Entry],
              revision: int, offset: int) -> str:
    """Keep the list for its next pages; the token names where to go on."""
    snapshots: OrderedDict = api.snapshots
    key = _snapshot_id(request, info, revision)
    snapshots[key] = entries
    snapshots.move_to_end(key)
    while len(snapshots) > SNAPSHOTS_KEPT:
        snapshots.popitem(last=False)
    return _encode_continue(revision, entries[offset].key)


def _encode_continue(revision: int, start_key: str) -> str:
    token = {"v": "meta.k8s.io/v1", "rv": revision, "start": start_key}
    return base64.urlsafe_b64encode(orjson.dumps(token)).decode()


def _decode_continue(token: str, prefix: str) -> tuple[int, str]:
    """A token's revision and start key, refused as kube's DecodeContinue does,
    and for a start key outside the listed ``prefix``."""
    padded = token + "=" * (-len(token) % 4)
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(padded))
        revision, start_key = int(decoded["rv"]), str(decoded["start"])
    except (ValueError, KeyError, TypeError):
        raise _bad_token("illegal base64 data") from None
    if revision == 0 or revision < LATEST:
        raise _bad_token("incorrect encoded start resourceVersion "
                         "(version meta.k8s.io/v1)")
    if not start_key:
        raise _bad_token("encoded start key empty (version meta.k8s.io/v1)")
    # kube keeps start keys relative to the prefix and refuses one that
    # path.Clean changes, so a token never ranges outside what it lists.
    if posixpath.normpath(start_key) != start_key or \
            not start_key.startswith(prefix):
        raise _bad_token(start_key)
    return revision, start_key


def _bad_token(why: str) -> BadRequest:
    return BadRequest(f"invalid continue token: continue key is not valid: {why}")


async def _continued(api, resource: ResourceCache, info: RequestInfo,
                     request: web.Request,
                     options: ListOptions) -> tuple[list[Entry], int, int]:
    """A later page: from the kept snapshot, else the store's history."""
    revision, start_key = _decode_continue(options.continue_token,
                                           _list_prefix(resource, info))
    if options.resource_version not in ("", "0"):
        raise BadRequest("specifying resource version is not allowed when using "
                         "continue")
    if revision > api.cache.revision:
        # No list of ours was at that revision: the token was made up. kube's
        # etcd would fail the read as of a future revision.
        raise _bad_token("incorrect encoded start resourceVersion "
                         "(version meta.k8s.io/v1)")
    if revision == LATEST:
        entries = list(resource.select(info.namespace, selection(request, info)))
        revision = api.cache.revision
    elif revision < api.store.compact_revision():
        raise _continue_expired(start_key)
    else:
        entries = api.snapshots.get(_snapshot_id(request, info, revision))
        if entries is None:
            try:
                entries = await _list_at(api, resource, info, request, revision,
                                         start_key)
            except CompactedError:
                raise _continue_expired(start_key) from None
    keys = [e.key for e in entries]
    return entries, revision, bisect.bisect_left(keys, start_key)


def _list_prefix(resource: ResourceCache, info: RequestInfo) -> str:
    return resource.prefix + (f"{info.namespace}/" if info.namespace else "")


async def _list_at(api, resource: ResourceCache, info: RequestInfo,
                   request: web.Request, revision: int,
                   start_key: str) -> list[Entry]:
    """The list from ``start_key`` as the store held it at ``revision``: an
    Exact list, a snapshot no longer kept, or one from before a restart.
    Raises CompactedError."""
    values, _, _ = await api.store.range(_list_prefix(resource, info),
                                         revision=revision, start=start_key)
    match = selection(request, info)
    entries = (Entry(info.kind, kv, orjson.loads(kv.value)) for kv in values)
    return [e for e in entries if match is None or match(e)]


def _continue_expired(start_key: str) -> Gone:
    # kube-apiserver's answer once etcd compacted the token's revision: its
    # Status carries a token that goes on from the same key at the latest
    # state (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go).
    return Gone(
        "The provided continue parameter is too old to display a consistent list "
        "result. You can start a new list without the continue parameter, or use "
        "the continue token in this response to retrieve the remainder of the "
        "results. Continuing with the provided token results in an inconsistent "
        "list - objects that were created, modified, or deleted between the time "
        "the first chunk was returned and now may show up in the list.",
        continue_token=_encode_continue(LATEST, start_key))


# Writes.

def _dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for value in values:
        if value != "All":
            raise BadRequest(f'unsupported dry run option "{value}": only "All" '
                             "is supported")
    return bool(values)


async def _read_object(request: web.Request, info: RequestInfo,
                       options_kind: str) -> tuple[dict, list]:
    validation = request.query.get("fieldValidation")
    # Checked with the request's options, before the body is read.
    decode.field_validation_directive(validation, options_kind)
    body = await objects.read_body(request)
    return objects.decode_object(info.kind, body,
                                 request.headers.get("Content-Type", ""),
                                 validation)


async def create_object(request: web.Request, info: RequestInfo) -> web.Response:
    api = request.app[API]
    obj, warnings = await _read_object(request, info, "CreateOptions")
    if info.kind.virtual:
        return respond(objects.encode(_review(info.kind, obj, request)), 201,
                       warnings)
    created = await api.resources.create(info.kind, info.namespace, obj,
                                         _dry_run(request))
    return respond(objects.encode(created), 201, warnings)


def _review(kind, obj: dict, request: web.Request) -> dict:
    """A review kind's answer: validated, answered, not stored."""
    from server.errors import Invalid

    errors = kind.validate(obj)
    if errors:
        raise Invalid(kind.kind, "", errors, kind.group)
    return kind.review(obj, request.get("user"))


async def update_object(request: web.Request, info: RequestInfo) -> web.Response:
    api = request.app[API]
    obj, warnings = await _read_object(request, info, "UpdateOptions")
    updated, created = await api.resources.replace(
        info.kind, info.namespace, info.name, obj, info.subresource,
        _dry_run(request))
    return respond(objects.encode(updated), 201 if created else 200, warnings)


async def patch_object(request: web.Request, info: RequestInfo) -> web.Response:
    api = request.app[API]
    validation = decode.field_validation_directive(
        request.query.get("fieldValidation"), "PatchOptions")
    body = await objects.read_body(request)
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
    is_apply = content_type.lower() == APPLY_PATCH
    server_apply.check_options(request.query, is_apply)
    if is_apply:
        if info.subresource:
            # TODO: apply to the status and scale subresources.
            raise BadRequest("server-side apply of a subresource is not served; "
                             "apply the object itself")
        applied, created, warnings = await api.resources.apply(
            info.kind, info.namespace, info.name, body,
            request.query["fieldManager"], query_bool(request, "force"),
            _dry_run(request), validation)
        return respond(objects.encode(applied), 201 if created else 200, warnings)
    patched, warnings = await api.resources.patch(
        info.kind, info.namespace, info.name, body, content_type, info.subresource,
        _dry_run(request), validation)
    return respond(objects.encode(patched), 200, warnings)


async def _delete_options(request: web.Request) -> dict:
    body = await objects.read_body(request)
    media = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if body.strip() and media == decode.PROTOBUF:
        # client-go's typed clients (kubectl drain --disable-eviction) send
        # DeleteOptions as protobuf.
        from server import protobuf

        options = protobuf.decode_body(body, "DeleteOptions")
    else:
        options = objects.decode_json(body, JSON) if body.strip() else {}
    if not isinstance(options, dict):
        raise BadRequest("the body of a delete must be a DeleteOptions object")
    grace = query_int(request, "gracePeriodSeconds")
    if grace is not None:
        options["gracePeriodSeconds"] = grace
    if "propagationPolicy" in request.query:
        options["propagationPolicy"] = request.query["propagationPolicy"]
    if "orphanDependents" in request.query:
        options["orphanDependents"] = query_bool(request, "orphanDependents")
    _validate_delete_options(options)
    orphan = options.get("orphanDependents")
    if orphan is not None:
        # The deprecated field says what propagationPolicy says today.
        options["propagationPolicy"] = "Orphan" if orphan else "Background"
    return options


def _validate_delete_options(options: dict) -> None:
    """kube's ValidateDeleteOptions, with its words."""
    from server.errors import FieldError, Invalid

    errors = []
    policy = options.get("propagationPolicy")
    if options.get("orphanDependents") is not None and policy is not None:
        errors.append(FieldError("Invalid value", "propagationPolicy", policy,
                                 "orphanDependents and deletionPropagation cannot "
                                 "be both set"))
    if policy is not None and policy not in ("Foreground", "Background", "Orphan"):
        errors.append(FieldError("Unsupported value", "propagationPolicy", policy,
                                 'supported values: "Foreground", "Background", '
                                 '"Orphan", "nil"'))
    dry_run = options.get("dryRun")
    if dry_run is not None and dry_run not in ([], ["All"]):
        from server.validation import GoStrings

        errors.append(FieldError("Unsupported value", "dryRun", GoStrings(dry_run),
                                 'supported values: "All"'))
    if errors:
        raise Invalid("DeleteOptions", "", errors, "meta.k8s.io")


async def delete_object(request: web.Request, info: RequestInfo) -> web.Response:
    api = request.app[API]
    options = await _delete_options(request)
    dry_run = _dry_run(request) or options.get("dryRun") == ["All"]
    obj, gone = await api.resources.delete(info.kind, info.namespace, info.name,
                                           options, dry_run)
    # kube-apiserver answers 200 even when the object stays (graceful pod
    # deletion, finalizers, a Terminating namespace); 202 only when the
    # deprecated orphanDependents=false asked for cascading deletion.
    status = 202 if not gone and options.get("orphanDependents") is False else 200
    if info.kind.kind in ("Pod", "Namespace", "Service") or not gone:
        return respond(objects.encode(obj), status)
    meta = obj["metadata"]
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Success",
            "details": {"name": meta["name"], "kind": info.kind.resource,
                        "uid": meta.get("uid")}}
    if info.kind.group:
        body["details"]["group"] = info.kind.group
    return respond(objects.encode(body), status)


async def delete_collection(request: web.Request, info: RequestInfo) -> web.Response:
    api = request.app[API]
    options = await _delete_options(request)
    dry_run = _dry_run(request)
    resource = api.cache.resource(info.kind)
    chosen = list(resource.select(info.namespace, selection(request, info)))
    items = []
    for entry in chosen:
        try:
            obj, _ = await api.resources.delete(info.kind, entry.namespace,
                                                entry.name, options, dry_run)
        except Exception as error:  # one object gone already is no failure
            if getattr(error, "code", None) == 404:
                continue
            raise
        items.append(obj)
    body = {"kind": f"{info.kind.kind}List", "apiVersion": info.kind.api_version,
            "metadata": {"resourceVersion": str(api.cache.revision)},
            "items": items}
    return respond(objects.encode(body))


async def bind_pod(request: web.Request, info: RequestInfo) -> web.Response:
    api = request.app[API]
    body = await objects.read_body(request)
    binding = objects.decode_json(body, request.headers.get("Content-Type", ""))
    if not isinstance(binding, dict):
        raise BadRequest("the body of the request must be a Binding object")
    name = (binding.get("metadata") or {}).get("name") or info.name
    if name != info.name:
        raise BadRequest(f"the name of the object ({name}) does not match the "
                         f"name on the URL ({info.name})")
    await api.resources.bind(info.kind, info.namespace, info.name, binding)
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {},
              "status": "Success", "code": 201}
    return respond(objects.encode(status), 201)


async def evict_pod(request: web.Request, info: RequestInfo) -> web.Response:
    """policy/v1 Eviction: a delete that a disruption budget could refuse."""
    # TODO: PodDisruptionBudgets are not served, so every eviction is allowed.
    api = request.app[API]
    body = await objects.read_body(request)
    eviction = objects.decode_json(body, request.headers.get("Content-Type", ""))
    if not isinstance(eviction, dict):
        raise BadRequest("the body of the request must be an Eviction object")
    name = (eviction.get("metadata") or {}).get("name") or info.name
    if name != info.name:
        raise BadRequest("name in URL does not match name in Eviction object")
    options = eviction.get("deleteOptions") or {}
    # `kubectl drain --dry-run=server` asks in the eviction's deleteOptions.
    dry_run = _dry_run(request) or options.get("dryRun") == ["All"]
    await api.resources.delete(info.kind, info.namespace, info.name, options,
                               dry_run)
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {},
              "status": "Success", "code": 201}
    return respond(objects.encode(status), 201)
