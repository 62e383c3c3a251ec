"""The endpoints controller: an Endpoints object per Service with a selector.

As kube's pkg/controller/endpoint does: the Endpoints of a Service share its
name and labels and list the selected pods that have an IP, the ready ones
under ``addresses`` and the others under ``notReadyAddresses`` (all under
``addresses`` when the service publishes not-ready addresses), each with a
targetRef to its pod and its nodeName. Every service port is resolved against
each pod (a named targetPort is the container port of that name), and pods
resolving to the same ports share a subset. A Service without a selector is
left alone: its Endpoints are someone else's to write.

The same sync keeps the Service's EndpointSlices, as kube's endpointslice
controller does (controllers.endpointslices): kubectl 1.32 and later read a
Service's endpoints from those. They are owned by the Service, and go with
it through the garbage collector.
"""

from __future__ import annotations

import asyncio
import logging

from controllers import endpointslices
from controllers.client import APIError, NotFound
from controllers.endpointslices import target_port
from controllers.informer import Informer, object_key, split_key
from controllers.replicapods import is_ready
from controllers.workqueue import WorkQueue, process

log = logging.getLogger("controllers.endpoints")

WORKERS = 5
SLICES = "/apis/discovery.k8s.io/v1/endpointslices"
SLICES_IN = "/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"
HEADLESS_LABEL = "service.kubernetes.io/headless"


class EndpointsController:
    name = "endpoints"

    def __init__(self, options):
        self.options = options

    async def run(self, client, stop: asyncio.Event) -> None:
        self.client = client
        self.queue = WorkQueue()
        self.services = Informer(client, "/api/v1/services")
        self.pods = Informer(client, "/api/v1/pods")
        self.endpoints = Informer(client, "/api/v1/endpoints")
        self.slices = Informer(client, SLICES, params={
            "labelSelector": f"{endpointslices.MANAGED_BY_LABEL}="
                             f"{endpointslices.MANAGED_BY}"})
        self.services.add_handlers(self._enqueue, lambda old, new: self._enqueue(new),
                                   self._enqueue)
        self.pods.add_handlers(self._pod_changed,
                               lambda old, new: self._pod_changed(new, old),
                               self._pod_changed)
        # Endpoints removed or edited by hand are put back.
        self.endpoints.add_handlers(None, lambda old, new: self._enqueue(new),
                                    self._enqueue)
        self.slices.add_handlers(None, lambda old, new: self._slice_changed(new),
                                 self._slice_changed)
        informers = (self.services, self.pods, self.endpoints, self.slices)
        tasks = [asyncio.create_task(i.run(stop)) for i in informers]
        await asyncio.gather(*(i.wait_synced() for i in informers))
        await process(self.queue, self.sync, stop, WORKERS, self.name)
        await asyncio.gather(*tasks)

    def _enqueue(self, obj: dict) -> None:
        self.queue.add(object_key(obj))

    def _slice_changed(self, endpoint_slice: dict) -> None:
        meta = endpoint_slice["metadata"]
        service = (meta.get("labels") or {}).get(endpointslices.SERVICE_NAME_LABEL)
        if service:
            self.queue.add(f"{meta.get('namespace', '')}/{service}")

    def _pod_changed(self, pod: dict, old: dict | None = None) -> None:
        meta = pod["metadata"]
        label_sets = [meta.get("labels") or {}]
        if old is not None:
            label_sets.append(old["metadata"].get("labels") or {})
        for service in self.services.list(meta.get("namespace", "")):
            selector = (service.get("spec") or {}).get("selector")
            if selector and any(_selects(selector, labels) for labels in label_sets):
                self._enqueue(service)

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        service = self.services.get_key(key)
        if service is None:
            await self._delete(namespace, name)
            return
        selector = (service.get("spec") or {}).get("selector")
        if not selector:
            return
        pods = [p for p in self.pods.list(namespace)
                if _selects(selector, p["metadata"].get("labels") or {})]
        wanted = endpoints_for(service, pods)
        await self._write(self.endpoints.get_key(key), wanted)
        await self._write_slices(service, pods)

    async def _write_slices(self, service: dict, pods: list[dict]) -> None:
        if service["spec"].get("type") == "ExternalName":
            return  # kube's controller gives these no slices (issue 105986)
        namespace, name = split_key(object_key(service))
        path = SLICES_IN.format(namespace=namespace)
        # Listed from the server, not the informer: a slice just created may
        # not be in its cache yet, and would be made twice.
        listed = await self.client.get(path, params={"labelSelector": (
            f"{endpointslices.SERVICE_NAME_LABEL}={name},"
            f"{endpointslices.MANAGED_BY_LABEL}={endpointslices.MANAGED_BY}")})
        todo = endpointslices.plan(service, pods, listed.get("items") or [])
        try:
            for body in todo.create:
                await self.client.create(path, body)
            for body in todo.update:
                await self.client.replace(f"{path}/{body['metadata']['name']}", body)
        except APIError as err:
            if err.code == 403:  # the namespace is being terminated
                return
            raise
        for body in todo.delete:
            try:
                await self.client.delete(f"{path}/{body['metadata']['name']}")
            except NotFound:
                pass

    async def _write(self, current: dict | None, wanted: dict) -> None:
        meta = wanted["metadata"]
        path = f"/api/v1/namespaces/{meta['namespace']}/endpoints"
        if current is None:
            try:
                await self.client.create(path, wanted)
            except APIError as err:
                if err.code == 403:  # the namespace is being terminated
                    return
                raise
            return
        if (current.get("subsets") or []) == wanted["subsets"] and (
                current["metadata"].get("labels") or {}) == (meta.get("labels") or {}):
            return
        body = {**current, "subsets": wanted["subsets"],
                "metadata": {**current["metadata"], "labels": meta.get("labels")}}
        body.update(apiVersion="v1", kind="Endpoints")
        await self.client.replace(f"{path}/{meta['name']}", body)

    async def _delete(self, namespace: str, name: str) -> None:
        if self.endpoints.get(namespace, name) is None:
            return
        try:
            await self.client.delete(f"/api/v1/namespaces/{namespace}/endpoints/{name}")
        except NotFound:
            pass


def _selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def endpoints_for(service: dict, pods: list[dict]) -> dict:
    """The Endpoints object ``service`` should have, given its selected pods."""
    spec = service.get("spec") or {}
    publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
    subsets: dict[tuple, dict] = {}
    for pod in sorted(pods, key=lambda p: (p.get("status") or {}).get("podIP", "")):
        if not _in_endpoints(pod, publish_not_ready):
            continue
        address = _address(pod)
        ready = publish_not_ready or is_ready(pod)
        for ports in _port_sets(spec, pod):
            subset = subsets.setdefault(tuple(sorted(
                (p.get("name", ""), p["port"], p["protocol"]) for p in ports)),
                {"ports": ports})
            subset.setdefault("addresses" if ready else "notReadyAddresses",
                              []).append(address)
    meta = service["metadata"]
    labels = dict(meta.get("labels") or {})
    if spec.get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    ordered = [subsets[k] for k in sorted(subsets)]
    for subset in ordered:
        if not subset["ports"]:
            del subset["ports"]  # a headless service without ports
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                         "labels": labels or None},
            "subsets": ordered}


def _in_endpoints(pod: dict, publish_not_ready: bool) -> bool:
    """kube's ShouldPodBeInEndpoints: an IP, not finished, not terminating."""
    status = pod.get("status") or {}
    if not status.get("podIP"):
        return False
    if status.get("phase") in ("Succeeded", "Failed"):
        return False
    return publish_not_ready or not pod["metadata"].get("deletionTimestamp")


def _address(pod: dict) -> dict:
    meta = pod["metadata"]
    address = {"ip": pod["status"]["podIP"],
               "targetRef": {"kind": "Pod", "namespace": meta["namespace"],
                             "name": meta["name"], "uid": meta["uid"]}}
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        address["nodeName"] = node
    return address


def _port_sets(spec: dict, pod: dict) -> list[list[dict]]:
    """The ports ``pod`` serves the service on: one list, or none when a port
    cannot be resolved for this pod (kube leaves such a pod out of that port)."""
    # TODO: ports keep the service's order; kube sorts a subset's ports by a
    # hash of each port object (SortSubsets), an order not worth copying.
    ports = []
    for service_port in spec.get("ports") or []:
        number = target_port(service_port, pod)
        if number is None:
            log.debug("pod %s has no port %s", object_key(pod),
                      service_port.get("targetPort"))
            continue
        port = {"port": number, "protocol": service_port.get("protocol", "TCP")}
        if service_port.get("name"):
            port["name"] = service_port["name"]
        if service_port.get("appProtocol"):
            port["appProtocol"] = service_port["appProtocol"]
        ports.append(port)
    if spec.get("ports") and not ports:
        return []
    return [ports]
