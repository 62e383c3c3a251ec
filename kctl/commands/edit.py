"""kctl edit: the object as YAML in $KUBE_EDITOR or $EDITOR, then sent back."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile

import click

from kctl import printers
from kctl.client import APIError
from kctl.errors import AlreadyReported, CommandError, UsageError
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

    suffix = ".json" if output == "json" else ".yaml"
    body, edited = _edit_until_valid(s, HEADER + text, suffix, target, obj)
    if body is None or body == obj:
        s.warn("Edit cancelled, no changes made.")
        return
    # Strict, as kubectl edit asks: an unknown or repeated field is refused.
    query = {"fieldManager": "kubectl-edit", "fieldValidation": "Strict"}
    try:
        answer = s.client.request("PUT", path, query, body=body).json()
    except APIError as exc:
        # TODO: kubectl reopens the editor with the server's refusal for some
        # errors; kctl keeps the copy and stops.
        if exc.code != 400:
            s.warn(_kept_line(edited))
            raise
        s.warn(f'error: {target.resource.name} "{target.names[0]}" could not be '
               f"patched: {exc}")
        s.warn(f"You can run `kctl replace -f {_keep(edited)}` to try this update "
               "again.")
        raise AlreadyReported() from None
    s.print(f"{printers.name_of(answer, target.resource.kind_name)} edited")


def _edit_until_valid(s, shown: str, suffix: str, target, obj: dict):
    """The edited object (None: emptied) and the file's text. As kubectl, a
    file that does not parse is reopened with the error on top; saved again
    unchanged, the edit is given up and a copy kept."""
    name = target.names[0]
    failed_body = None
    while True:
        edited = _run_editor(shown, suffix)
        body_text = _without_comments(edited)
        if failed_body is not None and body_text == failed_body:
            s.warn(f'error: {target.resource.name} "{name}" is invalid')
            s.warn(_kept_line(edited))
            raise CommandError("Edit cancelled, no valid changes were saved.")
        try:
            body = _parse(body_text)
        except CommandError as exc:
            failed_body = body_text
            shown = HEADER + _error_comment(target.resource.name, name, exc) + \
                body_text
            continue
        if body is not None and _identity(body) != _identity(obj):
            s.warn(_kept_line(edited))
            raise CommandError("At least one of apiVersion, kind and name was "
                               "changed")
        return body, edited


def _identity(obj: dict) -> tuple:
    return (obj.get("apiVersion"), obj.get("kind"),
            (obj.get("metadata") or {}).get("name"))


def _error_comment(resource: str, name: str, exc: Exception) -> str:
    problem = " ".join(str(exc).split())  # one comment line, whatever it holds
    return (f'# {resource} "{name}" was not valid:\n'
            f'# * <nil>: Invalid value: "The edited file failed validation": '
            f"{problem}\n#\n")


def _kept_line(edited: str) -> str:
    return f'A copy of your changes has been stored to "{_keep(edited)}"'


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


def _without_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines()
                     if not line.lstrip().startswith("#"))


def _parse(body: str) -> dict | None:
    if not body.strip():
        return None
    from kctl import yamlio

    try:
        data = yamlio.load(body)
    except yamlio.yaml.YAMLError as exc:
        raise CommandError(yamlio.go_error(exc)) from None
    if not isinstance(data, dict):
        raise CommandError("the edited file does not hold an object")
    return data


def _keep(text: str) -> str:
    fd, name = tempfile.mkstemp(prefix="kctl-edit-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return name
