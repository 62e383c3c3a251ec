"""The deployment controller: Deployments become ReplicaSets, rolled out.

It follows kube-controller-manager's pkg/controller/deployment: each sync
claims the ReplicaSets the Deployment's selector matches (adopting orphans,
releasing those that stopped matching), finds or creates the ReplicaSet of the
current template (``<deployment>-<pod-template-hash>``), then scales
(proportionally when the Deployment itself was resized), rolls out with the
RollingUpdate or Recreate strategy, prunes history and writes the status.
The ReplicaSet controller turns ReplicaSets into pods; this one never touches
pods, it only reads them for Recreate. The strategies are in
``controllers.deployment_rollout``, the arithmetic in
``controllers.deployment_util``.
"""

from __future__ import annotations

import asyncio
import copy
import logging

from controllers import deployment_util as du
from controllers.client import MERGE_PATCH, APIError, Conflict, NotFound
from controllers.deployment_rollout import Rollout, controller_ref, some
from controllers.events import ControllerEventRecorder
from controllers.informer import Informer, object_key, split_key
from controllers.workqueue import WorkQueue, process
from server.selectors import label_selector_from_dict

log = logging.getLogger("controllers.deployment")

API = "/apis/apps/v1"
WORKERS = 5  # kube-controller-manager's --concurrent-deployment-syncs


def rs_path(namespace: str, name: str = "") -> str:
    path = f"{API}/namespaces/{namespace}/replicasets"
    return f"{path}/{name}" if name else path


def deployment_path(namespace: str, name: str) -> str:
    return f"{API}/namespaces/{namespace}/deployments/{name}"


def owner_reference(deployment: dict) -> dict:
    meta = deployment["metadata"]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"],
            "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}


class DeploymentController:
    name = "deployment"

    def __init__(self, options):
        self.options = options
        self.client = None
        self.queue: WorkQueue | None = None
        self.deployments: Informer | None = None
        self.replica_sets: Informer | None = None
        self.pods: Informer | None = None
        self.events: ControllerEventRecorder | None = None

    async def run(self, client, stop: asyncio.Event) -> None:
        self.client = client
        self.queue = WorkQueue()
        self.events = ControllerEventRecorder(client, "deployment-controller")
        self.deployments = Informer(client, f"{API}/deployments")
        self.replica_sets = Informer(client, f"{API}/replicasets")
        self.pods = Informer(client, "/api/v1/pods")
        self._add_handlers()
        informers = [self.deployments, self.replica_sets, self.pods]
        tasks = [asyncio.create_task(i.run(stop)) for i in informers]
        try:
            for informer in informers:
                await informer.wait_synced()
            await process(self.queue, self.sync, stop, WORKERS, self.name)
        finally:
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.events.drain()

    # Event handlers: each only finds the Deployment to sync.

    def _add_handlers(self) -> None:
        self.deployments.add_handlers(
            on_add=self._enqueue, on_update=lambda old, new: self._enqueue(new),
            on_delete=self._enqueue)
        self.replica_sets.add_handlers(
            on_add=self._rs_changed, on_update=self._rs_updated,
            on_delete=self._rs_changed)
        self.pods.add_handlers(on_delete=self._pod_deleted)

    def _enqueue(self, deployment: dict) -> None:
        self.queue.add(object_key(deployment))

    def _rs_changed(self, rs: dict) -> None:
        ref = controller_ref(rs)
        if ref is not None:
            if ref.get("kind") == "Deployment":
                self.queue.add(f"{rs['metadata']['namespace']}/{ref['name']}")
            return
        # An orphan: every Deployment that could adopt it hears of it.
        for deployment in self._deployments_selecting(rs):
            self._enqueue(deployment)

    def _rs_updated(self, old: dict, new: dict) -> None:
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref and (new_ref is None or old_ref.get("uid") != new_ref.get("uid")):
            self._rs_changed(old)
        self._rs_changed(new)

    def _deployments_selecting(self, rs: dict) -> list[dict]:
        labels = rs["metadata"].get("labels")
        found = []
        for deployment in self.deployments.list(rs["metadata"]["namespace"]):
            selector = _selector(deployment)
            if selector is not None and not selector.empty and \
                    selector.matches(labels):
                found.append(deployment)
        return found

    def _pod_deleted(self, pod: dict) -> None:
        # Only Recreate waits for pods: it starts the new ReplicaSet once the
        # old pods are gone.
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.replica_sets.get(pod["metadata"]["namespace"], ref["name"])
        if rs is not None:
            self._rs_changed(rs)

    # The sync of one Deployment.

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cached = self.deployments.get(namespace, name)
        if cached is None:
            return
        deployment = copy.deepcopy(cached)
        deployment.update(apiVersion="apps/v1", kind="Deployment")
        await Sync(self, deployment).run()


class Sync(Rollout):
    """One pass over one Deployment, with its own copies of its ReplicaSets."""

    def __init__(self, controller: DeploymentController, deployment: dict):
        self.controller = controller
        self.client = controller.client
        self.d = deployment
        self.namespace = deployment["metadata"]["namespace"]

    @property
    def name(self) -> str:
        return self.d["metadata"]["name"]

    def event(self, type_: str, reason: str, message: str) -> None:
        self.controller.events.event(self.d, type_, reason, message)

    async def run(self) -> None:
        selector = _selector(self.d)
        if selector is None or selector.empty:
            await self._selecting_all()
            return
        rs_list = await self.claim_replica_sets(selector)

        if self.d["metadata"].get("deletionTimestamp"):
            await self.sync_status_only(rs_list)
            return
        await self.check_paused_conditions()
        if self.d["spec"].get("paused"):
            await self.scale_sync(rs_list)
            return
        if self.is_scaling_event(rs_list):
            await self.scale_sync(rs_list)
            return
        if du.is_rolling_update(self.d):
            await self.rollout_rolling(rs_list)
        else:
            await self.rollout_recreate(rs_list)

    async def _selecting_all(self) -> None:
        self.event("Warning", "SelectingAll", "This deployment is selecting all "
                   "pods. A non-empty selector is required.")
        generation = self.d["metadata"].get("generation", 0)
        if self.status.get("observedGeneration", 0) < generation:
            await self.update_status(dict(self.status, observedGeneration=generation))

    @property
    def status(self) -> dict:
        return self.d.get("status") or {}

    # Claiming ReplicaSets (ControllerRefManager).

    async def claim_replica_sets(self, selector) -> list[dict]:
        uid = self.d["metadata"]["uid"]
        deleting = bool(self.d["metadata"].get("deletionTimestamp"))
        claimed = []
        for cached in self.controller.replica_sets.list(self.namespace):
            rs = copy.deepcopy(cached)
            ref = controller_ref(rs)
            matches = selector.matches(rs["metadata"].get("labels"))
            if ref is not None:
                if ref.get("uid") != uid:
                    continue
                if matches or deleting:
                    claimed.append(rs)
                else:
                    await self._release(rs)
                continue
            if matches and not deleting and \
                    not rs["metadata"].get("deletionTimestamp"):
                adopted = await self._adopt(rs)
                if adopted is not None:
                    claimed.append(adopted)
        return claimed

    async def _adopt(self, rs: dict) -> dict | None:
        # As client-go's RecheckDeletionTimestamp: adopt only for the
        # Deployment that still exists under this uid and is not being deleted.
        try:
            fresh = await self.client.get(deployment_path(self.namespace, self.name))
        except NotFound:
            return None
        if fresh["metadata"]["uid"] != self.d["metadata"]["uid"] or \
                fresh["metadata"].get("deletionTimestamp"):
            return None
        refs = list(rs["metadata"].get("ownerReferences") or [])
        refs.append(owner_reference(self.d))
        try:
            return await self._patch_owners(rs, refs)
        except NotFound:
            return None

    async def _release(self, rs: dict) -> None:
        uid = self.d["metadata"]["uid"]
        refs = [r for r in rs["metadata"].get("ownerReferences") or []
                if r.get("uid") != uid]
        try:
            await self._patch_owners(rs, refs)
        except NotFound:
            pass

    async def _patch_owners(self, rs: dict, refs: list[dict]) -> dict:
        meta = rs["metadata"]
        patch = {"metadata": {"ownerReferences": refs or None,
                              "resourceVersion": meta["resourceVersion"]}}
        return await self.client.patch(rs_path(self.namespace, meta["name"]), patch,
                                       MERGE_PATCH)

    # Finding and creating the new ReplicaSet.

    def split(self, rs_list: list[dict]) -> tuple[dict | None, list[dict]]:
        """The oldest ReplicaSet of the current template, and the others."""
        template = self.d["spec"]["template"]
        new_rs = next((rs for rs in du.by_creation(rs_list)
                       if du.equal_ignore_hash(rs["spec"]["template"], template)),
                      None)
        return new_rs, [rs for rs in rs_list if rs is not new_rs]

    async def new_and_old(self, rs_list: list[dict], create: bool
                          ) -> tuple[dict | None, list[dict]]:
        """getAllReplicaSetsAndSyncRevision."""
        new_rs, old_rss = self.split(rs_list)
        new_revision = du.max_revision(old_rss) + 1
        if new_rs is not None:
            new_rs = await self._sync_existing_new_rs(new_rs, new_revision)
        elif create:
            new_rs = await self._create_new_rs(old_rss, new_revision)
        return new_rs, old_rss

    async def _sync_existing_new_rs(self, rs: dict, new_revision: int) -> dict:
        changed = du.set_new_rs_annotations(self.d, rs, new_revision, exists=True)
        min_ready = self.d["spec"].get("minReadySeconds", 0)
        if changed or rs["spec"].get("minReadySeconds", 0) != min_ready:
            rs["spec"]["minReadySeconds"] = min_ready
            updated = await self.client.replace(
                rs_path(self.namespace, rs["metadata"]["name"]), rs)
            _replace(rs, updated)
            return rs
        await self.set_revision(du.annotations(rs).get(du.REVISION, ""))
        if du.has_progress_deadline(self.d) and \
                du.condition(self.status, "Progressing") is None:
            status = copy.deepcopy(self.status)
            du.set_condition(status, du.new_condition(
                "Progressing", "True", du.FOUND_NEW_RS,
                f'Found new replica set "{rs["metadata"]["name"]}"'))
            await self.update_status(status)
        return rs

    async def _create_new_rs(self, old_rss: list[dict], new_revision: int) -> dict:
        rs = self._new_rs_object()
        rs["spec"]["replicas"] = du.new_rs_new_replicas(self.d, old_rss + [rs], rs)
        du.set_new_rs_annotations(self.d, rs, new_revision, exists=False)
        name = rs["metadata"]["name"]
        try:
            created = await self.client.create(rs_path(self.namespace), rs)
            exists = False
        except Conflict:
            created = await self._existing_or_collision(name)
            exists = True
        except APIError as err:
            await self._creation_failed(name, err)
            raise
        if not exists and rs["spec"]["replicas"] > 0:
            self.event("Normal", "ScalingReplicaSet",
                       f"Scaled up replica set {name} to {rs['spec']['replicas']}")
        await self.set_revision(str(new_revision))
        if not exists and du.has_progress_deadline(self.d):
            status = copy.deepcopy(self.status)
            du.set_condition(status, du.new_condition(
                "Progressing", "True", du.NEW_RS_CREATED,
                f'Created new replica set "{name}"'))
            await self.update_status(status)
        return created

    def _new_rs_object(self) -> dict:
        template = copy.deepcopy(self.d["spec"]["template"])
        pod_hash = du.compute_hash(template, self.status.get("collisionCount"))
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels[du.HASH_LABEL] = pod_hash
        template.setdefault("metadata", {})["labels"] = labels
        selector = copy.deepcopy(self.d["spec"]["selector"])
        selector.setdefault("matchLabels", {})[du.HASH_LABEL] = pod_hash
        return {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{self.name}-{pod_hash}",
                         "namespace": self.namespace, "labels": dict(labels),
                         "ownerReferences": [owner_reference(self.d)]},
            "spec": {"replicas": 0,
                     "minReadySeconds": self.d["spec"].get("minReadySeconds", 0),
                     "selector": selector, "template": template},
        }

    async def _existing_or_collision(self, name: str) -> dict:
        """The name is taken: ours with this template is fine; anything else is a
        hash collision, counted in status.collisionCount so the next try
        hashes differently."""
        existing = await self.client.get(rs_path(self.namespace, name))
        ref = controller_ref(existing)
        if ref and ref.get("uid") == self.d["metadata"]["uid"] and \
                du.equal_ignore_hash(existing["spec"]["template"],
                                     self.d["spec"]["template"]):
            return existing
        status = copy.deepcopy(self.status)
        status["collisionCount"] = (status.get("collisionCount") or 0) + 1
        await self.update_status(status)
        log.info("deployment %s/%s: hash collision on %s; collisionCount is now %d",
                 self.namespace, self.name, name, status["collisionCount"])
        raise Conflict(409, "AlreadyExists", f"replica set {name} already exists")

    async def _creation_failed(self, name: str, err: APIError) -> None:
        message = f'Failed to create new replica set "{name}": {err.message}'
        if du.has_progress_deadline(self.d):
            status = copy.deepcopy(self.status)
            du.set_condition(status, du.new_condition(
                "Progressing", "False", du.FAILED_RS_CREATE, message))
            await self.update_status(status)
        self.event("Warning", du.FAILED_RS_CREATE, message)

    async def set_revision(self, revision: str) -> None:
        """SetDeploymentRevision."""
        if not revision or du.annotations(self.d).get(du.REVISION) == revision:
            return
        # Through /status, as kube does: its status strategy keeps the
        # annotations it is sent and leaves metadata.generation alone.
        patch = {"metadata": {"annotations": {du.REVISION: revision},
                              "resourceVersion": self.d["metadata"]["resourceVersion"]}}
        updated = await self.client.patch(
            deployment_path(self.namespace, self.name) + "/status", patch, MERGE_PATCH)
        _replace(self.d, updated)

    # Writes.

    async def update_status(self, status: dict) -> None:
        body = dict(self.d, status=status)
        updated = await self.client.replace(
            deployment_path(self.namespace, self.name) + "/status", body)
        _replace(self.d, updated)

    async def scale_rs(self, rs: dict, replicas: int, operation: str = "") -> bool:
        """scaleReplicaSet: resize ``rs`` (and note the Deployment's size on it);
        True when its size changed."""
        desired = du.spec_replicas(self.d)
        maximum = desired + du.max_surge(self.d)
        old = du.spec_replicas(rs)
        resize = old != replicas
        if not resize and not du.replicas_annotations_need_update(rs, desired,
                                                                  maximum):
            return False
        body = copy.deepcopy(rs)
        body["spec"]["replicas"] = replicas
        du.set_replicas_annotations(body, desired, maximum)
        updated = await self.client.replace(
            rs_path(self.namespace, rs["metadata"]["name"]), body)
        _replace(rs, updated)
        if resize:
            operation = operation or ("up" if replicas > old else "down")
            self.event("Normal", "ScalingReplicaSet",
                       f"Scaled {operation} replica set {rs['metadata']['name']} "
                       f"to {replicas} from {old}")
        return resize

    # History and status.

    async def cleanup(self, old_rss: list[dict]) -> None:
        """Delete the oldest ReplicaSets beyond revisionHistoryLimit, if empty."""
        limit = self.d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [rs for rs in old_rss if not rs["metadata"].get("deletionTimestamp")]
        excess = len(alive) - limit
        for rs in du.by_revision(alive)[:max(excess, 0)]:
            meta = rs["metadata"]
            if du.status_count(rs, "replicas") or du.spec_replicas(rs) or \
                    meta.get("generation", 0) > du.status_count(
                        rs, "observedGeneration"):
                continue
            log.debug("deployment %s/%s: deleting old replica set %s",
                      self.namespace, self.name, meta["name"])
            try:
                await self.client.delete(rs_path(self.namespace, meta["name"]),
                                         {"preconditions": {"uid": meta["uid"]}})
            except NotFound:
                pass

    async def sync_status_only(self, rs_list: list[dict]) -> None:
        new_rs, old_rss = await self.new_and_old(rs_list, create=False)
        await self.sync_status(old_rss + some(new_rs), new_rs)

    async def sync_status(self, all_rss: list[dict], new_rs: dict | None) -> None:
        status = du.calculate_status(all_rss, new_rs, self.d)
        if status != self.status:
            await self.update_status(status)

    async def sync_rollout_status(self, all_rss: list[dict],
                                  new_rs: dict | None) -> None:
        status = du.calculate_status(all_rss, new_rs, self.d)
        if not du.has_progress_deadline(self.d):
            du.remove_condition(status, "Progressing")
        elif not self._complete_already(status):
            self._progress(status, new_rs)
        if status != self.status:
            await self.update_status(status)
        self._requeue_for_deadline(status)

    def _complete_already(self, status: dict) -> bool:
        cond = du.condition(self.status, "Progressing")
        return status["replicas"] == status["updatedReplicas"] and \
            cond is not None and cond.get("reason") == du.NEW_RS_AVAILABLE

    def _progress(self, status: dict, new_rs: dict | None) -> None:
        rs_name = new_rs["metadata"]["name"] if new_rs else None
        if du.deployment_complete(self.d, status):
            message = (f'ReplicaSet "{rs_name}" has successfully progressed.'
                       if rs_name else "")
            du.set_condition(status, du.new_condition(
                "Progressing", "True", du.NEW_RS_AVAILABLE, message))
        elif du.deployment_progressing(self.d, status):
            message = (f'ReplicaSet "{rs_name}" is progressing.' if rs_name else
                       f'Deployment "{self.name}" is progressing.')
            cond = du.new_condition("Progressing", "True", du.RS_UPDATED, message)
            current = du.condition(status, "Progressing")
            # A progressing rollout refreshes lastUpdateTime, which is what the
            # deadline counts from.
            if current is not None and current.get("status") == "True":
                cond["lastTransitionTime"] = current.get("lastTransitionTime")
                du.remove_condition(status, "Progressing")
            du.set_condition(status, cond)
        elif self._timed_out(status):
            message = (f'ReplicaSet "{rs_name}" has timed out progressing.'
                       if rs_name else
                       f'Deployment "{self.name}" has timed out progressing.')
            du.set_condition(status, du.new_condition(
                "Progressing", "False", du.TIMED_OUT, message))

    def _timed_out(self, status: dict) -> bool:
        cond = du.condition(status, "Progressing")
        if cond is not None and cond.get("reason") == du.TIMED_OUT:
            return True
        left = du.seconds_until_deadline(self.d, status)
        return left is not None and left < 0

    def _requeue_for_deadline(self, status: dict) -> None:
        # requeueStuckDeployment: look again when the deadline would pass.
        if du.deployment_complete(self.d, status):
            return
        left = du.seconds_until_deadline(self.d, status)
        if left is not None:
            self.controller.queue.add_after(f"{self.namespace}/{self.name}",
                                            max(left, 0) + 1)

    async def check_paused_conditions(self) -> None:
        if not du.has_progress_deadline(self.d):
            return
        cond = du.condition(self.status, "Progressing")
        if cond is not None and cond.get("reason") == du.TIMED_OUT:
            return
        paused = bool(self.d["spec"].get("paused"))
        shown = cond is not None and cond.get("reason") == du.PAUSED
        if paused == shown:
            return
        status = copy.deepcopy(self.status)
        if paused:
            new = du.new_condition("Progressing", "Unknown", du.PAUSED,
                                   "Deployment is paused")
        else:
            new = du.new_condition("Progressing", "Unknown", du.RESUMED,
                                   "Deployment is resumed")
        du.set_condition(status, new)
        await self.update_status(status)


def _selector(deployment: dict):
    try:
        return label_selector_from_dict(deployment["spec"].get("selector"))
    except ValueError:
        return None


def _replace(target: dict, updated: dict) -> None:
    """Make ``target`` the object the server answered with, in place, so the
    lists of this sync see the write."""
    target.clear()
    target.update(updated)
