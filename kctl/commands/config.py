"""kctl config: view the merged kubeconfig, list and switch contexts.

set-context and the writing of files are in kctl.commands.config_write.
"""

from __future__ import annotations

import copy

import click

from kctl import config as kubeconfig
from kctl import printers
from kctl.commands.config_write import set_context
from kctl.errors import CommandError, UsageError
from kctl.options import connection_options, session

_SECRETS = {"clusters": ("cluster", ("certificate-authority-data",)),
            "users": ("user", ("client-certificate-data", "client-key-data",
                               "token", "password"))}


# The group takes the connection flags too: `kctl config --kubeconfig X view`,
# as kubectl reads its global flags anywhere.
@click.group()
@connection_options
def config():
    """Show and switch kubeconfig contexts."""


@config.command()
@click.option("--raw", is_flag=True, help="Show certificates and tokens.")
@click.option("--minify", is_flag=True, help="Only what the current context uses.")
@click.option("-o", "--output", default="yaml",
              help="yaml, json or jsonpath=TEMPLATE.")
@connection_options
def view(raw, minify, output):
    """Display the merged kubeconfig."""
    s = session()
    fmt, _, template = output.partition("=")
    printer = printers.compile_template(fmt, template) if fmt == "jsonpath" else None
    merged = kubeconfig.load_merged(s.overrides.kubeconfig)
    if minify:
        merged = _minify(merged, s.overrides.context)
    if not raw:
        merged = _redact(merged)
    config = as_kubectl_config(merged)
    if printer is not None:
        s.out.write(printer.render(config))
    elif output == "json":
        import json

        text = json.dumps(config, indent=4, ensure_ascii=False)
        s.out.write(printers.escape_html(text) + "\n")
    elif output == "yaml":
        s.out.write(printers.to_yaml(config))
    else:
        raise UsageError(f"--output must be yaml, json or jsonpath=..., not "
                         f"{output!r}")


# The fields of kubectl's Config types in their Go order, which its JSON keeps
# (its YAML sorts them).
_FIELD_ORDER = {
    "cluster": ("server", "tls-server-name", "insecure-skip-tls-verify",
                "certificate-authority", "certificate-authority-data",
                "proxy-url", "disable-compression", "extensions"),
    "user": ("client-certificate", "client-certificate-data", "client-key",
             "client-key-data", "token", "tokenFile", "as", "as-uid",
             "as-groups", "as-user-extra", "username", "password",
             "auth-provider", "exec", "extensions"),
    "context": ("cluster", "user", "namespace", "extensions"),
}
_SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
# Fields of those types without omitempty: kubectl prints them even empty.
_ALWAYS = {"cluster": ("server",), "user": (), "context": ("cluster", "user")}


def as_kubectl_config(merged: dict) -> dict:
    """The merged kubeconfig as kubectl prints it: its Go maps come out sorted
    by name, empty sections as null."""
    config = {"kind": "Config", "apiVersion": "v1",
              "preferences": merged.get("preferences") or {}}
    for section, inner in _SECTIONS:
        entries = sorted(merged.get(section) or [], key=lambda e: e.get("name", ""))
        config[section] = [{"name": e.get("name", ""),
                            inner: _ordered(e.get(inner) or {}, inner)}
                           for e in entries] or None
    config["current-context"] = merged.get("current-context") or ""
    if merged.get("extensions"):
        config["extensions"] = merged["extensions"]
    return config


def _ordered(body: dict, inner: str) -> dict:
    body = {**dict.fromkeys(_ALWAYS[inner], ""), **body}
    order = _FIELD_ORDER[inner]
    known = {key: body[key] for key in order if key in body}
    return {**known, **{k: v for k, v in body.items() if k not in known}}


def _minify(merged: dict, context: str | None) -> dict:
    name = context or merged.get("current-context")
    if not name:
        raise CommandError("current-context must exist in order to minify")
    ctx = kubeconfig.find(merged, "contexts", name)
    if ctx is None:
        raise CommandError(f"cannot locate context {name}")
    keep = {"contexts": name, "clusters": ctx.get("cluster"),
            "users": ctx.get("user")}
    out = dict(merged, **{"current-context": name})
    for section, wanted in keep.items():
        out[section] = [e for e in merged.get(section) or []
                        if e.get("name") == wanted]
    return out


def _redact(merged: dict) -> dict:
    merged = copy.deepcopy(merged)
    for section, (inner, keys) in _SECRETS.items():
        for entry in merged.get(section) or []:
            body = entry.get(inner) or {}
            for key in keys:
                if body.get(key):
                    body[key] = "DATA+OMITTED" if key.endswith("-data") \
                        else "REDACTED"
    return merged


@config.command("current-context")
@connection_options
def current_context():
    """Print the current context."""
    s = session()
    merged = kubeconfig.load_merged(s.overrides.kubeconfig)
    if not merged.get("current-context"):
        raise CommandError("current-context is not set")
    s.print(merged["current-context"])


@config.command("use-context")
@click.argument("name")
@connection_options
def use_context(name):
    """Set the current context in the kubeconfig file."""
    from kctl.commands.config_write import set_current_context

    s = session()

    merged = kubeconfig.load_merged(s.overrides.kubeconfig)
    if kubeconfig.find(merged, "contexts", name) is None:
        raise CommandError(f'no context exists with the name: "{name}"')
    set_current_context(s.overrides.kubeconfig, name)
    s.print(f'Switched to context "{name}".')


config.add_command(set_context)


def _names(section: str):
    def command():
        s = session()
        merged = kubeconfig.load_merged(s.overrides.kubeconfig)
        s.print("NAME")
        for name in sorted(e.get("name", "") for e in merged.get(section) or []):
            s.print(name)
    return command


config.command("get-clusters", help="List the clusters of the kubeconfig.")(
    connection_options(_names("clusters")))
config.command("get-users", help="List the users of the kubeconfig.")(
    connection_options(_names("users")))


@config.command("get-contexts")
@click.argument("names", nargs=-1)
@click.option("--no-headers", is_flag=True)
@click.option("-o", "--output", default="", help="name: only the names.")
@connection_options
def get_contexts(names, no_headers, output):
    """List the contexts of the kubeconfig."""
    s = session()
    merged = kubeconfig.load_merged(s.overrides.kubeconfig)
    current = merged.get("current-context", "")
    contexts = sorted(merged.get("contexts") or [], key=lambda e: e["name"])
    missing = [n for n in names if n not in {c["name"] for c in contexts}]
    if names:
        contexts = [c for c in contexts if c["name"] in names]
    if output == "name":
        for c in contexts:
            s.print(c["name"])
    else:
        table = printers.Table(["CURRENT", "NAME", "CLUSTER", "AUTHINFO",
                                "NAMESPACE"])
        for c in contexts:
            body = c.get("context") or {}
            table.rows.append(["*" if c["name"] == current else "", c["name"],
                               body.get("cluster", ""), body.get("user", ""),
                               body.get("namespace", "")])
        s.out.write(printers.plain_table(table, headers=not no_headers))
    if missing:
        raise CommandError(f'context {missing[0]} not found')
