"""kctl describe: one readable page per object, with its events."""

from __future__ import annotations

import click

from kctl.client import APIError, NotFound
from kctl.errors import AlreadyReported
from kctl.options import bool_flag, connection_options, session, resource_args
from kctl.resources import object_path, parse

EXAMPLES = """
\b
Examples:
  kctl describe pod nginx
  kctl describe pods/nginx nodes/node1
  kctl describe pods -l app=web
"""


@click.command(epilog=EXAMPLES)
@resource_args
@click.option("-l", "--selector", default="", help="Describe every match.")
@click.option("-A", "--all-namespaces", is_flag=True)
@bool_flag("--show-events", True, "Show the events related to the object.")
@connection_options
def describe(args, selector, all_namespaces, show_events):
    """Show details of a specific resource or group of resources."""
    from kctl.describe import describe as render

    s = session()
    targets = parse(list(args), s.discovery, verb="describe")
    failed, pages = False, []
    for target in targets:
        for obj in _objects(s, target, selector, all_namespaces):
            if obj is None:
                failed = True
                continue
            events = _events(s, obj) if show_events else None
            pages.append(render(obj, target.resource.group,
                                target.resource.namespaced, events,
                                _related(s, obj, target.resource.group)))
    # kubectl writes "\n\n" before each page after the first, and each page
    # ends in a newline: two blank lines between pages.
    s.out.write("\n\n".join(page.rstrip("\n") + "\n" for page in pages))
    if not pages and not failed:
        namespaced = any(t.resource.namespaced for t in targets)
        s.warn(f"No resources found in {s.namespace} namespace." if namespaced
               else "No resources found")
    if failed:
        raise AlreadyReported()


def _objects(s, target, selector, all_namespaces):
    if target.names:
        for name in target.names:
            try:
                yield s.client.get(object_path(target.resource, s.namespace, name))
            except NotFound as exc:
                from kctl.main import server_error_line

                s.warn(server_error_line(exc))
                yield None
        return
    namespace = None if all_namespaces else s.namespace
    listing = s.client.get(object_path(target.resource, namespace),
                           {"labelSelector": selector})
    kind = listing.get("kind", "").removesuffix("List")
    for item in listing.get("items") or []:
        item.setdefault("kind", kind)
        item.setdefault("apiVersion", listing.get("apiVersion"))
        yield item


def _related(s, obj: dict, group: str) -> dict:
    """What a page shows besides the object: a Deployment's ReplicaSets, a
    controller's pods, a Service's Endpoints. Missing ones leave it out."""
    kind, meta = obj.get("kind"), obj.get("metadata") or {}
    base = f"/api/v1/namespaces/{meta.get('namespace')}"
    try:
        if (group, kind) == ("", "Service"):
            return {"endpoints": s.client.get(f"{base}/endpoints/{meta['name']}")}
        if (group, kind) == ("apps", "Deployment"):
            path = f"/apis/apps/v1/namespaces/{meta.get('namespace')}/replicasets"
            return {"replicasets": _owned(s, path, obj)}
        if (group, kind) in (("apps", "ReplicaSet"), ("", "ReplicationController")):
            return {"pods": _owned(s, f"{base}/pods", obj)}
        if (group, kind) == ("", "ServiceAccount"):
            return {"secrets": s.client.get(f"{base}/secrets").get("items") or []}
    except APIError:
        pass
    if (group, kind) == ("", "Node"):
        return _node_related(s, meta["name"])
    return {}


def _node_related(s, name: str) -> dict:
    related = {}
    try:
        related["lease"] = s.client.get(
            f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}")
    except APIError as exc:
        related["lease_error"] = str(exc)
    try:
        related["pods"] = s.client.get("/api/v1/pods", {"fieldSelector": (
            f"spec.nodeName={name},status.phase!=Succeeded,"
            f"status.phase!=Failed")}).get("items") or []
    except APIError:
        pass
    return related


def _owned(s, path: str, owner: dict) -> list[dict]:
    """The objects at ``path`` whose controller is ``owner``."""
    uid = (owner.get("metadata") or {}).get("uid")
    items = s.client.get(path).get("items") or []
    return [item for item in items
            if any(ref.get("controller") and ref.get("uid") == uid
                   for ref in (item.get("metadata") or {}).get("ownerReferences")
                   or [])]


def _events(s, obj: dict) -> list[dict]:
    """The events whose involvedObject is this object (by uid when known).

    A Node's are searched in every namespace twice, as kubectl does: the
    node controller names the node by its uid, the kubelet by its name."""
    meta = obj.get("metadata") or {}
    if obj.get("kind") == "Node":
        found = {}
        for uid in (meta.get("uid"), meta.get("name")):
            for event in _search(s, "/api/v1/events", dict(meta, uid=uid)):
                found.setdefault(_event_key(event), event)
        return list(found.values())
    path = f"/api/v1/namespaces/{meta.get('namespace') or 'default'}/events"
    return _search(s, path, meta)


def _event_key(event: dict) -> tuple:
    meta = event.get("metadata") or {}
    return meta.get("namespace"), meta.get("name")


def _search(s, path: str, meta: dict) -> list[dict]:
    selector = ",".join(f"involvedObject.{k}={v}" for k, v in (
        ("name", meta.get("name")), ("namespace", meta.get("namespace")),
        ("uid", meta.get("uid"))) if v)
    try:
        items = s.client.get(path, {"fieldSelector": selector}).get("items") or []
    except APIError:
        # A server without those selectable fields: filter here instead.
        try:
            items = s.client.get(path).get("items") or []
        except APIError:
            return []
    return [e for e in items if _about(e, meta)]
def _about(event: dict, meta: dict) -> bool:
    involved = event.get("involvedObject") or event.get("regarding") or {}
    if involved.get("uid") and meta.get("uid"):
        return involved["uid"] == meta["uid"]
    return involved.get("name") == meta.get("name")
