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
from kctl.resources import object_path, parse

EXAMPLES = """
\b
Examples:
  kctl scale deployment/web --replicas=5
  kctl scale --current-replicas=2 --replicas=3 deployment/web
  kctl scale rs web-5d8f7c9b4 rc/legacy --replicas=0
"""


@click.command(epilog=EXAMPLES)
@resource_args
@click.option("--replicas", type=int, default=None,
              help="The new desired number of replicas. Required.")
@click.option("--current-replicas", type=int, default=-1,
              help="Precondition: the current size must be this (-1: no check).")
@click.option("--resource-version", default="",
              help="Precondition: the resourceVersion must be this.")
@connection_options
def scale(args, replicas, current_replicas, resource_version):
    """Set a new size for a Deployment, ReplicaSet or ReplicationController."""
    s = session()
    if replicas is None:
        raise UsageError('required flag(s) "replicas" not set')
    if replicas < 0:
        raise UsageError("The --replicas=COUNT flag is required, and COUNT must be "
                         "greater than or equal to 0")
    targets = [(t.resource, name) for t in parse(list(args), s.discovery, "scale")
               for name in t.names or [None]]
    if any(name is None for _, name in targets):
        raise UsageError("resource(s) were provided, but no name was specified")
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
