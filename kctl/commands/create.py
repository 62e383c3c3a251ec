"""kctl create -f: post each object from files, directories, stdin or URLs."""

from __future__ import annotations

import click

from kctl import objects, printers
from kctl.client import APIError
from kctl.errors import AlreadyReported, CommandError, UsageError
from kctl.options import connection_options, filename_options, output_option, session

EXAMPLES = """
\b
Examples:
  kctl create -f pod.yaml
  kctl create -f ./manifests -R
  cat pod.json | kctl create -f -
  kctl create -f pod.yaml --dry-run=server -o yaml
  kctl create namespace dev
  kctl create configmap settings --from-literal=level=debug
  kctl create deployment web --image=nginx:1.25 --replicas=3
"""


class CreateGroup(click.Group):
    """``create -f`` itself, or ``create KIND NAME`` built from flags
    (kctl.commands.imperative, imported only when named)."""

    def list_commands(self, ctx):
        return ["configmap", "deployment", "namespace", "secret", "service"]

    def get_command(self, ctx, name):
        from kctl.commands.imperative import SUBCOMMANDS

        return SUBCOMMANDS.get(name)


DRY_RUNS = ("none", "client", "server")


def _check_dry_run(ctx, param, value: str) -> str:
    if value not in DRY_RUNS:
        # kubectl's GetDryRunStrategy words it so, a failed command (exit 1).
        raise CommandError(f'Invalid dry-run value ({value}). Must be "none", '
                           f'"server", or "client".')
    return value


def dry_run_option(func):
    # TODO: a bare --dry-run (kubectl's deprecated spelling of client) is not
    # taken: click would consume the next argument as its value.
    return click.option(
        "--dry-run", default="none", callback=_check_dry_run,
        metavar="[none|client|server]", help="Only show what would be sent "
        "(client) or what the server would store (server).")(func)


# --validate -> the fieldValidation kubectl asks the server for.
_FIELD_VALIDATION = {"strict": "Strict", "true": "Strict", "warn": "Warn",
                     "ignore": "Ignore", "false": "Ignore"}


def validate_option(func):
    return click.option(
        "--validate", type=click.Choice(list(_FIELD_VALIDATION)), default="strict",
        show_default=True, help="How the server treats unknown or duplicate "
        "fields: strict refuses them, warn only warns, ignore drops them.")(func)


def write_query(dry_run: str, validate: str) -> dict:
    """The query of a create or patch: server dry run and field validation."""
    query = {"fieldValidation": _FIELD_VALIDATION[validate]}
    if dry_run == "server":
        query["dryRun"] = "All"
    return query


def suffix(dry_run: str) -> str:
    return {"client": " (dry run)", "server": " (server dry run)"}.get(dry_run, "")


def print_result(s, output: str, obj: dict, kind_name: str, verb: str,
                 dry_run: str) -> None:
    """`pod/nginx created`, or the object in the -o format."""
    if output == "json":
        s.out.write(printers.to_json(obj))
    elif output == "yaml":
        s.out.write(printers.to_yaml(obj))
    elif output == "name":
        s.print(printers.name_of(obj, kind_name))
    elif output:
        raise UsageError(f'unable to match a printer suitable for the output '
                         f'format "{output}", allowed formats are: json,name,yaml')
    else:
        s.print(f"{printers.name_of(obj, kind_name)} {verb}{suffix(dry_run)}")


@click.group(cls=CreateGroup, epilog=EXAMPLES, invoke_without_command=True)
@filename_options
@dry_run_option
@validate_option
@output_option("json|yaml|name")
@connection_options
@click.pass_context
def create(ctx, filenames, recursive, dry_run, validate, output):
    """Create resources from files or stdin, or one object from flags."""
    if ctx.invoked_subcommand is not None:
        return
    s = session()
    if output not in ("", "json", "yaml", "name"):
        raise UsageError(f'unable to match a printer suitable for the output '
                         f'format "{output}", allowed formats are: json,name,yaml')

    failed = False
    for manifest in objects.read(filenames, recursive):
        try:
            placed = objects.place(s, manifest)
        except CommandError as exc:
            s.warn(f"error: {exc}")
            failed = True
            continue
        failed |= not _create_one(s, placed, dry_run, validate, output)
    if failed:
        raise AlreadyReported()


def _create_one(s, placed: objects.Placed, dry_run: str, validate: str,
                output: str) -> bool:
    obj = placed.obj
    if placed.namespace:
        obj["metadata"]["namespace"] = placed.namespace
    if dry_run == "client":
        print_result(s, output, obj, placed.resource.kind_name, "created", dry_run)
        return True
    query = write_query(dry_run, validate)
    try:
        answer = s.client.request("POST", placed.path(named=False), query,
                                  body=obj).json()
    except APIError as exc:
        s.warn(objects.failure_line(exc, "creating", placed))
        return False
    print_result(s, output, answer, placed.resource.kind_name, "created", dry_run)
    return True
