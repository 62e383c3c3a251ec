"""kctl api-resources: the resources the server serves, from discovery."""

from __future__ import annotations

import click

from kctl import printers
from kctl.errors import UsageError
from kctl.options import connection_options, session


@click.command("api-resources")
@click.option("--namespaced", type=click.BOOL, default=None,
              help="true: only namespaced resources; false: only cluster-scoped.")
@click.option("--api-group", default=None, help="Only resources of this group.")
@click.option("--verbs", multiple=True, help="Only resources with these verbs.")
@click.option("--no-headers", is_flag=True, help="Print without headers.")
@click.option("--sort-by", type=click.Choice(["name", "kind"]), default=None)
@click.option("--cached", is_flag=True, help="Use the discovery cache if fresh.")
@click.option("-o", "--output", default="", help="wide or name.")
@connection_options
def api_resources(namespaced, api_group, verbs, no_headers, sort_by, cached,
                  output):
    """Print the supported API resources on the server."""
    s = session()
    if output not in ("", "wide", "name"):
        raise UsageError(f"--output {output} is not available")
    if not cached:
        s.discovery.refresh()
    wanted = {v for part in verbs for v in part.split(",") if v}
    found = [r for r in s.discovery.resources()
             if (namespaced is None or r.namespaced == namespaced)
             and (api_group is None or r.group == api_group)
             and wanted <= set(r.verbs)]
    # Unsorted, kubectl groups by API group; --sort-by sorts across groups.
    found.sort(key=lambda r: getattr(r, sort_by) if sort_by else (r.group, r.name))
    if output == "name":
        for r in found:
            s.print(r.qualified)
        return
    s.out.write(printers.plain_table(_table(found, output == "wide"),
                                     headers=not no_headers))


def _table(found, wide: bool) -> printers.Table:
    headers = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    if wide:
        headers += ["VERBS", "CATEGORIES"]
    table = printers.Table(headers)
    for r in found:
        row = [r.name, ",".join(r.short_names), r.group_version,
               "true" if r.namespaced else "false", r.kind]
        if wide:
            row += [",".join(sorted(r.verbs)), ",".join(r.categories)]
        table.rows.append(row)
    return table
