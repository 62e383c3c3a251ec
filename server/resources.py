"""The verbs on stored objects: create, update, patch, delete, bind.

This is the generic registry of kube-apiserver (its Store): it asks the kind
to default and validate, keeps the server-set metadata, and writes through the
store with compare-and-swap, retrying a lost race when the client did not ask
for a particular resourceVersion.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from server import apply as server_apply
from server import decode, objects
from server.cache import Cache, Entry, object_key
from server.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
)
from server.patch import apply_patch, decode_result
from server.registry import Kind, Registry
from server.store import (
    KeyExistsError,
    KeyNotFoundError,
    RevisionMismatchError,
    Store,
)

log = logging.getLogger(__name__)

# How often a create with a generated name is tried, and an apply retried
# after losing a race with another writer.
MAX_ATTEMPTS = 16
# How long an update without a resourceVersion precondition, or a delete,
# keeps trying after losing races.
RETRY_FOR = 60.0
# Namespaces every cluster has from its first start.
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# Namespaces that may not be deleted, as kube-apiserver refuses it.
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")

Mutation = Callable[[dict], dict]

PROPAGATION_FINALIZERS = {"Orphan": "orphan", "Foreground": "foregroundDeletion"}


class Resources:
    def __init__(self, registry: Registry, store: Store, cache: Cache):
        self.registry = registry
        self.store = store
        self.cache = cache
        self.namespaces = registry.get("", "v1", "namespaces")

    # Reading.

    def entry(self, kind: Kind, namespace: str, name: str) -> Entry:
        key = object_key(kind, namespace, name)
        entry = self.cache.resource(kind).entries.get(key)
        if entry is None:
            raise NotFound.object(kind.resource, name, kind.group)
        return entry

    def check_namespace(self, kind: Kind, namespace: str, name: str = "") -> None:
        if not kind.namespaced:
            return
        key = object_key(self.namespaces, "", namespace)
        entry = self.cache.resource(self.namespaces).entries.get(key)
        if entry is None:
            raise NotFound.object("namespaces", namespace)
        if entry.fields.get("status.phase") == "Terminating":
            # kube's NamespaceLifecycle admission names the object created.
            resource = f"{kind.resource}.{kind.group}" if kind.group else kind.resource
            details = {"name": name, "kind": kind.resource, "causes": [{
                "reason": "NamespaceTerminating",
                "message": f"namespace {namespace} is being terminated",
                "field": "metadata.namespace"}]}
            if kind.group:
                details["group"] = kind.group
            raise Forbidden(
                f'{resource} "{name}" is forbidden: unable to create new '
                f"content in namespace {namespace} because it is being terminated",
                details=details)

    # Create.

    async def create(self, kind: Kind, namespace: str, obj: dict,
                     dry_run: bool = False,
                     managed_fields: list | None = None) -> dict:
        meta = obj["metadata"]
        self._check_namespace_matches(kind, namespace, meta)
        if meta.get("resourceVersion"):
            raise BadRequest("resourceVersion should not be set on objects to be "
                             "created")
        if kind.namespaced:
            meta["namespace"] = namespace
            self.check_namespace(kind, namespace, meta.get("name", ""))
        for attempt in range(MAX_ATTEMPTS):
            named = self._prepare_new(kind, obj)
            if managed_fields:
                meta["managedFields"] = managed_fields
            try:
                return await self._store_new(kind, namespace, obj, dry_run)
            except AlreadyExists:
                # A generated name may collide; kube-apiserver tries again.
                if named or attempt == MAX_ATTEMPTS - 1:
                    raise
                meta.pop("name")
        raise AssertionError("unreachable")

    def _check_namespace_matches(self, kind: Kind, namespace: str,
                                 meta: dict) -> None:
        if not kind.namespaced:
            meta.pop("namespace", None)
            return
        given = meta.get("namespace")
        if given and given != namespace:
            raise BadRequest("the namespace of the provided object does not match "
                             "the namespace sent on the request")

    def _prepare_new(self, kind: Kind, obj: dict) -> bool:
        """Set server metadata, default and validate; True if named by the client."""
        meta = obj["metadata"]
        named = bool(meta.get("name"))
        if not named and meta.get("generateName"):
            meta["name"] = objects.generate_name(meta["generateName"])
        for field in objects.SERVER_SET:
            meta.pop(field, None)
        # Only server-side apply records field managers (server.apply).
        meta.pop("managedFields", None)
        meta["uid"] = objects.new_uid()
        meta["creationTimestamp"] = objects.now()
        if kind.has_generation:
            meta["generation"] = 1
        kind.prepare_create(obj)
        errors = kind.validate(obj)
        if errors:
            kind.release(obj)
            raise Invalid(kind.kind, meta.get("name", ""), errors, kind.group)
        return named

    async def _store_new(self, kind: Kind, namespace: str, obj: dict,
                         dry_run: bool) -> dict:
        name = obj["metadata"]["name"]
        key = object_key(kind, namespace, name)
        if dry_run:
            kind.release(obj)
            if key in self.cache.resource(kind).entries:
                raise AlreadyExists.object(kind.resource, name, kind.group)
            return obj
        try:
            revision = await self.store.create(key, objects.encode_stored(obj))
        except KeyExistsError:
            kind.release(obj)
            raise AlreadyExists.object(kind.resource, name, kind.group) from None
        except BaseException:
            kind.release(obj)
            raise
        await self.cache.wait_for(revision)
        obj["metadata"]["resourceVersion"] = str(revision)
        log.debug("create %s %s/%s revision=%d", kind.resource, namespace, name,
                  revision)
        return obj

    # Update and patch.

    async def update(self, kind: Kind, namespace: str, name: str, obj: dict,
                     subresource: str = "", dry_run: bool = False) -> dict:
        meta = obj["metadata"]
        if meta.get("name") and meta["name"] != name:
            raise BadRequest(f"the name of the object ({meta['name']}) does not "
                             f"match the name on the URL ({name})")
        self._check_namespace_matches(kind, namespace, meta)
        wanted = meta.get("resourceVersion") or None

        def mutate(current: dict) -> dict:
            uid = meta.get("uid")
            if uid and uid != current["metadata"].get("uid"):
                # A uid in the body is a precondition: the object it names
                # may have been deleted and made again.
                raise Conflict.object(
                    kind.resource, name, "Precondition failed: UID in precondition: "
                    f"{uid}, UID in object meta: {current['metadata'].get('uid')}",
                    kind.group)
            return self.merge_update(kind, current, obj, subresource)

        return await self.guaranteed_update(kind, namespace, name, mutate,
                                            wanted, dry_run)

    async def replace(self, kind: Kind, namespace: str, name: str, obj: dict,
                      subresource: str = "",
                      dry_run: bool = False) -> tuple[dict, bool]:
        """A PUT: the object as stored, and whether it was created, which only
        kinds that allow create on update do (never through a subresource)."""
        if subresource or not kind.allow_create_on_update:
            return await self.update(kind, namespace, name, obj, subresource,
                                     dry_run), False
        for _ in range(MAX_ATTEMPTS):
            if object_key(kind, namespace, name) not in self.cache.resource(
                    kind).entries:
                try:
                    return await self._create_on_update(kind, namespace, name,
                                                        obj, dry_run), True
                except AlreadyExists:
                    continue  # created meanwhile: update it
            try:
                return await self.update(kind, namespace, name,
                                         objects.deep_copy(obj), subresource,
                                         dry_run), False
            except NotFound:
                continue  # deleted meanwhile: create it
        raise Conflict.stale(kind.resource, name, kind.group)

    async def _create_on_update(self, kind: Kind, namespace: str, name: str,
                                obj: dict, dry_run: bool) -> dict:
        new = objects.deep_copy(obj)
        meta = new["metadata"]
        if meta.get("name", name) != name:
            raise BadRequest(f"the name of the object ({meta['name']}) does not "
                             f"match the name on the URL ({name})")
        meta["name"] = name
        # kube-apiserver's update creates whatever resourceVersion was sent.
        meta.pop("resourceVersion", None)
        return await self.create(kind, namespace, new, dry_run)

    async def patch(self, kind: Kind, namespace: str, name: str, patch: bytes,
                    content_type: str, subresource: str = "",
                    dry_run: bool = False,
                    field_validation: str = "Warn") -> tuple[dict, list[str]]:
        """The patched object as stored, and the decode warnings for the client."""
        warnings: list[str] = []

        def mutate(current: dict) -> dict:
            patched = apply_patch(kind.kind, current, patch, content_type)
            if not isinstance(patched.get("metadata"), dict):
                raise BadRequest("metadata must be an object")
            wanted = patched["metadata"].get("resourceVersion")
            if wanted and wanted != current["metadata"].get("resourceVersion"):
                raise Conflict.stale(kind.resource, name, kind.group)
            objects.check_type(kind, patched)
            _check_patched_identity(kind, current, patched)
            # A retry decodes again: only the last attempt's warnings count.
            patched, found = decode_result(kind.kind, patched, patch, content_type,
                                           field_validation)
            warnings[:] = found
            return self.merge_update(kind, current, patched, subresource)

        patched = await self.guaranteed_update(kind, namespace, name, mutate,
                                               None, dry_run)
        return patched, warnings

    async def apply(self, kind: Kind, namespace: str, name: str, body: bytes,
                    manager: str, force: bool, dry_run: bool = False,
                    field_validation: str = "Warn") -> tuple[dict, bool, list[str]]:
        """Server-side apply of ``body`` by ``manager``: the object as stored,
        whether it was created, and the decode warnings."""
        applied, warnings = decode.decode_applied(kind.kind, body, field_validation)
        if not isinstance(applied, dict):
            raise BadRequest("the body of an apply patch must be an object")
        if applied.get("apiVersion") != kind.api_version:
            raise BadRequest("Incorrect version specified in apply patch. Specified "
                             f"patch version: {applied.get('apiVersion', '')}, "
                             f"expected: {kind.api_version}")
        if applied.get("kind") != kind.kind:
            raise BadRequest("Incorrect kind specified in apply patch. Specified "
                             f"patch kind: {applied.get('kind', '')}, expected: "
                             f"{kind.kind}")
        meta = applied.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise BadRequest("metadata must be an object")
        if meta.get("name", name) != name:
            raise BadRequest(f"the name of the object ({meta['name']}) does not "
                             f"match the name on the URL ({name})")
        meta["name"] = name
        self._check_namespace_matches(kind, namespace, meta)
        wanted = meta.get("resourceVersion") or None

        def mutate(current: dict) -> dict:
            merged = server_apply.apply(kind.kind, kind.api_version, current,
                                        applied, manager, force)
            managed = merged["metadata"]["managedFields"]
            new = self.merge_update(kind, current, merged, "")
            new["metadata"]["managedFields"] = managed
            return new

        for _ in range(MAX_ATTEMPTS):
            if object_key(kind, namespace, name) not in self.cache.resource(
                    kind).entries:
                if wanted:
                    raise NotFound.object(kind.resource, name, kind.group)
                fields = server_apply.owned_fields(kind.kind, applied)
                entry = server_apply.managed_entry(manager, kind.api_version, fields)
                try:
                    created = await self.create(kind, namespace,
                                                objects.deep_copy(applied),
                                                dry_run, [entry])
                    return created, True, warnings
                except AlreadyExists:
                    continue  # created meanwhile: apply to it
            try:
                updated = await self.guaranteed_update(kind, namespace, name, mutate,
                                                       wanted, dry_run)
                return updated, False, warnings
            except NotFound:
                continue  # deleted meanwhile: create it
        raise Conflict.stale(kind.resource, name, kind.group)

    def merge_update(self, kind: Kind, current: dict, obj: dict,
                      subresource: str) -> dict:
        """The object an update stores: what the client may change of it."""
        name = current["metadata"]["name"]
        if subresource == "finalize":
            # Only spec.finalizers changes; the last one gone from a
            # Terminating namespace removes it (see _write).
            new = objects.deep_copy(current)
            spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
            new.setdefault("spec", {})["finalizers"] = spec.get("finalizers") or []
            errors = kind.validate(new)
        elif subresource == "status":
            new = objects.deep_copy(current)
            new["status"] = obj.get("status", {})
            sent = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
            for field in kind.status_metadata:
                if field in sent:
                    new["metadata"][field] = sent[field]
                else:
                    new["metadata"].pop(field, None)
            kind.prepare_status_update(new, current)
            errors = kind.validate_status_update(new, current)
        else:
            new = obj
            new.setdefault("apiVersion", kind.api_version)
            new.setdefault("kind", kind.kind)
            objects.keep_server_metadata(new, current)
            # The appliers' field ownership is the server's to keep; only an
            # apply changes it (server.apply).
            if current["metadata"].get("managedFields"):
                new["metadata"]["managedFields"] = current["metadata"]["managedFields"]
            else:
                new["metadata"].pop("managedFields", None)
            if kind.namespaced:
                new["metadata"]["namespace"] = current["metadata"]["namespace"]
            if kind.has_status:
                if "status" in current:
                    new["status"] = current["status"]
                else:
                    new.pop("status", None)
            kind.prepare_update(new, current)
            errors = kind.validate_update(new, current)
            if kind.has_generation and objects.spec_changed(new, current):
                new["metadata"]["generation"] = (
                    current["metadata"].get("generation", 0) + 1)
        if errors:
            raise Invalid(kind.kind, name, errors, kind.group)
        return new

    async def guaranteed_update(self, kind: Kind, namespace: str, name: str,
                                mutate: Mutation, wanted: str | None,
                                dry_run: bool = False) -> dict:
        """Read, change and write back until the write wins its race.

        ``wanted`` is the client's resourceVersion precondition: with one, a
        lost race is the client's 409; without, we read again and retry.
        """
        # As kube's GuaranteedUpdate: without a precondition, a lost race is
        # tried again until it wins (every loss means another writer won),
        # bounded in time rather than in tries so that a hot object does not
        # turn concurrent patches into spurious 409s.
        deadline = time.monotonic() + RETRY_FOR
        while time.monotonic() < deadline:
            entry = self.entry(kind, namespace, name)
            if wanted is not None and wanted != str(entry.revision):
                raise Conflict.stale(kind.resource, name, kind.group)
            current = entry.object()
            new = mutate(entry.object())
            new["metadata"]["resourceVersion"] = current["metadata"][
                "resourceVersion"]
            if new == current:
                return new
            finish = kind.begin_update(new, current)
            if dry_run:
                finish(False)
                return new
            try:
                written = await self._write(kind, entry, new)
            except RevisionMismatchError as lost:
                finish(False)
                if wanted is not None:
                    raise Conflict.stale(kind.resource, name, kind.group) from None
                if lost.current is not None:
                    await self.cache.wait_for(lost.current.mod_revision)
                continue
            except KeyNotFoundError:
                finish(False)
                raise NotFound.object(kind.resource, name, kind.group) from None
            except BaseException:
                finish(False)
                raise
            finish(True)
            return written
        raise Conflict.stale(kind.resource, name, kind.group)

    async def _write(self, kind: Kind, entry: Entry, new: dict) -> dict:
        meta = new["metadata"]
        finalizers = meta.get("finalizers") or new.get("spec", {}).get(
            "finalizers") if kind is self.namespaces else meta.get("finalizers")
        if (meta.get("deletionTimestamp") and not finalizers
                and meta.get("deletionGracePeriodSeconds", 0) == 0):
            # The last finalizer is gone from an object being deleted.
            revision = await self.store.delete(entry.key, entry.revision)
            kind.release(new)
        else:
            revision = await self.store.update(
                entry.key, objects.encode_stored(new), entry.revision)
        await self.cache.wait_for(revision)
        meta["resourceVersion"] = str(revision)
        return new

    # Delete.

    async def delete(self, kind: Kind, namespace: str, name: str,
                     options: dict, dry_run: bool = False) -> tuple[dict, bool]:
        """Delete or begin to; returns the object and whether it is gone."""
        if kind is self.namespaces and name in IMMORTAL_NAMESPACES:
            raise Forbidden(f'namespaces "{name}" is forbidden: this namespace '
                            "may not be deleted",
                            details={"name": name, "kind": "namespaces"})
        deadline = time.monotonic() + RETRY_FOR
        while time.monotonic() < deadline:
            entry = self.entry(kind, namespace, name)
            obj = entry.object()
            _check_preconditions(kind, obj, options.get("preconditions") or {})
            pending = self._pending_deletion(kind, obj, options)
            if dry_run:
                return obj, pending is None
            if pending is not None and pending == entry.object():
                return pending, False  # already being deleted, no sooner
            try:
                if pending is not None:
                    return await self._write(kind, entry, pending), False
                revision = await self.store.delete(entry.key, entry.revision)
            except RevisionMismatchError as lost:
                if lost.current is not None:
                    await self.cache.wait_for(lost.current.mod_revision)
                continue
            except KeyNotFoundError:
                raise NotFound.object(kind.resource, name, kind.group) from None
            kind.release(obj)
            await self.cache.wait_for(revision)
            obj["metadata"]["resourceVersion"] = str(revision)
            log.debug("delete %s %s/%s revision=%d", kind.resource, namespace,
                      name, revision)
            return obj, True
        raise Conflict.stale(kind.resource, name, kind.group)

    def _pending_deletion(self, kind: Kind, obj: dict, options: dict) -> dict | None:
        """The object marked for deletion, or None to remove it now."""
        meta = obj["metadata"]
        grace = _grace_period(kind, obj, options)
        # Orphan and Foreground leave the object to the garbage collector,
        # which removes this finalizer once the dependents are dealt with.
        finalizer = PROPAGATION_FINALIZERS.get(options.get("propagationPolicy"))
        if finalizer and finalizer not in meta.get("finalizers", []):
            meta["finalizers"] = [*meta.get("finalizers", []), finalizer]
        if kind is self.namespaces:
            grace = 0
            obj.setdefault("status", {})["phase"] = "Terminating"
            if obj.get("spec", {}).get("finalizers"):
                return self._mark(meta, 0, obj)
        if grace > 0:
            return self._mark(meta, grace, obj)
        if meta.get("finalizers"):
            return self._mark(meta, 0, obj)
        return None

    def _mark(self, meta: dict, grace: int, obj: dict) -> dict:
        current = meta.get("deletionGracePeriodSeconds")
        if meta.get("deletionTimestamp") and current is not None and current <= grace:
            return obj  # already on its way out, no sooner than asked
        deadline = time.time() + grace
        meta["deletionTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                  time.gmtime(deadline))
        meta["deletionGracePeriodSeconds"] = grace
        return obj

    # Subresources with their own verbs.

    async def bind(self, kind: Kind, namespace: str, name: str,
                   binding: dict) -> None:
        target = binding.get("target") or {}
        node = target.get("name")
        if not node:
            raise Invalid("Binding", name, [FieldError("Required value",
                                                       "target.name")])

        def assign(pod: dict) -> dict:
            spec = pod.setdefault("spec", {})
            if spec.get("nodeName"):
                raise Conflict.object(
                    "pods/binding", name,
                    f'pod {name} is already assigned to node "{spec["nodeName"]}"')
            if pod["metadata"].get("deletionTimestamp"):
                raise Conflict.object(
                    "pods/binding", name,
                    f"pod {name} is being deleted, cannot be assigned to a host")
            spec["nodeName"] = node
            _set_condition(pod, "PodScheduled", "True")
            return pod

        await self.guaranteed_update(kind, namespace, name, assign, None)


def _check_patched_identity(kind: Kind, current: dict, patched: dict) -> None:
    """A patch may not move an object to another namespace or give it
    another uid, as kube-apiserver refuses it."""
    meta, old = patched["metadata"], current["metadata"]
    if kind.namespaced and meta.get("namespace", old.get("namespace")) != old.get(
            "namespace"):
        raise BadRequest("the namespace of the provided object does not match the "
                         "namespace sent on the request")
    if "uid" in meta and meta["uid"] != old.get("uid"):
        raise Invalid(kind.kind, old.get("name", ""), [FieldError(
            "Invalid value", "metadata.uid", meta["uid"], "field is immutable")],
            kind.group)


def _check_preconditions(kind: Kind, obj: dict, preconditions: dict) -> None:
    meta = obj["metadata"]
    uid = preconditions.get("uid")
    if uid and uid != meta.get("uid"):
        raise Conflict.object(
            kind.resource, meta["name"],
            f"Precondition failed: UID in precondition: {uid}, UID in object "
            f"meta: {meta.get('uid')}", kind.group)
    version = preconditions.get("resourceVersion")
    if version and version != meta.get("resourceVersion"):
        raise Conflict.object(
            kind.resource, meta["name"],
            f"Precondition failed: ResourceVersion in precondition: {version}, "
            f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
            kind.group)


def _grace_period(kind: Kind, obj: dict, options: dict) -> int:
    """Seconds a delete waits for, as the pod strategy decides them."""
    grace = options.get("gracePeriodSeconds")
    if kind.kind != "Pod":
        return 0
    spec = obj.get("spec", {})
    if grace is None:
        grace = spec.get("terminationGracePeriodSeconds", 30)
    phase = obj.get("status", {}).get("phase")
    # An unscheduled or finished pod has no process to stop: it goes now.
    if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
        return 0
    return max(int(grace), 0)


def _set_condition(obj: dict, type: str, status: str) -> None:
    conditions = obj.setdefault("status", {}).setdefault("conditions", [])
    stamp = objects.now()
    for condition in conditions:
        if condition.get("type") == type:
            if condition.get("status") != status:
                condition["lastTransitionTime"] = stamp
            condition["status"] = status
            return
    conditions.append({"type": type, "status": status, "lastProbeTime": None,
                       "lastTransitionTime": stamp})
