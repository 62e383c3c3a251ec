"""kctl cluster-info: where the control plane answers."""

from __future__ import annotations

import click

from kctl.options import connection_options, session


@click.command("cluster-info")
@connection_options
def cluster_info():
    """Display cluster information."""
    s = session()
    s.client.get("/version")  # fails with the usual line when unreachable
    server = s.connection.server
    if s.terminal:
        s.print(f"\x1b[0;32mKubernetes control plane\x1b[0m is running at "
                f"\x1b[0;33m{server}\x1b[0m")
    else:
        s.print(f"Kubernetes control plane is running at {server}")
    s.print()
    s.print("To further debug and diagnose cluster problems, use "
            "'kctl describe' and 'kctl logs'.")
