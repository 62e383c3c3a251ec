"""kctl patch: a JSON, merge or strategic merge patch of one object."""

from __future__ import annotations

import click

from kctl.commands.create import dry_run_option, print_result
from kctl.errors import CommandError, UsageError
from kctl.options import connection_options, output_option, session, resource_args
from kctl.resources import NO_RESOURCES, object_path, parse

CONTENT_TYPES = {"json": "application/json-patch+json",
                 "merge": "application/merge-patch+json",
                 "strategic": "application/strategic-merge-patch+json"}

EXAMPLES = """
\b
Examples:
  kctl patch pod nginx -p '{"metadata":{"labels":{"tier":"web"}}}'
  kctl patch pod/nginx --type merge -p '{"spec":{"activeDeadlineSeconds":60}}'
  kctl patch pod nginx --type json -p '[{"op":"remove","path":"/metadata/labels/a"}]'
"""


@click.command(epilog=EXAMPLES)
@resource_args
@click.option("-p", "--patch", "patch_text", default="", help="The patch, JSON or "
              "YAML.")
@click.option("--patch-file", default="", help="A file holding the patch.")
@click.option("--type", "patch_type", default="strategic", show_default=True,
              help="json, merge or strategic.")
@click.option("--subresource", default="", help="status or scale.")
@dry_run_option
@output_option("json|yaml|name")
@connection_options
def patch(args, patch_text, patch_file, patch_type, subresource, dry_run, output):
    """Update fields of a resource."""
    s = session()
    body = _patch_body(patch_text, patch_file)
    if patch_type not in CONTENT_TYPES:
        raise UsageError(f"--type must be one of [json merge strategic], "
                         f'not "{patch_type}"')
    if not args:
        raise CommandError(NO_RESOURCES)
    targets = parse(list(args), s.discovery, verb="patch")
    if dry_run == "client":
        raise UsageError("--dry-run=client is not supported by patch; use server")
    query = {"dryRun": "All"} if dry_run == "server" else None
    for target in targets:
        if not target.names:
            raise UsageError("resource(s) were provided, but no name was specified")
        for name in target.names:
            path = object_path(target.resource, s.namespace, name,
                               subresource or None)
            before = s.client.get(path)
            after = s.client.request("PATCH", path, query, body=body,
                                     content_type=CONTENT_TYPES[patch_type]).json()
            unchanged = before["metadata"].get("resourceVersion") == \
                after["metadata"].get("resourceVersion")
            verb = "patched (no change)" if unchanged else "patched"
            print_result(s, output, after, target.resource.kind_name, verb, dry_run)


def _patch_body(text: str, path: str) -> bytes:
    if not text and not path:
        raise CommandError("must specify --patch or --patch-file containing the "
                           "contents of the patch")
    if text and path:
        raise UsageError("cannot specify both -p and --patch-file")
    if path:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    from kctl import jsonio

    try:
        return jsonio.dumps(jsonio.loads(text))
    except ValueError:
        pass
    from kctl.manifests import ManifestError, load_yaml

    try:
        return jsonio.dumps(load_yaml(text, 0))
    except ManifestError as exc:
        raise UsageError(f'unable to parse "{text}": {exc}') from None
