"""The ReplicationController and ReplicaSet controllers: one implementation.

Both keep ``spec.replicas`` pods matching the selector, as
pkg/controller/replicaset does for both kinds: pods are created from the
template with a controller ownerReference, orphans that match are adopted,
owned pods that stop matching are released, and the status is written through
the status subresource. A ReplicationController's selector is a plain map, a
ReplicaSet's a LabelSelector; nothing else differs but names.

Expectations (creates and deletes in flight per owner) keep a slow watch from
causing a second round of creates, as kube's ControllerExpectations do.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Callable

from controllers.client import STRATEGIC_MERGE_PATCH, APIError, NotFound
from controllers.events import ControllerEventRecorder
from controllers.informer import Informer, object_key, split_key
from controllers.replicapods import (
    Failure, _same_conditions, calculate_status, controller_ref, is_active, is_ready,
    pods_to_delete)
from controllers.workqueue import WorkQueue, process
from server.selectors import LabelSelector, label_selector_from_dict

log = logging.getLogger("controllers.replication")

# kube's burstReplicas: at most this many creates or deletes per sync.
BURST_REPLICAS = 500
# An expectation not met for this long is given up (kube: ExpectationsTimeout).
EXPECTATIONS_TIMEOUT = 300.0
WORKERS = 5


@dataclass(frozen=True)
class Flavor:
    kind: str
    api_version: str
    resource_path: str  # the collection across namespaces
    component: str
    selector: Callable[[dict], LabelSelector]

    def path(self, namespace: str, name: str = "") -> str:
        group = self.resource_path.rsplit("/", 1)
        base = f"{group[0]}/namespaces/{namespace}/{group[1]}"
        return f"{base}/{name}" if name else base


def _rc_selector(owner: dict) -> LabelSelector:
    selector = (owner.get("spec") or {}).get("selector") or {}
    # An RC with no selector selects nothing, never everything.
    if not selector:
        return LabelSelector(nothing=True)
    return label_selector_from_dict({"matchLabels": selector})


def _rs_selector(owner: dict) -> LabelSelector:
    try:
        return label_selector_from_dict((owner.get("spec") or {}).get("selector"))
    except ValueError:
        return LabelSelector(nothing=True)


REPLICATION_CONTROLLER = Flavor("ReplicationController", "v1",
                                "/api/v1/replicationcontrollers",
                                "replication-controller", _rc_selector)
REPLICA_SET = Flavor("ReplicaSet", "apps/v1", "/apis/apps/v1/replicasets",
                     "replicaset-controller", _rs_selector)


class Expectations:
    """Creates and deletes each owner waits to see in the pod watch."""

    def __init__(self, timeout: float = EXPECTATIONS_TIMEOUT):
        self.timeout = timeout
        self._adds: dict[str, int] = {}
        self._deletes: dict[str, set[str]] = {}
        self._since: dict[str, float] = {}

    def satisfied(self, key: str) -> bool:
        if key not in self._since:
            return True
        if self._adds.get(key, 0) <= 0 and not self._deletes.get(key):
            return True
        return time.monotonic() - self._since[key] > self.timeout

    def expect_creations(self, key: str, count: int) -> None:
        self._adds[key] = count
        self._deletes[key] = set()
        self._since[key] = time.monotonic()

    def expect_deletions(self, key: str, pod_keys: list[str]) -> None:
        self._adds[key] = 0
        self._deletes[key] = set(pod_keys)
        self._since[key] = time.monotonic()

    def creation_observed(self, key: str) -> None:
        if key in self._adds:
            self._adds[key] -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        self._deletes.get(key, set()).discard(pod_key)

    def forget(self, key: str) -> None:
        for table in (self._adds, self._deletes, self._since):
            table.pop(key, None)


class ReplicaManager:
    """The controller of one flavor; ``run`` follows the manager's contract."""

    flavor: Flavor
    name: str

    def __init__(self, options):
        self.options = options
        self.expectations = Expectations()
        self.queue: WorkQueue | None = None

    async def run(self, client, stop: asyncio.Event) -> None:
        self.client = client
        self.queue = WorkQueue()
        self.owners = Informer(client, self.flavor.resource_path)
        self.pods = Informer(client, "/api/v1/pods")
        self.events = ControllerEventRecorder(client, self.flavor.component)
        self.owners.add_handlers(self._enqueue, lambda old, new: self._enqueue(new),
                                 self._owner_deleted)
        self.pods.add_handlers(self._pod_added, self._pod_updated, self._pod_deleted)
        tasks = [asyncio.create_task(i.run(stop)) for i in (self.owners, self.pods)]
        await asyncio.gather(self.owners.wait_synced(), self.pods.wait_synced())
        await process(self.queue, self.sync, stop, WORKERS, self.name)
        await asyncio.gather(*tasks)
        await self.events.drain()

    # Event handlers: they find the owners a change concerns and queue them.

    def _enqueue(self, owner: dict) -> None:
        self.queue.add(object_key(owner))

    def _owner_deleted(self, owner: dict) -> None:
        self.expectations.forget(object_key(owner))

    def _controller_of(self, pod: dict) -> dict | None:
        """The owner in the cache the pod's controller reference points at."""
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != self.flavor.kind:
            return None
        owner = self.owners.get(pod["metadata"].get("namespace", ""), ref.get("name"))
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return None
        return owner

    def _matching_owners(self, pod: dict) -> list[dict]:
        labels = pod["metadata"].get("labels") or {}
        return [o for o in self.owners.list(pod["metadata"].get("namespace", ""))
                if self.flavor.selector(o).matches(labels)]

    def _pod_added(self, pod: dict) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        if controller_ref(pod) is not None:
            owner = self._controller_of(pod)
            if owner is not None:
                self.expectations.creation_observed(object_key(owner))
                self._enqueue(owner)
            return
        for owner in self._matching_owners(pod):
            self._enqueue(owner)

    def _pod_updated(self, old: dict, pod: dict) -> None:
        labels_changed = (old["metadata"].get("labels") != pod["metadata"].get(
            "labels"))
        if pod["metadata"].get("deletionTimestamp"):
            # A pod marked for deletion counts as deleted (kube's updatePod).
            self._pod_deleted(pod)
            if labels_changed:
                self._pod_deleted(old)
            return
        ref_changed = controller_ref(old) != controller_ref(pod)
        if ref_changed and (previous := self._controller_of(old)) is not None:
            self._enqueue(previous)
        owner = self._controller_of(pod)
        if owner is not None:
            self._enqueue(owner)
            min_ready = (owner.get("spec") or {}).get("minReadySeconds") or 0
            if min_ready and not is_ready(old) and is_ready(pod):
                # Available only minReadySeconds later: look again then.
                self.queue.add_after(object_key(owner), min_ready + 1)
            return
        if controller_ref(pod) is None and (labels_changed or ref_changed):
            for candidate in self._matching_owners(pod):
                self._enqueue(candidate)

    def _pod_deleted(self, pod: dict) -> None:
        owner = self._controller_of(pod)
        if owner is not None:
            key = object_key(owner)
            self.expectations.deletion_observed(key, object_key(pod))
            self._enqueue(owner)

    # The sync of one owner.

    async def sync(self, key: str) -> None:
        owner = self.owners.get_key(key)
        if owner is None:
            self.expectations.forget(key)
            return
        needs_sync = (self.expectations.satisfied(key)
                      and not owner["metadata"].get("deletionTimestamp"))
        namespace, _ = split_key(key)
        active = [p for p in self.pods.list(namespace) if is_active(p)]
        owned = await self._claim(owner, active)

        failure = await self._manage(owner, owned) if needs_sync else None
        await self._update_status(owner, owned, failure)

    async def _claim(self, owner: dict, pods: list[dict]) -> list[dict]:
        """The pods this owner controls after adopting and releasing (kube's
        PodControllerRefManager.ClaimPods)."""
        selector = self.flavor.selector(owner)
        uid = owner["metadata"]["uid"]
        deleting = bool(owner["metadata"].get("deletionTimestamp"))
        owned, can_adopt = [], None
        for pod in pods:
            ref = controller_ref(pod)
            matches = selector.matches(pod["metadata"].get("labels"))
            if ref is not None:
                if ref.get("uid") != uid:
                    continue
                if matches:
                    owned.append(pod)
                elif not deleting:
                    await self._release(owner, pod)
                continue
            if not matches or deleting or pod["metadata"].get("deletionTimestamp"):
                continue
            if can_adopt is None:
                can_adopt = await self._still_there(owner)
            if can_adopt and await self._adopt(owner, pod):
                owned.append(pod)
        return owned

    async def _still_there(self, owner: dict) -> bool:
        """Whether the owner, read fresh, is the same and not being deleted: a
        cache may be behind, and adopting for a deleted owner orphans for good."""
        meta = owner["metadata"]
        try:
            fresh = await self.client.get(self.flavor.path(meta["namespace"],
                                                           meta["name"]))
        except NotFound:
            return False
        return (fresh["metadata"].get("uid") == meta["uid"]
                and not fresh["metadata"].get("deletionTimestamp"))

    async def _adopt(self, owner: dict, pod: dict) -> bool:
        patch = {"metadata": {"ownerReferences": [self._owner_reference(owner)],
                              "uid": pod["metadata"]["uid"]}}
        try:
            await self.client.patch(self._pod_path(pod), patch, STRATEGIC_MERGE_PATCH)
        except NotFound:
            return False
        except APIError as err:
            if err.code == 422:  # gone and recreated under the same name
                return False
            raise
        log.debug("%s %s adopted pod %s", self.flavor.kind, object_key(owner),
                  object_key(pod))
        return True

    async def _release(self, owner: dict, pod: dict) -> None:
        patch = {"metadata": {"ownerReferences": [
            {"$patch": "delete", "uid": owner["metadata"]["uid"]}],
            "uid": pod["metadata"]["uid"]}}
        try:
            await self.client.patch(self._pod_path(pod), patch, STRATEGIC_MERGE_PATCH)
        except NotFound:
            return
        except APIError as err:
            if err.code != 422:
                raise
        log.debug("%s %s released pod %s", self.flavor.kind, object_key(owner),
                  object_key(pod))

    async def _manage(self, owner: dict, owned: list[dict]) -> Failure | None:
        """Create or delete pods toward spec.replicas; the first failure, if any."""
        diff = len(owned) - (owner.get("spec") or {}).get("replicas", 1)
        key = object_key(owner)
        if diff < 0:
            count = min(-diff, BURST_REPLICAS)
            self.expectations.expect_creations(key, count)
            error = await self._create_pods(owner, count)
            return ("FailedCreate", error) if error else None
        if diff > 0:
            doomed = pods_to_delete(owned, min(diff, BURST_REPLICAS))
            self.expectations.expect_deletions(key, [object_key(p) for p in doomed])
            error = await self._delete_pods(owner, doomed)
            return ("FailedDelete", error) if error else None
        return None

    async def _create_pods(self, owner: dict, count: int) -> APIError | None:
        """Create in batches of 1, 2, 4, ... (kube's slowStartBatch), stopping at
        the first batch with a failure so a quota error costs one call, not 500."""
        key, created, batch = object_key(owner), 0, 1
        while created < count:
            size = min(batch, count - created)
            results = await asyncio.gather(
                *(self._create_pod(owner) for _ in range(size)))
            created += size
            errors = [r for r in results if r is not None]
            for _ in errors:
                self.expectations.creation_observed(key)  # never to be seen
            if errors:
                for _ in range(count - created):
                    self.expectations.creation_observed(key)
                return errors[0]
            batch *= 2
        return None

    async def _create_pod(self, owner: dict) -> APIError | None:
        namespace = owner["metadata"]["namespace"]
        try:
            pod = await self.client.create(f"/api/v1/namespaces/{namespace}/pods",
                                           self._pod_from_template(owner))
        except APIError as err:
            self.events.event(self._involved(owner), "Warning", "FailedCreate",
                              f"Error creating: {err.message}")
            return err
        self.events.event(self._involved(owner), "Normal", "SuccessfulCreate",
                          f"Created pod: {pod['metadata']['name']}")
        return None

    async def _delete_pods(self, owner: dict, pods: list[dict]) -> APIError | None:
        results = await asyncio.gather(*(self._delete_pod(owner, p) for p in pods))
        return next((r for r in results if r is not None), None)

    async def _delete_pod(self, owner: dict, pod: dict) -> APIError | None:
        key = object_key(owner)
        try:
            await self.client.delete(self._pod_path(pod), {
                "preconditions": {"uid": pod["metadata"]["uid"]}})
        except NotFound:
            self.expectations.deletion_observed(key, object_key(pod))
            return None
        except APIError as err:
            self.expectations.deletion_observed(key, object_key(pod))
            self.events.event(self._involved(owner), "Warning", "FailedDelete",
                              f"Error deleting: {err.message}")
            return err
        self.events.event(self._involved(owner), "Normal", "SuccessfulDelete",
                          f"Deleted pod: {pod['metadata']['name']}")
        return None

    # Status.

    async def _update_status(self, owner: dict, owned: list[dict],
                             failure: Failure | None) -> None:
        status = calculate_status(owner, owned, failure)
        current = owner.get("status") or {}
        if all(current.get(k, 0) == v for k, v in status.items()
               if k != "conditions") and _same_conditions(
                current.get("conditions"), status.get("conditions")):
            return
        meta = owner["metadata"]
        path = self.flavor.path(meta["namespace"], meta["name"])
        body = {**owner, "apiVersion": self.flavor.api_version,
                "kind": self.flavor.kind}

        def set_status(obj: dict) -> None:
            obj["status"] = {**(obj.get("status") or {}), **status}
            if not status.get("conditions"):
                obj["status"].pop("conditions", None)

        try:
            await self.client.update_status(path, body, set_status)
        except NotFound:
            return
        min_ready = (owner.get("spec") or {}).get("minReadySeconds") or 0
        if min_ready and status["readyReplicas"] != status["availableReplicas"]:
            self.queue.add_after(object_key(owner), min_ready)

    # Pieces.

    def _pod_from_template(self, owner: dict) -> dict:
        template = (owner.get("spec") or {}).get("template") or {}
        template_meta = template.get("metadata") or {}
        meta = {"generateName": owner["metadata"]["name"] + "-",
                "namespace": owner["metadata"]["namespace"],
                "ownerReferences": [self._owner_reference(owner)]}
        for field in ("labels", "annotations", "finalizers"):
            if template_meta.get(field):
                meta[field] = template_meta[field]
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                "spec": template.get("spec") or {}}

    def _owner_reference(self, owner: dict) -> dict:
        return {"apiVersion": self.flavor.api_version, "kind": self.flavor.kind,
                "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                "controller": True, "blockOwnerDeletion": True}

    def _involved(self, owner: dict) -> dict:
        return {**owner, "kind": self.flavor.kind,
                "apiVersion": self.flavor.api_version}

    @staticmethod
    def _pod_path(pod: dict) -> str:
        meta = pod["metadata"]
        return f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"


class ReplicationManager(ReplicaManager):
    flavor = REPLICATION_CONTROLLER
    name = "replicationcontroller"


class ReplicaSetController(ReplicaManager):
    flavor = REPLICA_SET
    name = "replicaset"
