"""Live completion of resource types and names for the shell scripts.

Runs inside `kctl` invoked by the shell's completion hook: it must answer fast
and never print errors, so requests get a short timeout and every failure
yields no suggestions.
"""

from __future__ import annotations

from click.shell_completion import CompletionItem

TIMEOUT = 1.0


def _session(ctx):
    from kctl.session import Session

    s = ctx.find_object(Session) or Session()
    s.overrides.request_timeout = TIMEOUT
    return s


def complete_resources(ctx, param, incomplete: str) -> list[CompletionItem]:
    try:
        return _complete(ctx, incomplete)
    except Exception:  # completion must never show an error
        return []


def _complete(ctx, incomplete: str) -> list[CompletionItem]:
    s = _session(ctx)
    before = list(ctx.params.get("args") or ())
    if "/" in incomplete:
        type_text, _, prefix = incomplete.partition("/")
        return [CompletionItem(f"{type_text}/{n}")
                for n in _names(s, type_text) if n.startswith(prefix)]
    if not before:
        return [CompletionItem(t) for t in _types(s) if t.startswith(incomplete)]
    if "/" in before[0]:
        return []
    return [CompletionItem(n) for n in _names(s, before[0].split(",")[0])
            if n.startswith(incomplete)]


def _types(s) -> list[str]:
    found = set()
    for r in s.discovery.resources():
        found.add(r.name)
        found.add(r.singular)
        found.update(r.short_names)
    return sorted(found)


def _names(s, type_text: str) -> list[str]:
    from kctl.resources import object_path

    resource = s.discovery.find(type_text)
    listing = s.client.get(object_path(resource, s.namespace))
    return sorted(i["metadata"]["name"] for i in listing.get("items") or [])
