"""kctl apply -f: client-side apply, as kubectl does it.

Each object is stored with the ``kubectl.kubernetes.io/last-applied-configuration``
annotation holding what was applied. The next apply diffs three ways: what was
applied last (original), what is applied now (modified) and what the server
has (current), so fields set by others survive and fields removed from the
manifest are removed. The diff is a strategic merge patch from server.patch.

With --server-side the server does the merge: each object is sent whole as
an apply patch, and the server keeps which manager owns which field.
"""

from __future__ import annotations

import copy
import json

import click

from kctl import objects
from kctl.client import APIError, NotFound
from kctl.commands.create import (dry_run_option, print_result, validate_option,
                                  write_query)
from kctl.errors import AlreadyReported, CommandError
from kctl.options import connection_options, filename_options, output_option, session

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
APPLY = "application/apply-patch+yaml"
# kubectl's manager name, so that kctl and kubectl applying the same
# manifests take turns without conflicting with each other.
FIELD_MANAGER = "kubectl"

CONFLICT_HINT = (
    "The fields above are owned by other managers. Rerun with --force-conflicts "
    "to take them over, or leave them out of the manifest (or give them their "
    "current values, to share them) to keep their managers.")

EXAMPLES = """
\b
Examples:
  kctl apply -f pod.yaml
  kctl apply -f ./manifests -R
  kctl apply -f deployment.yaml --dry-run=server -o yaml
  kctl apply --server-side -f ./manifests -R
"""


@click.command(epilog=EXAMPLES)
@filename_options
@dry_run_option
@validate_option
@output_option("json|yaml|name")
@click.option("--server-side", is_flag=True,
              help="Let the server merge the configuration (server-side apply).")
@click.option("--force-conflicts", is_flag=True,
              help="With --server-side: take over fields other managers own.")
@click.option("--field-manager", default=FIELD_MANAGER, show_default=True,
              help="With --server-side: the manager the applied fields belong to.")
@connection_options
def apply(filenames, recursive, dry_run, validate, output, server_side,
          force_conflicts, field_manager):
    """Apply a configuration to resources from files or stdin."""
    if force_conflicts and not server_side:
        raise CommandError("--force-conflicts only works with --server-side")
    if server_side and dry_run == "client":
        raise CommandError("--dry-run=client doesn't work with --server-side "
                           "(did you mean --dry-run=server instead?)")
    s = session()
    failed = False
    for manifest in objects.read(filenames, recursive):
        try:
            placed = objects.place(s, manifest)
        except CommandError as exc:
            s.warn(f"error: {exc}")
            failed = True
            continue
        if server_side:
            ok = _server_side(s, placed, dry_run, validate, output,
                              field_manager, force_conflicts)
        else:
            ok = _apply_one(s, placed, dry_run, validate, output)
        failed |= not ok
    if failed:
        raise AlreadyReported()


def _server_side(s, placed: objects.Placed, dry_run: str, validate: str,
                 output: str, manager: str, force: bool) -> bool:
    from kctl.main import server_error_line

    if placed.namespace:
        placed.obj["metadata"]["namespace"] = placed.namespace
    if not placed.name:
        s.warn(f"error: error when retrieving current configuration of "
               f"{placed.where()}: resource name may not be empty")
        return False
    query = write_query(dry_run, validate)
    query["fieldManager"] = manager
    if force:
        query["force"] = "true"
    try:
        answer = s.client.request("PATCH", placed.path(), query, body=placed.obj,
                                  content_type=APPLY).json()
    except APIError as exc:
        if exc.code == 409 and exc.reason == "Conflict" and not force:
            s.warn(f"error: {exc}\n{CONFLICT_HINT}")
        else:
            s.warn(server_error_line(exc))
        return False
    print_result(s, output, answer, placed.resource.kind_name,
                 "serverside-applied", dry_run)
    return True


def with_last_applied(obj: dict) -> dict:
    """The object to send: itself plus the annotation recording it."""
    applied = copy.deepcopy(obj)
    # kubectl records the annotations map even when it is empty: it sets
    # the annotations, less its own, before encoding.
    metadata = applied.setdefault("metadata", {})
    metadata["annotations"] = metadata.get("annotations") or {}
    metadata["annotations"].pop(LAST_APPLIED, None)
    # kubectl writes the annotation as compact JSON with sorted keys and a
    # final newline (its encoder's).
    recorded = json.dumps(applied, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False) + "\n"
    modified = copy.deepcopy(obj)
    modified.setdefault("metadata", {}).setdefault("annotations", {})
    modified["metadata"]["annotations"][LAST_APPLIED] = recorded
    return modified


def _apply_one(s, placed: objects.Placed, dry_run: str, validate: str,
               output: str) -> bool:
    if placed.namespace:
        placed.obj["metadata"]["namespace"] = placed.namespace
    if not placed.name:
        s.warn(f"error: error when retrieving current configuration of "
               f"{placed.where()}: resource name may not be empty")
        return False
    modified = with_last_applied(placed.obj)
    kind_name = placed.resource.kind_name
    query = write_query(dry_run, validate)
    try:
        current = s.client.get(placed.path())
    except NotFound:
        current = None
    except APIError as exc:
        s.warn(objects.failure_line(exc, "retrieving current configuration of",
                                    placed))
        return False
    try:
        if current is None:
            answer = modified if dry_run == "client" else s.client.request(
                "POST", placed.path(named=False), query, body=modified).json()
            verb = "created"
        else:
            answer, verb = _patch(s, placed, modified, current, dry_run, query)
    except APIError as exc:
        s.warn(objects.failure_line(exc, "applying patch to" if current else
                                    "creating", placed))
        return False
    print_result(s, output, answer, kind_name, verb, dry_run)
    return True


def _patch(s, placed, modified, current, dry_run, query, quiet=False):
    from server import patch as patches

    annotations = (current.get("metadata") or {}).get("annotations") or {}
    original = json.loads(annotations[LAST_APPLIED]) \
        if LAST_APPLIED in annotations else None
    if original is None and not quiet:
        s.warn(f"Warning: resource {placed.resource.name}/{placed.name} is missing "
               f"the {LAST_APPLIED} annotation which is required by kctl apply. "
               f"The missing annotation will be patched automatically.")
    kind = placed.resource.kind
    # Custom resources take no strategic merge patch; kubectl sends them a
    # JSON merge patch built the same three-way.
    group = placed.resource.group
    built_in = "." not in group or group.endswith(".k8s.io")
    if built_in and patches.supports_strategic(kind):
        patch = patches.create_three_way_merge_patch(original, modified, current,
                                                     kind)
        content_type = STRATEGIC
    else:
        patch = patches.create_three_way_json_merge_patch(original, modified,
                                                          current)
        content_type = MERGE
    if not patch:
        return current, "unchanged"
    if dry_run == "client":
        return modified, "configured"
    answer = s.client.request("PATCH", placed.path(), query, body=patch,
                              content_type=content_type).json()
    return answer, "configured"
