"""kctl wait: until every object meets every --for, or the timeout passes.

It polls: simple, and correct across the object being created, replaced or
deleted while waiting. Objects that do not exist yet are waited for.
"""

from __future__ import annotations

import time

import click

from kctl.client import NotFound
from kctl.errors import CommandError, UsageError
from kctl.options import connection_options, session, resource_args
from kctl.resources import (NO_RESOURCES, SELECTOR_WITHOUT_TYPE, object_path,
                             parse)

EXAMPLES = """
\b
Examples:
  kctl wait --for=condition=Ready pod/nginx
  kctl wait --for=condition=Ready=false pod -l app=web --timeout=60s
  kctl wait --for=delete pod/nginx
  kctl wait --for=jsonpath='{.status.phase}'=Running pod/nginx
"""


class Condition:
    """One --for: condition=NAME[=VALUE], create, delete, or
    jsonpath='{...}'[=VALUE]."""

    def __init__(self, text: str):
        self.text = text
        kind, _, rest = text.partition("=")
        self.kind = kind.lower()
        if self.kind in ("delete", "create") and not rest:
            return
        if self.kind == "condition" and rest:
            name, _, value = rest.partition("=")
            self.name, self.value = name, value or "True"
            return
        if self.kind == "jsonpath" and rest:
            self._jsonpath(rest)
            return
        raise UsageError(f'unrecognized condition: "{text}"')

    def _jsonpath(self, rest: str) -> None:
        from kctl.jsonpath import BAD_RELAXED, JSONPath, JSONPathError, relaxed

        expr, value = rest, None
        if rest.startswith("{"):
            end = rest.find("}")
            if end < 0:
                raise UsageError(BAD_RELAXED)
            expr, tail = rest[:end + 1], rest[end + 1:]
            if tail:
                if not tail.startswith("="):
                    raise UsageError(f'unrecognized condition: "{self.text}"')
                value = tail[1:]
        elif "=" in rest:
            expr, _, value = rest.rpartition("=")
        try:
            self.path, self.value = JSONPath(relaxed(expr)), value
        except JSONPathError as exc:
            raise UsageError(str(exc)) from None  # kubectl's bare message

    def met(self, obj: dict | None) -> bool:
        if self.kind == "delete":
            return obj is None
        if self.kind == "create":
            return obj is not None
        if obj is None:
            return False
        if self.kind == "condition":
            conditions = (obj.get("status") or {}).get("conditions") or []
            return any(c.get("type", "").lower() == self.name.lower() and
                       str(c.get("status", "")).lower() == self.value.lower()
                       for c in conditions)
        from kctl.jsonpath import str_value

        values = self.path.values(obj)
        if self.value is None:
            return bool(values)
        return any(str_value(v) == self.value for v in values)


@click.command(epilog=EXAMPLES)
@resource_args
@click.option("--for", "conditions", multiple=True,
              help="condition=NAME[=VALUE], create, delete or "
              "jsonpath='{...}'[=VALUE]; "
              "repeat: all must hold.")
@click.option("--timeout", default="30s", show_default=True,
              help="Give up after this long (0: check once).")
@click.option("-l", "--selector", default="", help="Wait for every match.")
@click.option("--all", "all_", is_flag=True, help="Wait for every object of the type.")
@connection_options
def wait(args, conditions, timeout, selector, all_):
    """Wait for a specific condition on one or many resources."""
    s = session()
    if not conditions:
        # kubectl reads a missing --for as an empty one: a failed command.
        raise CommandError('unrecognized condition: ""')
    checks = [Condition(text) for text in conditions]
    seconds = _seconds(timeout)
    if not args:
        raise CommandError(SELECTOR_WITHOUT_TYPE if selector else NO_RESOURCES)
    targets = parse(list(args), s.discovery, verb="wait")
    deadline = time.monotonic() + seconds
    named = [(t.resource, name) for t in targets for name in t.names]
    selected = [t.resource for t in targets if not t.names]
    if selected and not (selector or all_):
        raise UsageError("resource(s) were provided, but no name was specified")
    _wait_all(s, named, selected, selector, checks, deadline)


def _wait_all(s, named, selected, selector, checks, deadline) -> None:
    pending = list(named)
    only_delete = all(check.kind == "delete" for check in checks)
    if selected:
        pending += _matching(s, selected, selector)
        if not pending and not only_delete:
            raise CommandError("no matching resources found")
    delay, first = 0.05, True
    while True:
        for resource, name in list(pending):
            obj = _fetch(s, resource, name)
            if all(check.met(obj) for check in checks):
                # As kubectl: an object already gone needs no line.
                if not (first and obj is None and only_delete):
                    s.print(f"{resource.kind_name}/{name} condition met")
                pending.remove((resource, name))
        first = False
        if not pending:
            return
        if time.monotonic() >= deadline:
            resource, name = pending[0]
            if all(check.kind == "create" for check in checks):
                # kubectl names no object when what it waited for never came.
                raise CommandError("timed out waiting for the condition")
            raise CommandError(f"timed out waiting for the condition on "
                               f"{resource.qualified}/{name}")
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.5)


def _matching(s, resources, selector):
    found = []
    for resource in resources:
        listing = s.client.get(object_path(resource, s.namespace),
                               {"labelSelector": selector})
        found += [(resource, i["metadata"]["name"])
                  for i in listing.get("items") or []]
    return found


def _fetch(s, resource, name) -> dict | None:
    try:
        return s.client.get(object_path(resource, s.namespace, name))
    except NotFound:
        return None


def _seconds(text: str) -> float:
    from kctl.config import parse_timeout

    try:
        return parse_timeout(text)
    except ValueError:
        raise UsageError(f"invalid argument {text!r} for --timeout") from None
