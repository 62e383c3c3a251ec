"""kctl diff -f: what an apply would change, as a unified diff.

For each object the server is asked what it would store (the apply's patch,
or a create, sent with dryRun=All), and the live and merged objects are
written as YAML into two directories, which ``diff -u -N`` (or the program in
$KUBECTL_EXTERNAL_DIFF) compares. As with kubectl, the exit code is 0 when
nothing would change, 1 when something would, and above 1 on failure.
Secret values are masked.
"""

from __future__ import annotations

import copy
import os
import shlex
import shutil
import subprocess
import tempfile

import click

from kctl import objects, printers
from kctl.client import NotFound
from kctl.errors import AlreadyReported, CommandError
from kctl.options import connection_options, filename_options, session

EXAMPLES = """
\b
Examples:
  kctl diff -f deployment.yaml
  kctl diff -f ./manifests -R
  KUBECTL_EXTERNAL_DIFF="diff -u --color=always" kctl diff -f pod.yaml
"""


class DiffFailed(CommandError):
    exit_code = 2


class Differences(AlreadyReported):
    """The diff is printed; its exit code is the command's."""

    def __init__(self, code: int):
        super().__init__()
        self.exit_code = code


@click.command(epilog=EXAMPLES)
@filename_options
@click.option("--server-side", is_flag=True,
              help="Compare with what a server-side apply would store.")
@click.option("--force-conflicts", is_flag=True,
              help="With --server-side: take over fields other managers own.")
@click.option("--field-manager", default="kubectl",
              help="With --server-side: the manager of the applied fields.")
@connection_options
def diff(filenames, recursive, server_side, force_conflicts, field_manager):
    """Diff the live objects against what applying the files would make."""
    s = session()
    base = tempfile.mkdtemp(prefix="kctl-diff-")
    live_dir, merged_dir = (os.path.join(base, d) for d in ("LIVE", "MERGED"))
    os.mkdir(live_dir)
    os.mkdir(merged_dir)
    try:
        for manifest in _read(s, filenames, recursive):
            try:
                placed = objects.place(s, manifest)
                live, merged = _versions(s, placed, server_side, force_conflicts,
                                         field_manager)
            except (Differences, DiffFailed):
                raise
            except Exception as exc:  # noqa: BLE001 - each is a failed diff
                _failed(s, exc)
            if placed.obj.get("kind") == "Secret":
                live, merged = mask_secrets(live, merged)
            filename = _filename(placed, merged or live)
            for directory, obj in ((live_dir, live), (merged_dir, merged)):
                if obj is not None:
                    with open(os.path.join(directory, filename), "w") as handle:
                        handle.write(printers.to_yaml(obj))
        code = _run_diff(s, live_dir, merged_dir)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if code:
        raise Differences(code)


def _read(s, filenames, recursive):
    try:
        return objects.read(filenames, recursive)
    except Exception as exc:  # noqa: BLE001 - a file that cannot be read
        _failed(s, exc)


def _failed(s, exc: Exception):
    """As kubectl diff: a failure is its line and exit code 2, never the 1
    that means "there are differences"."""
    from kctl.main import describe_error

    line, _ = describe_error(exc)
    s.warn(line)
    raise Differences(2) from None


def _versions(s, placed, server_side: bool, force: bool,
              manager: str) -> tuple[dict | None, dict | None]:
    """(live, merged): the object as stored now (None if it does not exist)
    and as the server would store it after the apply."""
    from kctl.commands import apply as applying

    if placed.namespace:
        placed.obj["metadata"]["namespace"] = placed.namespace
    try:
        live = s.client.get(placed.path())
    except NotFound:
        live = None
    # No fieldValidation: the server's default (Warn) is kubectl diff's.
    query = {"dryRun": "All"}
    if server_side:
        query["fieldManager"] = manager
        if force:
            query["force"] = "true"
        merged = s.client.request("PATCH", placed.path(), query, body=placed.obj,
                                  content_type=applying.APPLY).json()
        return live, merged
    if live is None:
        merged = s.client.request("POST", placed.path(named=False), query,
                                  body=placed.obj).json()
        return None, merged
    # As kubectl diff: the manifest as apply sends it, less the last-applied
    # annotation apply would add (an annotations map, if empty, stays, as in
    # the recorded configuration), so that only real changes show.
    modified = copy.deepcopy(placed.obj)
    meta = modified.setdefault("metadata", {})
    meta["annotations"] = {k: v for k, v in (meta.get("annotations") or {}).items()
                           if k != applying.LAST_APPLIED}
    query["fieldManager"] = "kubectl-client-side-apply"
    merged, _ = applying._patch(s, placed, modified, live, "server", query,
                                quiet=True)
    return live, merged


def mask_secrets(live: dict | None, merged: dict | None):
    """Secret values as kubectl shows them in a diff: *** where they agree,
    *** (before) and *** (after) where they differ."""
    old = dict((live or {}).get("data") or {})
    new = dict((merged or {}).get("data") or {})
    for key in new:
        if key in old and old[key] != new[key]:
            old[key], new[key] = "*** (before)", "*** (after)"
        else:
            if key in old:
                old[key] = "***"
            new[key] = "***"
    for key in old:
        if key not in new:
            old[key] = "***"
    if live is not None:
        live = {**live, "data": old} if old or "data" in live else live
    if merged is not None:
        merged = {**merged, "data": new} if new or "data" in merged else merged
    return live, merged


def _filename(placed, obj: dict) -> str:
    api_version = obj.get("apiVersion", "").replace("/", ".")
    meta = obj.get("metadata") or {}
    parts = [api_version, obj.get("kind", "")]
    if meta.get("namespace"):
        parts.append(meta["namespace"])
    parts.append(meta.get("name", placed.name))
    return ".".join(parts)


def _run_diff(s, live_dir: str, merged_dir: str) -> int:
    program = os.environ.get("KUBECTL_EXTERNAL_DIFF", "")
    command = shlex.split(program) if program else ["diff", "-u", "-N"]
    try:
        done = subprocess.run([*command, live_dir, merged_dir],
                              capture_output=True, text=True)
    except OSError as exc:
        raise DiffFailed(f"failed to run \"{command[0]}\": "
                         f"{exc.strerror or exc}") from None
    s.out.write(done.stdout)
    if done.stderr:
        s.err.write(done.stderr)
    return done.returncode
