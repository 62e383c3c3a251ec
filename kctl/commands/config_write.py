"""kctl config set-context and use-context: edits of kubeconfig files.

kubectl's rules for which file is written (client-go's ModifyConfig): an
entry that exists is changed in the first file of the chain that defines it;
a new one goes to the --kubeconfig file, else the first file of $KUBECONFIG
that exists (the last one if none does), else ~/.kube/config. The file is
written back whole, as kubectl serializes a Config: sorted keys, entries
sorted by name, empty sections as null, mode 0600 when it is made.
"""

from __future__ import annotations

import os

import click

from kctl import config as kubeconfig
from kctl.errors import CommandError
from kctl.options import connection_options, session


def destination(explicit: str | None) -> str:
    """Where a new entry or the current context is written."""
    if explicit:
        return explicit
    files = kubeconfig.default_files()
    for path in files:
        if os.path.exists(path):
            return path
    return files[-1]


def defining_file(explicit: str | None, section: str, name: str) -> str | None:
    """The first file of the chain with the entry ``name``, if any."""
    for path in kubeconfig.config_files(explicit):
        if kubeconfig.find(_read(path), section, name) is not None:
            return path
    return None


def _read(path: str) -> dict:
    from kctl import yamlio

    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return yamlio.load(f.read()) or {}


def write(path: str, data: dict) -> None:
    from kctl import printers
    from kctl.commands.config import as_kubectl_config

    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    tmp = path + ".kctl-tmp"
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o600
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(printers.to_yaml(as_kubectl_config(data)))
    os.replace(tmp, path)


def set_current_context(explicit: str | None, name: str) -> None:
    path = destination(explicit)
    data = _read(path)
    data["current-context"] = name
    write(path, data)


@click.command("set-context", epilog="""
\b
Examples:
  kctl config set-context --current --namespace=team
  kctl config set-context dev --cluster=dev --user=alice
""")
@click.argument("names", nargs=-1, metavar="[NAME]")
@click.option("--current", is_flag=True, help="Modify the current context.")
@click.option("--cluster", default=None, help="The context's cluster.")
@click.option("--user", default=None, help="The context's user.")
@click.option("--namespace", default=None, help="The context's namespace.")
@connection_options(leave_out=("cluster", "user", "namespace"))
def set_context(names, current, cluster, user, namespace):
    """Set a context entry in the kubeconfig, merging onto an existing one."""
    s = session()
    explicit = s.overrides.kubeconfig
    name = _context_name(explicit, names, current)
    fields = {"cluster": cluster, "user": user, "namespace": namespace}

    origin = defining_file(explicit, "contexts", name)
    path = origin or destination(explicit)
    data = _read(path)
    entry = next((e for e in data.get("contexts") or [] if e.get("name") == name),
                 None)
    if entry is None:
        entry = {"name": name, "context": {"cluster": "", "user": ""}}
        data["contexts"] = [*(data.get("contexts") or []), entry]
    entry["context"] = {**(entry.get("context") or {}), **{
        key: value for key, value in fields.items() if value is not None}}
    write(path, data)

    s.print(f'Context "{name}" {"modified" if origin else "created"}.')


def _context_name(explicit: str | None, names: tuple, current: bool) -> str:
    if len(names) > 1:
        raise CommandError(f"Unexpected args: [{' '.join(names)}]")
    if names and current:
        raise CommandError("you cannot specify both a context name and --current")
    if names and names[0]:
        return names[0]
    if not current:
        raise CommandError("you must specify a non-empty context name or --current")
    name = kubeconfig.load_merged(explicit).get("current-context")
    if not name:
        raise CommandError("no current context is set")
    return name
