"""kctl expose: a Service in front of a pod, service, replication controller,
deployment or replica set, with the selector and ports read off the object
as kubectl reads them."""

from __future__ import annotations

import click

from kctl.commands.create import (dry_run_option, print_result, validate_option,
                                  write_query)
from kctl.commands.imperative import pairs
from kctl.errors import CommandError
from kctl.options import connection_options, output_option, resource_args, session
from kctl.resources import object_path, parse

EXAMPLES = """
\b
Examples:
  kctl expose deployment web --port=80 --target-port=8000
  kctl expose pod solo --port=8080 --name=solo-http
  kctl expose rc legacy --type=NodePort
"""

EXPOSABLE = ("Pod", "Service", "ReplicationController", "Deployment", "ReplicaSet")


def selector_of(obj: dict) -> dict:
    """The pod selector of ``obj``, as kubectl's MapBasedSelectorForObject."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if not labels:
            raise CommandError("couldn't retrieve selectors via --selector flag or "
                               "introspection: the pod has no labels and cannot "
                               "be exposed")
        return dict(labels)
    if kind in ("Service", "ReplicationController"):
        selector = spec.get("selector") or {}
        if not selector:
            what = "service has no pod selector set" if kind == "Service" else \
                "replication controller has no selector"
            raise CommandError("couldn't retrieve selectors via --selector flag or "
                               f"introspection: the {what}")
        return dict(selector)
    selector = spec.get("selector") or {}
    if selector.get("matchExpressions"):
        raise CommandError("couldn't retrieve selectors via --selector flag or "
                           "introspection: couldn't convert expressions - "
                           f'"{selector["matchExpressions"]}" to map-based '
                           "selector format")
    return dict(selector.get("matchLabels") or {})


def ports_of(obj: dict) -> list[dict]:
    """(port, protocol) of every port the object's pods or service declare."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Service":
        # A service in front of a service sends to its ports, not its targets.
        return [{"port": p.get("port"), "protocol": p.get("protocol", "TCP"),
                 "targetPort": p.get("port")} for p in spec.get("ports") or []]
    pod_spec = spec if kind == "Pod" else ((spec.get("template") or {}).get(
        "spec") or {})
    found = []
    for container in pod_spec.get("containers") or []:
        for port in container.get("ports") or []:
            number = port.get("containerPort")
            found.append({"port": number, "protocol": port.get("protocol", "TCP"),
                          "targetPort": number})
    return found


def service_for(obj: dict, name: str, port: str, target_port: str, protocol: str,
                labels: str, selector: str, service_type: str, cluster_ip: str,
                external_ip: str, session_affinity: str) -> dict:
    meta = obj.get("metadata") or {}
    chosen_selector = pairs(selector, "selector") if selector else selector_of(obj)
    if port:
        if not port.isdigit():
            raise CommandError(f'strconv.Atoi: parsing "{port}": invalid syntax')
        number = int(port)
        target: int | str = number
        if target_port:
            target = int(target_port) if target_port.isdigit() else target_port
        ports = [{"protocol": protocol or "TCP", "port": number,
                  "targetPort": target}]
    else:
        found = ports_of(obj)
        if not found:
            raise CommandError("couldn't find port via --port flag or introspection")
        ports = []
        for index, item in enumerate(found, 1):
            entry: dict = {}
            if len(found) > 1:
                entry["name"] = f"port-{index}"
            target = item["targetPort"]
            if target_port:
                target = int(target_port) if target_port.isdigit() else target_port
            entry.update({"protocol": protocol or item["protocol"],
                          "port": item["port"], "targetPort": target})
            ports.append(entry)
    service_labels = pairs(labels, "label") if labels else dict(
        meta.get("labels") or {})
    out_meta: dict = {"name": name or meta.get("name", ""), "creationTimestamp": None}
    if service_labels:
        out_meta["labels"] = service_labels
    spec: dict = {"ports": ports, "selector": chosen_selector}
    if service_type:
        spec["type"] = service_type
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    if external_ip:
        spec["externalIPs"] = [external_ip]
    if session_affinity:
        spec["sessionAffinity"] = session_affinity
    return {"kind": "Service", "apiVersion": "v1", "metadata": out_meta,
            "spec": spec, "status": {"loadBalancer": {}}}


@click.command(epilog=EXAMPLES)
@resource_args
@click.option("--port", default="", help="The port the service serves on "
              "(default: the ports of the object's containers).")
@click.option("--target-port", default="", help="The container port (number "
              "or name) to send to (default: the same as --port).")
@click.option("--protocol", default="", help="TCP, UDP or SCTP (default TCP).")
@click.option("--name", default="", help="The service's name (default: the "
              "object's).")
@click.option("-l", "--labels", default="", help="The service's labels "
              "(default: the object's).")
@click.option("--selector", default="", help="The pod selector (default: the "
              "object's).")
@click.option("--type", "service_type", default="",
              help="ClusterIP, NodePort, LoadBalancer or ExternalName.")
@click.option("--cluster-ip", default="", help='The cluster IP ("None": '
              "headless).")
@click.option("--external-ip", default="", help="An external IP for the service.")
@click.option("--session-affinity", default="", help="None or ClientIP.")
@dry_run_option
@validate_option
@output_option("json|yaml|name")
@connection_options
def expose(args, port, target_port, protocol, name, labels, selector,
           service_type, cluster_ip, external_ip, session_affinity, dry_run,
           validate, output):
    """Expose a resource as a new Kubernetes service."""
    s = session()
    targets = [(t.resource, n) for t in parse(list(args), s.discovery, "expose")
               for n in t.names or [None]]
    if any(n is None for _, n in targets):
        raise CommandError("resource(s) were provided, but no name was specified")
    for resource, object_name in targets:
        if resource.kind not in EXPOSABLE:
            raise CommandError(f"cannot expose a {resource.kind}")
        obj = s.client.get(object_path(resource, s.namespace, object_name))
        service = service_for(obj, name, port, target_port, protocol, labels,
                              selector, service_type, cluster_ip, external_ip,
                              session_affinity)
        if s.overrides.namespace:
            # kubectl names the namespace in the object when -n named it.
            service["metadata"]["namespace"] = s.namespace
        if dry_run == "client":
            print_result(s, output, service, "service", "exposed", dry_run)
            continue
        answer = s.client.request(
            "POST", f"/api/v1/namespaces/{s.namespace}/services",
            write_query(dry_run, validate), body=service).json()
        print_result(s, output, answer, "service", "exposed", dry_run)
