"""kctl rollout pause|resume: set a Deployment's spec.paused, as kubectl does.

Every object is read first (a missing one fails the command before any
change, as kubectl's builder does); then each is patched in turn, its line
printed, and the refusals ("is already paused", "pausing is not supported")
come after, one ``error:`` line each, with exit 1.
"""

from __future__ import annotations

from kctl.errors import AlreadyReported, CommandError
from kctl.resources import object_path, parse


def set_paused(s, args, selector: str, all_: bool, paused: bool) -> None:
    verb = "paused" if paused else "resumed"
    errors = []
    for resource, obj in _objects(s, args, selector, all_):
        name = obj["metadata"]["name"]
        problem = _refusal(resource, obj, paused)
        if problem:
            errors.append(f'error: {_resource_string(resource)} "{name}" {problem}')
            continue
        s.client.request("PATCH", object_path(resource, s.namespace, name),
                         body={"spec": {"paused": paused}},
                         content_type="application/strategic-merge-patch+json")
        s.print(f"{resource.kind_name}/{name} {verb}")
    for line in errors:
        s.warn(line)
    if errors:
        raise AlreadyReported()


def _refusal(resource, obj: dict, paused: bool) -> str:
    if (resource.group, resource.kind) != ("apps", "Deployment"):
        return f"{'pausing' if paused else 'resuming'} is not supported"
    if bool((obj.get("spec") or {}).get("paused")) == paused:
        return "is already paused" if paused else "is not paused"
    return ""


def _resource_string(resource) -> str:
    return f"{resource.name}.{resource.group}" if resource.group else resource.name


def _objects(s, args, selector: str, all_: bool) -> list[tuple[object, dict]]:
    # kubectl's builder here takes a bare type as all of its objects.
    if not args:
        raise CommandError("required resource not specified")
    found = []
    for target in parse(list(args), s.discovery, verb="rollout"):
        if target.names:
            found += [(target.resource, s.client.get(
                object_path(target.resource, s.namespace, name)))
                for name in target.names]
            continue
        listing = s.client.get(object_path(target.resource, s.namespace),
                               {"labelSelector": selector or None})
        found += [(target.resource, item) for item in listing.get("items") or []]
    return found
