"""kctl edit: the object as YAML in $KUBE_EDITOR or $EDITOR, then sent back."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile

import click

from kctl import printers
from kctl.errors import CommandError, UsageError
from kctl.options import connection_options, session, resource_args
from kctl.resources import NO_RESOURCES, object_path, parse

HEADER = """\
# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this
# file will be reopened with the relevant failures.
#
"""


@click.command()
@resource_args
@click.option("-o", "--output", default="yaml", help="Edit as yaml or json.")
@connection_options
def edit(args, output):
    """Edit a resource in $EDITOR."""
    s = session()
    if not args:
        raise CommandError(NO_RESOURCES)
    targets = parse(list(args), s.discovery, verb="edit")
    if len(targets) != 1 or len(targets[0].names) != 1:
        raise UsageError("edit takes exactly one object: TYPE NAME or TYPE/NAME")
    target = targets[0]
    path = object_path(target.resource, s.namespace, target.names[0])
    obj = s.client.get(path)
    text = printers.to_json(obj) if output == "json" else printers.to_yaml(obj)

    edited = _run_editor(HEADER + text, ".json" if output == "json" else ".yaml")
    body = _read_back(edited)
    if body is None:
        s.warn("Edit cancelled, no changes made.")
        return
    if body == obj:
        s.warn("Edit cancelled, no changes made.")
        return
    try:
        answer = s.client.request("PUT", path, body=body).json()
    except Exception:
        kept = _keep(edited)
        s.warn(f"error: A copy of your changes has been stored to \"{kept}\"")
        raise
    s.print(f"{printers.name_of(answer, target.resource.kind_name)} edited")


def _editor() -> list[str]:
    command = os.environ.get("KUBE_EDITOR") or os.environ.get("EDITOR") or "vi"
    return shlex.split(command)


def _run_editor(text: str, suffix: str) -> str:
    fd, name = tempfile.mkstemp(prefix="kctl-edit-", suffix=suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        editor = _editor()
        try:
            failed = subprocess.run(editor + [name]).returncode != 0
        except OSError:
            failed = True
        if failed:
            raise CommandError(f'there was a problem with the editor '
                               f'"{shlex.join(editor)}"')
        with open(name, encoding="utf-8") as f:
            return f.read()
    finally:
        os.unlink(name)


def _read_back(text: str) -> dict | None:
    body = "\n".join(line for line in text.splitlines()
                     if not line.lstrip().startswith("#"))
    if not body.strip():
        return None
    from kctl import yamlio

    try:
        data = yamlio.load(body)
    except Exception as exc:
        raise CommandError(f"the edited file is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError("the edited file does not hold an object")
    return data


def _keep(text: str) -> str:
    fd, name = tempfile.mkstemp(prefix="kctl-edit-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return name
