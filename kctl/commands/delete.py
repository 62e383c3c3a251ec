"""kctl delete: by TYPE NAME, TYPE/NAME, -f, -l or --all; waits until gone."""

from __future__ import annotations

import time

import click

from kctl import objects
from kctl.client import APIError, NotFound
from kctl.commands.create import dry_run_option, suffix
from kctl.errors import AlreadyReported, CommandError, UsageError
from kctl.options import (bool_flag, connection_options, filename_options,
                          resource_args, session)
from kctl.resources import (NO_RESOURCES, SELECTOR_WITHOUT_TYPE, object_path,
                             parse)

EXAMPLES = """
\b
Examples:
  kctl delete pod nginx
  kctl delete pods/a pods/b
  kctl delete -f pod.yaml
  kctl delete pods -l app=web
  kctl delete pods --all --now
  kctl delete deployment web --cascade=orphan
  kctl delete -f pod.yaml --dry-run=server
"""

# --cascade's values -> DeleteOptions.propagationPolicy; true and false are
# kubectl's deprecated spellings of background and orphan.
CASCADES = {"background": "Background", "foreground": "Foreground",
            "orphan": "Orphan"}
DEPRECATED_CASCADES = {"true": "background", "false": "orphan"}

FORCE_WARNING = ("Warning: Immediate deletion does not wait for confirmation that "
                 "the running resource has been terminated. The resource may "
                 "continue to run on the cluster indefinitely.")


@click.command(epilog=EXAMPLES)
@resource_args
@filename_options
@click.option("-l", "--selector", default="", help="Delete the objects that match.")
@click.option("--field-selector", default="", help="Delete the objects that match.")
@click.option("--all", "all_", is_flag=True, help="Delete every object of the type.")
@click.option("-A", "--all-namespaces", is_flag=True,
              help="With -l or --all, in every namespace.")
@click.option("--ignore-not-found", is_flag=True,
              help="Treat objects that do not exist as deleted.")
@click.option("--grace-period", default=-1, type=int,
              help="Seconds the object is given to stop (-1: its default).")
@click.option("--now", is_flag=True, help="Stop at once (grace period 1).")
@click.option("--force", is_flag=True, help="Remove at once, without waiting for "
              "the node to confirm (grace period 0).")
@bool_flag("--wait", True, "Return only once the objects are gone.")
@click.option("--timeout", default="0s", help="How long --wait waits (0: forever).")
@click.option("-o", "--output", default="", help="name: print TYPE/NAME only.")
# TODO: a bare --cascade before an argument takes that argument as its value
# (click's optional values); kubectl's NoOptDefVal never does.
@click.option("--cascade", default="background", is_flag=False,
              flag_value="background", metavar="[background|foreground|orphan]",
              help="How dependents go: in the background (default), before the "
              "owner (foreground), or not at all (orphan).")
@dry_run_option
@connection_options
def delete(args, filenames, recursive, selector, field_selector, all_,
           all_namespaces, ignore_not_found, grace_period, now, force, wait,
           timeout, output, cascade, dry_run):
    """Delete resources by file names, types and names, or selectors."""
    s = session()
    policy = _propagation_policy(s, cascade)
    grace = _grace_period(grace_period, now, force)
    if force and grace == 0:
        s.warn(FORCE_WARNING)
    body = {"kind": "DeleteOptions", "apiVersion": "v1",
            "propagationPolicy": policy}
    if grace >= 0:
        body["gracePeriodSeconds"] = grace
    query = {"dryRun": "All"} if dry_run == "server" else None
    found = _victims(s, args, filenames, recursive, selector, field_selector,
                     all_, all_namespaces)

    deleted, failed = [], False
    for kind_name, path, name in found:
        try:
            if dry_run != "client":
                s.client.request("DELETE", path, query, body=body)
        except NotFound as exc:
            if not ignore_not_found:
                from kctl.main import server_error_line

                s.warn(server_error_line(exc))
                failed = True
            continue
        except APIError as exc:
            from kctl.main import server_error_line

            s.warn(server_error_line(exc))
            failed = True
            continue
        verb = "force deleted" if force and grace == 0 else "deleted"
        s.print(f"{kind_name}/{name}" if output == "name"
                else f'{kind_name} "{name}" {verb}{suffix(dry_run)}')
        deleted.append(path)
    if wait and deleted and dry_run == "none":
        _wait_gone(s, deleted, _seconds(timeout))
    if failed:
        raise AlreadyReported()


def _propagation_policy(s, cascade: str) -> str:
    if cascade in DEPRECATED_CASCADES:
        instead = DEPRECATED_CASCADES[cascade]
        s.warn(f"warning: --cascade={cascade} is deprecated (boolean value) and "
               f"can be replaced with --cascade={instead}.")
        cascade = instead
    if cascade not in CASCADES:
        raise CommandError(f'invalid cascade value ({cascade}). Must be '
                           f'"background", "foreground", or "orphan"')
    return CASCADES[cascade]


def _grace_period(grace_period: int, now: bool, force: bool) -> int:
    if now and grace_period >= 0:
        raise UsageError("--now and --grace-period cannot be specified together")
    if force:
        return 0 if grace_period < 0 else grace_period
    if now:
        return 1
    # As kubectl: 0 without --force means "as fast as possible", which is 1.
    return 1 if grace_period == 0 else grace_period


def _victims(s, args, filenames, recursive, selector, field_selector, all_,
             all_namespaces) -> list[tuple[str, str, str]]:
    """(kind name, object path, name) of every object to delete."""
    if filenames:
        if args:
            raise UsageError("cannot specify both a resource and -f")
        return _from_files(s, filenames, recursive)
    if all_ and selector:
        raise UsageError("setting 'all' parameter but found a non empty selector.")
    if not args:
        raise CommandError(SELECTOR_WITHOUT_TYPE if selector or field_selector
                           or all_ else NO_RESOURCES)
    targets = parse(list(args), s.discovery, verb="delete")
    found = []
    for target in targets:
        if target.names:
            if selector or all_:
                raise UsageError("name cannot be provided when a selector is "
                                 "specified")
            found += [(target.resource.kind_name,
                       object_path(target.resource, s.namespace, name), name)
                      for name in target.names]
            continue
        if not (selector or field_selector or all_):
            raise UsageError("resource(s) were provided, but no name was "
                             "specified")
        found += _listed(s, target.resource, selector, field_selector,
                         all_namespaces)
    if not found and not any(t.names for t in targets):
        s.warn("No resources found")
    return found


def _listed(s, resource, selector, field_selector, all_namespaces):
    namespace = None if all_namespaces else s.namespace
    listing = s.client.get(object_path(resource, namespace),
                           {"labelSelector": selector,
                            "fieldSelector": field_selector})
    found = []
    for item in listing.get("items") or []:
        meta = item["metadata"]
        found.append((resource.kind_name,
                      object_path(resource, meta.get("namespace"), meta["name"]),
                      meta["name"]))
    return found


def _from_files(s, filenames, recursive):
    found = []
    for manifest in objects.read(filenames, recursive):
        try:
            placed = objects.place(s, manifest)
        except CommandError as exc:
            s.warn(f"error: {exc}")
            continue
        found.append((placed.resource.kind_name, placed.path(), placed.name))
    return found


def _seconds(text: str) -> float:
    from kctl.config import parse_timeout

    try:
        return parse_timeout(text)
    except ValueError:
        raise UsageError(f"invalid --timeout {text!r}") from None


def _wait_gone(s, paths: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout if timeout > 0 else None
    pending = list(paths)
    delay = 0.05
    while pending:
        pending = [p for p in pending if _exists(s, p)]
        if not pending:
            return
        if deadline is not None and time.monotonic() >= deadline:
            raise CommandError("timed out waiting for the condition")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def _exists(s, path: str) -> bool:
    try:
        s.client.get(path)
        return True
    except NotFound:
        return False
