"""kctl set image: change container images of pods and workloads, as kubectl
does it: a strategic merge patch of the containers that change."""

from __future__ import annotations

import copy

import click

from kctl.client import APIError
from kctl.commands.create import dry_run_option, print_result
from kctl.commands.label import _items
from kctl.errors import AlreadyReported, CommandError
from kctl.options import connection_options, filename_options, output_option, session
from kctl.resources import NO_RESOURCES

STRATEGIC = "application/strategic-merge-patch+json"

EXAMPLES = """
\b
Examples:
  kctl set image deployment/web web=nginx:1.27
  kctl set image deployment/web '*=nginx:1.27'     # every container
  kctl set image -l app=web deployments sidecar=envoy:1.30
"""


@click.group(name="set")
def set_group():
    """Set specific features on objects."""


@set_group.command(epilog=EXAMPLES)
@click.argument("args", nargs=-1, metavar="(TYPE NAME | TYPE/NAME) "
                "CONTAINER=IMAGE...")
@filename_options
@click.option("-l", "--selector", default="", help="Label selector.")
@click.option("--all", "all_", is_flag=True, help="Every object of the type.")
@dry_run_option
@output_option("json|yaml|name")
@connection_options
def image(args, filenames, recursive, selector, all_, dry_run, output):
    """Update the image of containers of a pod template or pod."""
    s = session()
    resources = [a for a in args if "=" not in a]
    updates = dict(a.split("=", 1) for a in args if "=" in a)
    if not resources and not filenames:
        raise CommandError(NO_RESOURCES)
    if not updates:
        raise CommandError("at least one image update is required")
    failed = False
    for kind_name, path in _items(s, resources, filenames, recursive, selector,
                                  all_):
        try:
            _update(s, kind_name, path, updates, dry_run, output)
        except (CommandError, APIError) as exc:
            from kctl.main import describe_error

            s.warn(describe_error(exc)[0])
            failed = True
    if failed:
        raise AlreadyReported()


def pod_spec(obj: dict) -> dict | None:
    """The pod spec an object's images live in: a pod's own, a workload's
    template, a CronJob's job template."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return spec
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template")
    return template.get("spec") if isinstance(template, dict) else None


def set_images(obj: dict, updates: dict[str, str], where: str = "") -> dict:
    """A copy of ``obj`` with the images changed; CommandError for a
    container name no container has. ``where`` is resource/name."""
    changed = copy.deepcopy(obj)
    spec = pod_spec(changed)
    if spec is None:
        # kubectl names the Go type it could not find a pod template in.
        version = obj.get("apiVersion", "").rsplit("/", 1)[-1]
        raise CommandError(f"{where} the object is not a pod or does not have a "
                           f"pod template: *{version}.{obj.get('kind')}")
    containers = [c for key in ("initContainers", "containers")
                  for c in spec.get(key) or []]
    for name, image_name in updates.items():
        matched = [c for c in containers if name == "*" or c.get("name") == name]
        if not matched:
            raise CommandError(f'unable to find container named "{name}"')
        for container in matched:
            container["image"] = image_name
    return changed


def _update(s, kind_name: str, path: str, updates: dict, dry_run: str,
            output: str) -> None:
    from server import patch as patches

    current = s.client.get(path)
    modified = set_images(current, updates, "/".join(path.split("/")[-2:]))
    if modified == current:
        return  # nothing to change: kubectl prints nothing either
    if dry_run == "client":
        print_result(s, output, modified, kind_name, "image updated", dry_run)
        return
    patch = patches.create_two_way_merge_patch(current, modified, current["kind"])
    query = {"fieldManager": "kubectl-set"}
    if dry_run == "server":
        query["dryRun"] = "All"
    answer = s.client.request("PATCH", path, query, body=patch,
                              content_type=STRATEGIC).json()
    print_result(s, output, answer, kind_name, "image updated", dry_run)
