"""kctl replace -f: PUT each object from files, or with --force delete and re-create.

As kubectl (k8s.io/kubectl/pkg/cmd/replace): a resourceVersion in the file is
sent, so a stale one is the server's Conflict; without one, the object's
current resourceVersion is fetched first, so the file overwrites whatever is
there. --force deletes every object, waits until all are gone, then creates
them all, and a missing object is simply created.
"""

from __future__ import annotations

import time

import click

from kctl import objects
from kctl.client import APIError, NotFound
from kctl.commands.create import (dry_run_option, print_result, validate_option,
                                  write_query)
from kctl.errors import AlreadyReported, CommandError, UsageError
from kctl.options import connection_options, filename_options, output_option, session

EXAMPLES = """
\b
Examples:
  kctl replace -f pod.yaml
  kctl get pod nginx -o yaml | sed 's/1.25/1.26/' | kctl replace -f -
  kctl replace --force -f ./manifests -R
  kctl replace -f pod.yaml --dry-run=server -o yaml
"""

# kubectl waits this long for the deleted objects of --force when --timeout is 0.
FORCE_TIMEOUT = 300.0


@click.command(epilog=EXAMPLES)
@filename_options
@click.option("--force", is_flag=True,
              help="Delete the objects, wait until they are gone, and create them "
                   "again.")
@click.option("--grace-period", default=-1, type=int,
              help="With --force: seconds each object is given to stop (-1: its "
                   "default; 0 is taken as 1).")
@click.option("--timeout", default="0s",
              help="With --force: how long to wait for the deletion (0: 5m).")
@dry_run_option
@validate_option
@output_option("json|yaml|name")
@connection_options
def replace(filenames, recursive, force, grace_period, timeout, dry_run, validate,
            output):
    """Replace a resource by file name or stdin."""
    s = session()
    if output not in ("", "json", "yaml", "name"):
        raise UsageError(f'unable to match a printer suitable for the output '
                         f'format "{output}", allowed formats are: json,name,yaml')
    if force and dry_run != "none":
        raise CommandError("--dry-run can not be used when --force is set")
    seconds = _seconds(timeout) or FORCE_TIMEOUT

    placed, failed = _placed(s, objects.read(filenames, recursive))
    if force:
        failed |= not _force_replace(s, placed, grace_period, seconds, validate,
                                     output)
    else:
        for one in placed:
            failed |= not _replace_one(s, one, dry_run, validate, output)
    if failed:
        raise AlreadyReported()


def _placed(s, manifests) -> tuple[list[objects.Placed], bool]:
    """The objects that could be read and placed; each other one is reported."""
    found, failed = [], False
    for manifest in manifests:
        try:
            found.append(objects.place(s, manifest))
        except CommandError as exc:
            s.warn(f"error: {exc}")
            failed = True
    for one in found:
        if one.namespace:
            one.obj["metadata"]["namespace"] = one.namespace
    return found, failed


def _replace_one(s, placed: objects.Placed, dry_run: str, validate: str,
                 output: str) -> bool:
    obj, kind_name = placed.obj, placed.resource.kind_name
    if dry_run == "client":
        print_result(s, output, obj, kind_name, "replaced", dry_run)
        return True

    try:
        if not obj["metadata"].get("resourceVersion"):
            _take_current_version(s, placed)
        answer = s.client.request("PUT", placed.path(),
                                  write_query(dry_run, validate), body=obj).json()
    except APIError as exc:
        s.warn(objects.failure_line(exc, "replacing", placed))
        return False

    print_result(s, output, answer, kind_name, "replaced", dry_run)
    return True


def _take_current_version(s, placed: objects.Placed) -> None:
    # client-go's Helper.Replace: a missing object is left to the PUT to report.
    try:
        current = s.client.get(placed.path())
    except NotFound:
        return
    version = current["metadata"].get("resourceVersion")
    if version:
        placed.obj["metadata"]["resourceVersion"] = version


def _force_replace(s, placed: list[objects.Placed], grace_period: int,
                   seconds: float, validate: str, output: str) -> bool:
    outcomes = [(one, _delete(s, one, grace_period, output)) for one in placed]
    if any(outcome == "failed" for _, outcome in outcomes):
        return False  # as kubectl: a deletion that failed stops the command
    _wait_gone(s, [one.path() for one, outcome in outcomes if outcome == "deleted"],
               seconds)

    failed = False
    for one in placed:
        failed |= not _create(s, one, validate, output)
    return not failed


def _delete(s, placed: objects.Placed, grace_period: int, output: str) -> str:
    """Delete one object, printing kubectl's line: "deleted", "absent" (no
    failure: it is created all the same) or "failed" (reported)."""
    body = {"kind": "DeleteOptions", "apiVersion": "v1",
            "propagationPolicy": "Background"}
    if grace_period >= 0:
        # As kubectl: 0 means "as fast as possible", which is 1.
        body["gracePeriodSeconds"] = max(grace_period, 1)
    try:
        s.client.request("DELETE", placed.path(), body=body)
    except NotFound:
        return "absent"
    except APIError as exc:
        from kctl.main import server_error_line

        s.warn(server_error_line(exc))
        return "failed"

    kind_name = placed.resource.kind_name
    s.print(f"{kind_name}/{placed.name}" if output == "name"
            else f'{kind_name} "{placed.name}" deleted')
    return "deleted"


def _create(s, placed: objects.Placed, validate: str, output: str) -> bool:
    # client-go's Helper.Create clears the resourceVersion a file may carry.
    placed.obj["metadata"].pop("resourceVersion", None)
    try:
        answer = s.client.request("POST", placed.path(named=False),
                                  write_query("none", validate),
                                  body=placed.obj).json()
    except APIError as exc:
        from kctl.main import server_error_line

        s.warn(server_error_line(exc))
        return False

    print_result(s, output, answer, placed.resource.kind_name, "replaced", "none")
    return True


def _exists(s, path: str) -> bool:
    try:
        s.client.get(path)
        return True
    except NotFound:
        return False


def _wait_gone(s, paths: list[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    pending, delay = list(paths), 0.05
    while pending:
        pending = [path for path in pending if _exists(s, path)]
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise CommandError("timed out waiting for the condition")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def _seconds(text: str) -> float:
    from kctl.config import parse_timeout

    try:
        return parse_timeout(text)
    except ValueError:
        raise UsageError(f"invalid argument {text!r} for --timeout") from None
