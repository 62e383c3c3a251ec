"""The garbage collector: dependents whose owners are gone, and deletions that
wait on their dependents (propagationPolicy Foreground and Orphan).

As kube's garbage collector (pkg/controller/garbagecollector) does:

- a dependent all of whose owners are gone (an ownerReference whose uid no
  longer exists) is deleted, with a uid precondition and Background
  propagation; owners that are gone are dropped from a dependent that still
  has one that exists;
- an owner being deleted with the ``foregroundDeletion`` finalizer has its
  dependents deleted; once none with ``blockOwnerDeletion`` is left, the
  finalizer is removed and the server finishes the owner's deletion;
- an owner being deleted with the ``orphan`` finalizer has its
  ownerReference removed from every dependent, then the finalizer.

Every kind it knows is watched with a shared informer; the owner graph is
read from the informers' owner index.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from controllers.client import STRATEGIC_MERGE_PATCH, APIError, NotFound
from controllers.informer import Informer, object_key
from controllers.workqueue import WorkQueue, process

log = logging.getLogger("controllers.garbagecollector")

ORPHAN, FOREGROUND = "orphan", "foregroundDeletion"
WORKERS = 5
MAX_ABSENT_REMEMBERED = 4096


@dataclass(frozen=True)
class Resource:
    api_version: str
    kind: str
    resource: str
    namespaced: bool = True

    def collection(self, namespace: str = "") -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.resource}"
        return f"{base}/{self.resource}"

    def path(self, namespace: str, name: str) -> str:
        return f"{self.collection(namespace)}/{name}"


# TODO: a fixed list of the kinds this server serves that can be owners or
# dependents; kube's collector discovers every deletable resource instead,
# so a kind added to the server must be added here to be collected.
RESOURCES = (
    Resource("v1", "Pod", "pods"),
    Resource("v1", "ReplicationController", "replicationcontrollers"),
    Resource("v1", "Service", "services"),
    Resource("v1", "Endpoints", "endpoints"),
    Resource("v1", "ConfigMap", "configmaps"),
    Resource("v1", "Secret", "secrets"),
    Resource("v1", "ServiceAccount", "serviceaccounts"),
    Resource("v1", "Node", "nodes", namespaced=False),
    Resource("apps/v1", "Deployment", "deployments"),
    Resource("apps/v1", "ReplicaSet", "replicasets"),
    Resource("coordination.k8s.io/v1", "Lease", "leases"),
    Resource("discovery.k8s.io/v1", "EndpointSlice", "endpointslices"),
)
_BY_KIND = {(r.api_version.split("/")[0] if "/" in r.api_version else "", r.kind): r
            for r in RESOURCES}


def resource_of(api_version: str, kind: str) -> Resource | None:
    """The resource an ownerReference's apiVersion and kind name; the version
    may differ from the one watched, the group may not."""
    group = api_version.split("/")[0] if "/" in api_version else ""
    return _BY_KIND.get((group, kind))


class GarbageCollector:
    name = "garbagecollector"

    def __init__(self, options):
        self.options = options
        self._absent: dict[str, None] = {}

    async def run(self, client, stop: asyncio.Event) -> None:
        self.client = client
        self.queue = WorkQueue()
        self.informers = {r.resource: Informer(client, r.collection())
                          for r in RESOURCES}
        self._by_uid: dict[str, tuple[Resource, str]] = {}
        for resource in RESOURCES:
            self._watch(resource)
        tasks = [asyncio.create_task(i.run(stop)) for i in self.informers.values()]
        await asyncio.gather(*(i.wait_synced() for i in self.informers.values()))
        log.info("garbage collector synced %d resources", len(self.informers))
        await process(self.queue, self.sync, stop, WORKERS, self.name)
        await asyncio.gather(*tasks)

    # The graph, kept from the informers' events.

    def _watch(self, resource: Resource) -> None:
        def added(obj: dict) -> None:
            self._by_uid[obj["metadata"]["uid"]] = (resource, object_key(obj))
            self._enqueue(resource, obj)

        def updated(old: dict, obj: dict) -> None:
            before, after = old["metadata"], obj["metadata"]
            if any(before.get(f) != after.get(f) for f in (
                    "ownerReferences", "deletionTimestamp", "finalizers")):
                self._enqueue(resource, obj)

        def deleted(obj: dict) -> None:
            uid = obj["metadata"]["uid"]
            self._by_uid.pop(uid, None)
            for dependent_resource, dependent in self._dependents(uid):
                self._enqueue(dependent_resource, dependent)
            # An owner waiting for its dependents may now go.
            for ref in obj["metadata"].get("ownerReferences") or []:
                owner = self._cached(ref.get("uid", ""))
                if owner is not None:
                    self._enqueue(*owner)

        self.informers[resource.resource].add_handlers(added, updated, deleted)

    def _enqueue(self, resource: Resource, obj: dict) -> None:
        self.queue.add(f"{resource.resource}|{object_key(obj)}")

    def _cached(self, uid: str) -> tuple[Resource, dict] | None:
        found = self._by_uid.get(uid)
        if found is None:
            return None
        resource, key = found
        obj = self.informers[resource.resource].get_key(key)
        return (resource, obj) if obj is not None else None

    def _dependents(self, uid: str) -> list[tuple[Resource, dict]]:
        return [(r, obj) for r in RESOURCES
                for obj in self.informers[r.resource].owned_by(uid)]

    # The sync of one object: as an owner being deleted, then as a dependent.

    async def sync(self, key: str) -> None:
        resource_name, _, object_name = key.partition("|")
        resource = next(r for r in RESOURCES if r.resource == resource_name)
        obj = self.informers[resource_name].get_key(object_name)
        if obj is None:
            return
        meta = obj["metadata"]
        finalizers = meta.get("finalizers") or []
        if meta.get("deletionTimestamp") and ORPHAN in finalizers:
            await self._orphan_dependents(resource, obj)
        elif meta.get("deletionTimestamp") and FOREGROUND in finalizers:
            await self._delete_dependents_first(resource, obj)
        elif meta.get("ownerReferences") and not meta.get("deletionTimestamp"):
            await self._collect_if_orphaned(resource, obj)

    async def _orphan_dependents(self, resource: Resource, owner: dict) -> None:
        uid = owner["metadata"]["uid"]
        for dependent_resource, dependent in self._dependents(uid):
            await self._drop_owner_references(dependent_resource, dependent, [uid])
        await self._remove_finalizer(resource, owner, ORPHAN)

    async def _delete_dependents_first(self, resource: Resource, owner: dict) -> None:
        uid = owner["metadata"]["uid"]
        blocking = 0
        for dependent_resource, dependent in self._dependents(uid):
            if _blocks(dependent, uid):
                blocking += 1
            # Each dependent is judged on its own: deleted unless another
            # owner of it remains (then only this reference is dropped).
            self._enqueue(dependent_resource, dependent)
        if blocking == 0:
            await self._remove_finalizer(resource, owner, FOREGROUND)

    async def _collect_if_orphaned(self, resource: Resource, obj: dict) -> None:
        solid, dangling, waiting = [], [], []
        for ref in obj["metadata"]["ownerReferences"]:
            state = await self._owner_state(obj, ref)
            {"solid": solid, "dangling": dangling, "waiting": waiting}[state].append(
                ref["uid"])
        if solid:
            if dangling or waiting:
                await self._drop_owner_references(resource, obj, dangling + waiting)
            return
        # Under an owner deleted in the foreground, a dependent with dependents
        # of its own is deleted in the foreground too, so the wait carries down.
        policy = "Background"
        if waiting and self._dependents(obj["metadata"]["uid"]):
            policy = "Foreground"
        await self._delete(resource, obj, policy)

    async def _owner_state(self, obj: dict, ref: dict) -> str:
        """solid (exists), dangling (gone) or waiting (being deleted in the
        foreground): kube's classification of an owner reference."""
        uid = ref.get("uid", "")
        cached = self._cached(uid)
        if cached is not None:
            owner = cached[1]["metadata"]
        else:
            owner = await self._read_owner(obj, ref)
            if owner is None:
                return "dangling"
        if owner.get("deletionTimestamp") and FOREGROUND in (
                owner.get("finalizers") or []):
            return "waiting"
        return "solid"

    async def _read_owner(self, obj: dict, ref: dict) -> dict | None:
        """The owner's metadata read from the server, None when it is gone; a
        cache may not have seen a new owner yet, so absence is confirmed."""
        uid = ref.get("uid", "")
        if uid in self._absent:
            return None
        resource = resource_of(ref.get("apiVersion", ""), ref.get("kind", ""))
        if resource is None:
            # An owner of a kind not watched here is taken to exist, so
            # nothing is ever deleted on a guess.
            return {"uid": uid}
        namespace = obj["metadata"].get("namespace", "") if resource.namespaced else ""
        try:
            owner = await self.client.get(resource.path(namespace, ref.get("name", "")))
        except NotFound:
            owner = None
        if owner is None or owner["metadata"].get("uid") != uid:
            self._remember_absent(uid)
            return None
        return owner["metadata"]

    def _remember_absent(self, uid: str) -> None:
        if len(self._absent) >= MAX_ABSENT_REMEMBERED:
            self._absent.pop(next(iter(self._absent)))
        self._absent[uid] = None

    # Writes.

    async def _delete(self, resource: Resource, obj: dict, policy: str) -> None:
        meta = obj["metadata"]
        log.debug("deleting %s %s (%s): its owners are gone", resource.kind,
                  object_key(obj), policy)
        try:
            await self.client.delete(resource.path(meta.get("namespace", ""),
                                                   meta["name"]), {
                "apiVersion": "v1", "kind": "DeleteOptions",
                "preconditions": {"uid": meta["uid"]},
                "propagationPolicy": policy})
        except NotFound:
            return
        except APIError as err:
            if err.code != 409:  # another object by that name now: not ours
                raise

    async def _drop_owner_references(self, resource: Resource, obj: dict,
                                     uids: list[str]) -> None:
        meta = obj["metadata"]
        patch = {"metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": uid} for uid in uids],
            "uid": meta["uid"]}}
        try:
            await self.client.patch(resource.path(meta.get("namespace", ""),
                                                  meta["name"]),
                                    patch, STRATEGIC_MERGE_PATCH)
        except NotFound:
            return
        except APIError as err:
            if err.code != 422:  # a new object by that name: nothing to drop
                raise

    async def _remove_finalizer(self, resource: Resource, obj: dict,
                                finalizer: str) -> None:
        meta = obj["metadata"]
        remaining = [f for f in meta.get("finalizers") or [] if f != finalizer]
        # The resourceVersion makes this a compare-and-swap: a finalizer
        # another controller added meanwhile is not overwritten (409, retried).
        patch = {"metadata": {"finalizers": remaining or None,
                              "resourceVersion": meta["resourceVersion"]}}
        try:
            await self.client.patch(resource.path(meta.get("namespace", ""),
                                                  meta["name"]), patch)
        except NotFound:
            return
        log.debug("removed finalizer %s from %s %s", finalizer, resource.kind,
                  object_key(obj))


def _blocks(dependent: dict, owner_uid: str) -> bool:
    return any(ref.get("uid") == owner_uid and ref.get("blockOwnerDeletion")
               for ref in dependent["metadata"].get("ownerReferences") or [])
