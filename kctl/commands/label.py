"""kctl label and kctl annotate: set or remove (``key-``) metadata keys."""

from __future__ import annotations

import click

from kctl import objects
from kctl.client import APIError
from kctl.commands.create import dry_run_option, print_result
from kctl.errors import AlreadyReported, CommandError, UsageError
from kctl.options import (connection_options, filename_options, output_option,
                          resource_args, session)
from kctl.resources import object_path, parse

MERGE = "application/merge-patch+json"


def _command(name: str, field: str, verb: str, examples: str):
    """label and annotate differ only in the metadata field and the words."""

    @click.command(name=name, epilog=examples)
    @resource_args
    @filename_options
    @click.option("--overwrite", is_flag=True,
                  help="Replace values that are already set.")
    @click.option("-l", "--selector", default="", help="Change every match.")
    @click.option("--all", "all_", is_flag=True, help="Change every object.")
    @click.option("--list", "list_", is_flag=True, help="Print the current keys.")
    @click.option("--resource-version", default="",
                  help="Only if the object is still at this resourceVersion.")
    @dry_run_option
    @output_option("json|yaml|name")
    @connection_options
    def command(args, filenames, recursive, overwrite, selector, all_, list_,
                resource_version, dry_run, output):
        s = session()
        resource_args, changes = _split(args)
        if not resource_args and not filenames:
            raise CommandError("one or more resources must be specified as "
                               "<resource> <name> or <resource>/<name>")
        sets, removals = _changes(changes)
        if not changes and not list_:
            raise CommandError(f"at least one {field[:-1]} update is required")
        items = _items(s, resource_args, filenames, recursive, selector, all_)
        failed = False
        for kind_name, path in items:
            try:
                _update(s, kind_name, path, field, verb, sets, removals, overwrite,
                        resource_version, dry_run, output, list_)
            except (CommandError, APIError) as exc:
                from kctl.main import describe_error

                s.warn(describe_error(exc)[0])
                failed = True
        if failed:
            raise AlreadyReported()

    return command


def _split(args) -> tuple[list[str], list[str]]:
    """Resource arguments first, then KEY=VALUE and KEY- (names never end in -)."""
    resources, changes = [], []
    for index, arg in enumerate(args):
        if "=" in arg or (index > 0 and arg.endswith("-")):
            changes.append(arg)
        else:
            resources.append(arg)
    return resources, changes


def _changes(changes: list[str]) -> tuple[dict, list[str]]:
    sets, removals = {}, []
    for change in changes:
        if change.endswith("-") and "=" not in change:
            removals.append(change[:-1])
            continue
        key, _, value = change.partition("=")
        if not key:
            raise UsageError(f"invalid label spec: {change}")
        sets[key] = value
    both = set(sets) & set(removals)
    if both:
        raise UsageError(f"can not both modify and remove the following label(s) "
                         f"in the same command: {', '.join(sorted(both))}")
    return sets, removals


def _items(s, resource_args, filenames, recursive, selector, all_):
    if filenames:
        found = []
        for manifest in objects.read(filenames, recursive):
            placed = objects.place(s, manifest)
            found.append((placed.resource.kind_name, placed.path()))
        return found
    found = []
    for target in parse(resource_args, s.discovery, verb="label"):
        if target.names:
            found += [(target.resource.kind_name,
                       object_path(target.resource, s.namespace, name))
                      for name in target.names]
        elif selector or all_:
            listing = s.client.get(object_path(target.resource, s.namespace),
                                   {"labelSelector": selector})
            found += [(target.resource.kind_name,
                       object_path(target.resource, s.namespace,
                                   item["metadata"]["name"]))
                      for item in listing.get("items") or []]
        else:
            raise UsageError("resource(s) were provided, but no name was specified")
    return found


def _update(s, kind_name, path, field, verb, sets, removals, overwrite,
            resource_version, dry_run, output, list_):
    obj = s.client.get(path)
    current = obj["metadata"].get(field) or {}
    name = f"{kind_name}/{obj['metadata']['name']}"
    if list_:
        for key, value in sorted(current.items()):
            s.print(f"{key}={value}")
        return
    if not overwrite:
        for key, value in sets.items():
            if key in current and current[key] != value:
                raise CommandError(f"'{key}' already has a value ({current[key]}), "
                                   f"and --overwrite is false")
    for key in removals:
        if key not in current:
            s.warn(f'{field[:-1]} "{key}" not found.')
    change = {k: v for k, v in sets.items() if current.get(k) != v}
    change.update({k: None for k in removals if k in current})
    if not change:
        s.print(f"{name} not {verb}")
        return
    body = {"metadata": {field: change}}
    if resource_version:
        body["metadata"]["resourceVersion"] = resource_version
    if dry_run == "client":
        return print_result(s, output, obj, kind_name, verb, dry_run)
    query = {"dryRun": "All"} if dry_run == "server" else None
    answer = s.client.request("PATCH", path, query, body=body,
                              content_type=MERGE).json()
    after = answer["metadata"].get(field) or {}
    print_result(s, output, answer, kind_name,
                 _verb(verb, current, after, overwrite), dry_run)


def _verb(verb: str, before: dict, after: dict, overwrite: bool) -> str:
    """kubectl says "unlabeled" when, without --overwrite, the labels shrank
    (it compares the lengths of their JSON)."""
    import json

    if verb != "labeled" or overwrite:
        return verb
    if len(json.dumps(after, separators=(",", ":"))) < len(
            json.dumps(before, separators=(",", ":"))):
        return "unlabeled"
    return verb


label = _command("label", "labels", "labeled", """
\b
Examples:
  kctl label pods nginx tier=web
  kctl label pod/nginx tier=db --overwrite
  kctl label pods --all tier-
""")
label.help = "Update the labels on a resource."

annotate = _command("annotate", "annotations", "annotated", """
\b
Examples:
  kctl annotate pods nginx description='my web server'
  kctl annotate pod/nginx description-
""")
annotate.help = "Update the annotations on a resource."
