"""kctl version: the client's version and the server's /version."""

from __future__ import annotations

import click

from kctl.client import USER_AGENT
from kctl.errors import UsageError
from kctl.options import connection_options, session

CLIENT_VERSION = "v" + USER_AGENT.split("/", 1)[1]


@click.command()
@click.option("--client", "client_only", is_flag=True,
              help="Only the client version; no server is contacted.")
@click.option("-o", "--output", default="", help="json or yaml.")
@connection_options
def version(client_only, output):
    """Print the client and server version information."""
    s = session()
    if output not in ("", "json", "yaml"):
        raise UsageError(f"--output must be 'yaml' or 'json', not {output!r}")
    data = {"clientVersion": {"gitVersion": CLIENT_VERSION}}
    if not output:
        # As kubectl: the client's line comes first, so a server that cannot
        # be reached still leaves it on stdout above the error.
        s.print(f"Client Version: {CLIENT_VERSION}")
        s.out.flush()
    if not client_only:
        data["serverVersion"] = s.client.get("/version")
    if output == "json":
        from kctl.printers import to_json

        s.out.write(to_json(data))
    elif output == "yaml":
        from kctl.printers import to_yaml

        s.out.write(to_yaml(data))
    elif not client_only:
        s.print(f"Server Version: {data['serverVersion'].get('gitVersion', '')}")
