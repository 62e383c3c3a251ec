"""A plain ``kctl get`` run without importing click.

Measured on the target machine (hyperfine, warm caches): kubectl answers
``get pods`` in about 50 ms, bare Python starts in 13 ms and importing click
takes another 37 ms, so no click command can match kubectl. This reads only
the simple forms of ``get`` (resource arguments and the common flags below)
and hands them to the same kctl.listing code the click command calls; any
other flag, ``--help`` or a malformed line returns False and the click group
handles it, errors and all.
"""

from __future__ import annotations

from kctl.listing import GetOptions, run

# flag -> (where it goes, attribute)
_VALUE_FLAGS = {
    "-n": ("conn", "namespace"), "--namespace": ("conn", "namespace"),
    "-s": ("conn", "server"), "--server": ("conn", "server"),
    "--kubeconfig": ("conn", "kubeconfig"), "--context": ("conn", "context"),
    "--cluster": ("conn", "cluster"), "--user": ("conn", "user"),
    "--token": ("conn", "token"),
    "-o": ("get", "output"), "--output": ("get", "output"),
    "-l": ("get", "selector"), "--selector": ("get", "selector"),
    "--field-selector": ("get", "field_selector"),
    "-L": ("get", "label_columns"), "--label-columns": ("get", "label_columns"),
    "--sort-by": ("get", "sort_by"),
}
_BOOL_FLAGS = {
    "-A": "all_namespaces", "--all-namespaces": "all_namespaces",
    "--no-headers": "no_headers", "--show-labels": "show_labels",
    "--ignore-not-found": "ignore_not_found",
    "--show-managed-fields": "show_managed_fields",
}


def parse(args: list[str]):
    """(GetOptions, connection overrides) for a simple get, else None."""
    options, conn, positional = GetOptions(), {}, []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        name, eq, inline = arg.partition("=")
        if name in _BOOL_FLAGS and not eq:
            setattr(options, _BOOL_FLAGS[name], True)
            continue
        if name not in _VALUE_FLAGS:
            return None
        if not eq:
            if index >= len(args):
                return None
            inline, index = args[index], index + 1
        where, attribute = _VALUE_FLAGS[name]
        if where == "conn":
            conn[attribute] = inline
        elif attribute == "label_columns":
            options.label_columns.append(inline)
        else:
            setattr(options, attribute, inline)
    if not positional or positional[0] != "get":
        return None
    options.args = positional[1:]
    return options, conn


def run_fast(args: list[str], session) -> bool:
    """Run ``args`` if it is a simple get; False leaves it to the click group."""
    parsed = parse(args)
    if parsed is None:
        return False
    options, conn = parsed
    for attribute, value in conn.items():
        setattr(session.overrides, attribute, value)
    run(session, options)
    return True
