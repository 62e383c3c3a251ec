"""kctl taint: add, change or remove the taints of nodes, as kubectl does.

New taints go first, then the node's other taints; a taint is the same taint
when key and effect match. The node is changed by a strategic merge patch.
"""

from __future__ import annotations

import copy

import click

from kctl.client import APIError
from kctl.errors import AlreadyReported, CommandError
from kctl.options import connection_options, session

EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
STRATEGIC = "application/strategic-merge-patch+json"
HELP_LINE = "See 'kctl taint -h' for help and examples"

EXAMPLES = """
\b
Examples:
  kctl taint nodes node1 dedicated=gpu:NoSchedule
  kctl taint nodes node1 dedicated:NoSchedule-     # remove that taint
  kctl taint nodes node1 dedicated-                # remove every dedicated taint
  kctl taint nodes --all maintenance=true:NoExecute
"""


def parse_taints(specs: list[str]) -> tuple[list[dict], list[dict]]:
    """(taints to add, taints to remove) from KEY[=VALUE]:EFFECT and
    KEY[:EFFECT]- arguments."""
    from server.validation import is_qualified_name, is_valid_label_value

    add, remove = [], []
    for spec in specs:
        if spec.endswith("-"):
            key, _, effect = spec[:-1].partition(":")
            taint = {"key": key.partition("=")[0]}  # a value is ignored
            if effect:
                taint["effect"] = effect
            remove.append(taint)
            continue
        parts = spec.split(":")
        if len(parts) != 2 or not parts[1]:
            raise CommandError(f"invalid taint spec: {spec}\n{HELP_LINE}")
        key_value, effect = parts
        key, eq, value = key_value.partition("=")
        problems = is_qualified_name(key)
        if problems:
            raise CommandError(f"invalid taint spec: {spec}, {'; '.join(problems)}"
                               f"\n{HELP_LINE}")
        problems = is_valid_label_value(value) if eq else []
        if problems:
            raise CommandError(f"invalid taint spec: {spec}, {'; '.join(problems)}"
                               f"\n{HELP_LINE}")
        if effect not in EFFECTS:
            raise CommandError(f"invalid taint effect: {effect}, unsupported taint "
                               f"effect\n{HELP_LINE}")
        taint = {"key": key, "effect": effect}
        if value:
            taint["value"] = value
        add.append(taint)
    both = [f"{t['key']}={t['effect']}" for t in add
            if any(r["key"] == t["key"] and r.get("effect", t["effect"]) ==
                   t["effect"] for r in remove)]
    if both:
        raise CommandError("can not both modify and remove the following taint(s) "
                           f"in the same command: {', '.join(both)}")
    return add, remove


def _same(a: dict, b: dict) -> bool:
    return a.get("key") == b.get("key") and a.get("effect") == b.get("effect")


def retaint(node: dict, add: list[dict], remove: list[dict],
            overwrite: bool) -> tuple[dict, str]:
    """The node with its taints changed, and kubectl's word for what
    happened (tainted, modified, untainted)."""
    name = node["metadata"]["name"]
    old = (node.get("spec") or {}).get("taints") or []
    if not overwrite:
        for taint in add:
            if any(_same(taint, o) for o in old):
                raise CommandError(f"node {name} already has {taint['key']} "
                                   "taint(s) with same effect(s) and --overwrite "
                                   "is false")
    new = [dict(t) for t in add]
    new += [o for o in old if not any(_same(o, t) for t in add)]
    grew = len(new) != len(old)
    deleted = False
    for taint in remove:
        kept = [t for t in new if not (t.get("key") == taint["key"] and (
            "effect" not in taint or t.get("effect") == taint["effect"]))]
        if len(kept) == len(new):
            shown = taint["key"] + (f":{taint['effect']}" if "effect" in taint else "")
            raise CommandError(f'taint "{shown}" not found')
        new, deleted = kept, True
    changed = copy.deepcopy(node)
    changed.setdefault("spec", {})["taints"] = new
    if not new:
        changed["spec"].pop("taints")
    verb = "untainted" if deleted else "tainted" if grew else "modified"
    return changed, verb


@click.command(epilog=EXAMPLES)
@click.argument("args", nargs=-1, metavar="node NAME KEY[=VALUE]:EFFECT...")
@click.option("-l", "--selector", default="", help="Label selector of the nodes.")
@click.option("--all", "all_", is_flag=True, help="Every node.")
@click.option("--overwrite", is_flag=True, help="Replace a taint with the same "
              "key and effect.")
@connection_options
def taint(args, selector, all_, overwrite):
    """Update the taints on one or more nodes."""
    s = session()
    if not args:
        raise CommandError("at least one taint update is required")
    kind, rest = args[0], list(args[1:])
    if "/" in kind:
        kind, _, first = kind.partition("/")
        rest.insert(0, first)
    if kind not in ("node", "nodes", "no"):
        raise CommandError(f"invalid resource type {kind}, only node types are "
                           "supported")
    names = [a for a in rest if ":" not in a and "=" not in a and not a.endswith("-")]
    specs = [a for a in rest if a not in names]
    if not specs:
        raise CommandError("at least one taint update is required")
    add, remove = parse_taints(specs)
    if selector or all_:
        listing = s.client.get("/api/v1/nodes", {"labelSelector": selector})
        names += [n["metadata"]["name"] for n in listing.get("items") or []]
    if not names:
        raise CommandError("at least one node name or a selector is required")
    failed = False
    for name in names:
        try:
            _taint_one(s, name, add, remove, overwrite)
        except (CommandError, APIError) as exc:
            if len(names) == 1:
                raise
            from kctl.main import describe_error

            s.warn(describe_error(exc)[0])
            failed = True
    if failed:
        raise AlreadyReported()


def _taint_one(s, name: str, add: list, remove: list, overwrite: bool) -> None:
    from server import patch as patches

    path = f"/api/v1/nodes/{name}"
    node = s.client.get(path)
    changed, verb = retaint(node, add, remove, overwrite)
    patch = patches.create_two_way_merge_patch(node, changed, "Node")
    if patch:
        s.client.request("PATCH", path, {"fieldManager": "kubectl-taint"},
                         body=patch, content_type=STRATEGIC)
    s.print(f"node/{name} {verb}")
