"""The namespace controller: empty a namespace being deleted, then finalize it.

The API server only marks a deleted namespace: phase Terminating, a
deletionTimestamp, and the ``kubernetes`` finalizer still in spec.finalizers.
This controller, as kube-controller-manager's does, finds every namespaced
resource through discovery, deletes each one's objects in the namespace
(deletecollection where served, else one by one), keeps the namespace's
deletion conditions up to date while content remains (pods take their grace
period), and once nothing is left removes ``kubernetes`` through
``PUT /api/v1/namespaces/NAME/finalize``, upon which the server removes the
namespace. https://kubernetes.io/docs/concepts/architecture/controller/
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import quote

from controllers.client import Conflict, NotFound
from controllers.informer import Informer
from controllers.workqueue import WorkQueue, process

log = logging.getLogger("controllers.namespace")

FINALIZER = "kubernetes"
# Discovery is asked again after this long, so new kinds are seen.
DISCOVERY_TTL = 30.0
# kube requeues a namespace with content left after estimate/2 + 1 seconds,
# the estimate being the longest pod grace period; a local server can afford
# to look more often than that, so the wait is capped.
RECHECK_CAP = 2.0
WORKERS = 5  # --concurrent-namespace-syncs is 10 upstream; five do here.

# The conditions kube sets on a Terminating namespace, in its order, with the
# reason and message of each when nothing is wrong.
CONDITION_OK = {
    "NamespaceDeletionDiscoveryFailure": (
        "ResourcesDiscovered", "All resources successfully discovered"),
    "NamespaceDeletionGroupVersionParsingFailure": (
        "ParsedGroupVersions", "All legacy kube types successfully parsed"),
    "NamespaceDeletionContentFailure": (
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization"),
    "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": (
        "ContentHasNoFinalizers", "All content-preserving finalizers finished"),
}
CONDITION_FAILED_REASON = {
    "NamespaceDeletionDiscoveryFailure": "DiscoveryFailed",
    "NamespaceDeletionGroupVersionParsingFailure": "GroupVersionParsingFailed",
    "NamespaceDeletionContentFailure": "ContentDeletionFailed",
    "NamespaceContentRemaining": "SomeResourcesRemain",
    "NamespaceFinalizersRemaining": "SomeFinalizersRemain",
}


@dataclass(frozen=True)
class Resource:
    """A namespaced resource discovery offers: where it lives, what it allows."""

    group_version: str  # "v1", "apps/v1"
    name: str  # the plural
    verbs: frozenset[str]

    @property
    def group(self) -> str:
        return self.group_version.rpartition("/")[0]

    def path(self, namespace: str) -> str:
        prefix = "/api" if "/" not in self.group_version else "/apis"
        return (f"{prefix}/{self.group_version}/namespaces/{quote(namespace)}/"
                f"{self.name}")


@dataclass
class Outcome:
    """What one pass over a namespace's content found."""

    errors: list[str] = field(default_factory=list)
    discovery_error: str = ""
    remaining: dict[str, int] = field(default_factory=dict)  # "pods." -> count
    finalizers: dict[str, int] = field(default_factory=dict)
    estimate: float = 0.0  # seconds until what is left should be gone

    @property
    def done(self) -> bool:
        return not (self.errors or self.discovery_error or self.remaining)


class NamespaceController:
    name = "namespace"

    def __init__(self, options):
        self.options = options
        self.queue: WorkQueue | None = None
        self._discovered: tuple[float, list[Resource]] = (0.0, [])

    async def run(self, client, stop: asyncio.Event) -> None:
        self.client = client
        self.queue = WorkQueue(base_delay=0.5, max_delay=30.0)
        self.namespaces = Informer(client, "/api/v1/namespaces")
        self.namespaces.add_handlers(on_add=self._changed,
                                     on_update=lambda old, new: self._changed(new))
        await asyncio.gather(self.namespaces.run(stop),
                             process(self.queue, self.sync, stop, WORKERS, self.name))

    def _changed(self, namespace: dict) -> None:
        if namespace["metadata"].get("deletionTimestamp"):
            self.queue.add(namespace["metadata"]["name"])

    async def sync(self, name: str) -> None:
        namespace = self.namespaces.get("", name)
        if namespace is None or not namespace["metadata"].get("deletionTimestamp"):
            return
        if FINALIZER not in (namespace.get("spec") or {}).get("finalizers") or []:
            return  # finalized already: the server removes it, or others hold it

        outcome = await self.delete_content(name)
        await self._set_conditions(name, outcome)
        if outcome.errors or outcome.discovery_error:
            raise RuntimeError(f"namespace {name}: " + "; ".join(
                outcome.errors or [outcome.discovery_error]))
        if outcome.remaining:
            log.debug("namespace %s: content remaining %s", name, outcome.remaining)
            self.queue.add_after(name, min(outcome.estimate / 2 + 1, RECHECK_CAP))
            return

        await self._finalize(name)

    # Content.

    async def delete_content(self, namespace: str) -> Outcome:
        """Delete everything in ``namespace`` and report what is left."""
        outcome = Outcome()
        try:
            resources = await self.discover()
        except Exception as err:  # any failure: reported, then retried
            outcome.discovery_error = str(err)
            return outcome
        for resource in resources:
            try:
                await self._delete_resource(resource, namespace, outcome)
            except NotFound:
                continue  # the kind went away since discovery
            except Exception as err:
                outcome.errors.append(f"{resource.name}.{resource.group}: {err}")
        return outcome

    async def _delete_resource(self, resource: Resource, namespace: str,
                               outcome: Outcome) -> None:
        path = resource.path(namespace)
        # Background propagation, as kube's namespace deleter asks.
        options = {"apiVersion": "v1", "kind": "DeleteOptions",
                   "propagationPolicy": "Background"}
        if "deletecollection" in resource.verbs:
            await self.client.delete(path, options)
            items = (await self.client.get(path)).get("items") or []
        else:
            items = (await self.client.get(path)).get("items") or []
            for item in items:
                if not item["metadata"].get("deletionTimestamp"):
                    await self._delete_one(path, item, options)
            items = (await self.client.get(path)).get("items") or []
        if items:
            _count_remaining(resource, items, outcome)

    async def _delete_one(self, path: str, item: dict, options: dict) -> None:
        try:
            await self.client.delete(f"{path}/{quote(item['metadata']['name'])}",
                                     options)
        except NotFound:
            pass

    async def discover(self) -> list[Resource]:
        """Every namespaced resource that can be listed and deleted, once per
        group at its preferred version (discovery's answer, cached a while)."""
        fetched, resources = self._discovered
        if resources and time.monotonic() - fetched < DISCOVERY_TTL:
            return resources
        versions = ["v1"] if "v1" in (await self.client.get("/api")).get(
            "versions", []) else []
        for group in (await self.client.get("/apis")).get("groups") or []:
            preferred = (group.get("preferredVersion") or {}).get("groupVersion")
            if preferred:
                versions.append(preferred)
        resources = []
        for group_version in versions:
            prefix = "/api" if "/" not in group_version else "/apis"
            listed = await self.client.get(f"{prefix}/{group_version}")
            for entry in listed.get("resources") or []:
                verbs = frozenset(entry.get("verbs") or ())
                if (entry.get("namespaced") and "/" not in entry["name"]
                        and {"list", "delete"} <= verbs):
                    resources.append(Resource(group_version, entry["name"], verbs))
        self._discovered = (time.monotonic(), resources)
        return resources

    # The namespace itself.

    async def _set_conditions(self, name: str, outcome: Outcome) -> None:
        path = f"/api/v1/namespaces/{quote(name)}"
        wanted = _conditions(outcome)
        try:
            namespace = await self.client.get(path)
            for _ in range(5):
                status = namespace.setdefault("status", {})
                merged = _merge_conditions(status.get("conditions") or [], wanted)
                if merged == status.get("conditions"):
                    return
                status["conditions"] = merged
                try:
                    await self.client.replace(path + "/status", namespace)
                    return
                except Conflict:
                    namespace = await self.client.get(path)
        except NotFound:
            return

    async def _finalize(self, name: str) -> None:
        path = f"/api/v1/namespaces/{quote(name)}"
        for _ in range(5):
            try:
                namespace = await self.client.get(path)
            except NotFound:
                return
            spec = namespace.setdefault("spec", {})
            spec["finalizers"] = [f for f in spec.get("finalizers") or []
                                  if f != FINALIZER]
            try:
                await self.client.replace(path + "/finalize", namespace)
                break
            except Conflict:
                continue
            except NotFound:
                return
        else:
            raise Conflict(409, "Conflict", f"namespace {name} kept changing")
        log.info("namespace %s finalized", name)


def _count_remaining(resource: Resource, items: list[dict], outcome: Outcome) -> None:
    outcome.remaining[f"{resource.name}.{resource.group}"] = len(items)
    for item in items:
        meta = item["metadata"]
        for finalizer in meta.get("finalizers") or []:
            outcome.finalizers[finalizer] = outcome.finalizers.get(finalizer, 0) + 1
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = (item.get("spec") or {}).get("terminationGracePeriodSeconds") or 0
        outcome.estimate = max(outcome.estimate, float(grace))


def _conditions(outcome: Outcome) -> dict[str, tuple[str, str] | None]:
    """Each condition's failure (reason, message), or None when it is fine."""
    failed: dict[str, tuple[str, str] | None] = dict.fromkeys(CONDITION_OK)
    if outcome.discovery_error:
        failed["NamespaceDeletionDiscoveryFailure"] = (
            CONDITION_FAILED_REASON["NamespaceDeletionDiscoveryFailure"],
            outcome.discovery_error)
    if outcome.errors:
        errors = outcome.errors
        joined = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        failed["NamespaceDeletionContentFailure"] = (
            CONDITION_FAILED_REASON["NamespaceDeletionContentFailure"],
            f"Failed to delete all resource types, {len(errors)} remaining: {joined}")
    if outcome.remaining:
        listed = ", ".join(f"{resource} has {count} resource instances"
                           for resource, count in sorted(outcome.remaining.items()))
        failed["NamespaceContentRemaining"] = (
            CONDITION_FAILED_REASON["NamespaceContentRemaining"],
            f"Some resources are remaining: {listed}")
    if outcome.finalizers:
        listed = ", ".join(f"{finalizer} in {count} resource instances"
                           for finalizer, count in sorted(outcome.finalizers.items()))
        failed["NamespaceFinalizersRemaining"] = (
            CONDITION_FAILED_REASON["NamespaceFinalizersRemaining"],
            f"Some content in the namespace has finalizers remaining: {listed}")
    return failed


def _merge_conditions(current: list[dict],
                      wanted: dict[str, tuple[str, str] | None]) -> list[dict]:
    """``current`` with each of kube's five deletion conditions set; the
    lastTransitionTime moves only when a condition's status does."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    by_type = {c.get("type"): c for c in current}
    merged = [c for c in current if c.get("type") not in wanted]
    for kind, failure in wanted.items():
        status = "True" if failure else "False"
        reason, message = failure or CONDITION_OK[kind]
        old = by_type.get(kind) or {}
        since = old.get("lastTransitionTime") if old.get("status") == status else now
        merged.append({"type": kind, "status": status, "lastTransitionTime": since,
                       "reason": reason, "message": message})
    return merged
