"""kctl scale: set the size of a Deployment, ReplicaSet or ReplicationController.

It writes the scale subresource, as kubectl does: a merge patch of
spec.replicas, or with ``--current-replicas``/``--resource-version`` a read
of the Scale, the check, and an update guarded by its resourceVersion.
"""

from __future__ import annotations

import click

from kctl.client import Conflict
from kctl.errors import AlreadyReported, CommandError, UsageError
from kctl.options import connection_options, resource_args, session
from kctl.resources import (NO_RESOURCES, SELECTOR_WITHOUT_TYPE, object_path,
                             parse)

EXAMPLES = """
\b
Examples:
  kctl scale deployment/web --replicas=5
  kctl scale --current-replicas=2 --replicas=3 deployment/web
  kctl scale rs web-5d8f7c9b4 rc/legacy --replicas=0
  kctl scale deployments --all --replicas=1
  kctl scale deployments -l tier=web --replicas=3
"""


@click.command(epilog=EXAMPLES)
@resource_args
@click.option("--replicas", type=int, default=None,
              help="The new desired number of replicas. Required.")
@click.option("--current-replicas", type=int, default=-1,
              help="Precondition: the current size must be this (-1: no check).")
@click.option("--resource-version", default="",
              help="Precondition: the resourceVersion must be this.")
@click.option("-l", "--selector", default="",
              help="Scale the objects of the type whose labels match.")
@click.option("--all", "all_", is_flag=True,
              help="Scale every object of the type in the namespace.")
@connection_options
def scale(args, replicas, current_replicas, resource_version, selector, all_):
    """Set a new size for a Deployment, ReplicaSet or ReplicationController."""
    s = session()
    if replicas is None:
        raise UsageError('required flag(s) "replicas" not set')
    if replicas < 0:
        raise UsageError("The --replicas=COUNT flag is required, and COUNT must be "
                         "greater than or equal to 0")
    targets = _targets(s, args, selector, all_)
    if not targets:
        raise CommandError("no objects passed to scale")
    if resource_version and len(targets) > 1:
        raise UsageError("cannot use --resource-version with multiple resources")

    failed = False
    for resource, name in targets:
        path = object_path(resource, s.namespace, name, "scale")
        try:
            _scale(s, path, replicas, current_replicas, resource_version)
        except CommandError as err:
            if len(targets) == 1:
                raise
            s.warn(f"error: {err}")
            failed = True
            continue
        s.print(f"{resource.kind_name}/{name} scaled")
    if failed:
        raise AlreadyReported()


def _targets(s, args, selector: str, all_: bool) -> list[tuple[object, str]]:
    """(resource, name) of each object to scale, in kubectl's builder's order:
    names as given, else the type's objects by selector or --all."""
    if not args:
        raise CommandError(SELECTOR_WITHOUT_TYPE if selector else NO_RESOURCES)
    if selector and any("/" in arg for arg in args):
        raise UsageError("selectors and the all flag cannot be used when passing "
                         "resource/name arguments")
    targets = []
    for target in parse(list(args), s.discovery, "scale"):
        if target.names and selector:
            raise UsageError("name cannot be provided when a selector is specified")
        if target.names:
            targets += [(target.resource, name) for name in target.names]
        elif selector or all_:
            targets += [(target.resource, name)
                        for name in _listed(s, target.resource, selector)]
        else:
            raise UsageError("resource(s) were provided, but no name was "
                             "specified")
    return targets


def _listed(s, resource, selector: str) -> list[str]:
    listing = s.client.get(object_path(resource, s.namespace),
                           {"labelSelector": selector or None})
    return [item["metadata"]["name"] for item in listing.get("items") or []]


def _scale(s, path: str, replicas: int, current: int, version: str) -> None:
    if current < 0 and not version:
        s.client.request("PATCH", path, body={"spec": {"replicas": replicas}},
                         content_type="application/merge-patch+json")
        return
    scale_obj = s.client.get(path)
    actual = (scale_obj.get("spec") or {}).get("replicas", 0)
    if current >= 0 and actual != current:
        raise CommandError(f"Expected replicas to be {current}, was {actual}")
    actual_version = scale_obj["metadata"].get("resourceVersion", "")
    if version and actual_version != version:
        raise CommandError(f"Expected resource version to be {version}, was "
                           f"{actual_version}")
    scale_obj.setdefault("spec", {})["replicas"] = replicas
    try:
        s.client.request("PUT", path, body=scale_obj)
    except Conflict as err:
        raise CommandError(str(err)) from None
