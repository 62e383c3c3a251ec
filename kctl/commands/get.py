"""kctl get: list or fetch objects and print them in any output format."""

from __future__ import annotations

import click

from kctl.errors import CommandError
from kctl.options import connection_options, output_option, session, resource_args

EXAMPLES = """
\b
Examples:
  kctl get pods                          # pods of the current namespace
  kctl get pods -A -o wide               # in every namespace, more columns
  kctl get pod nginx -o yaml             # one object as YAML
  kctl get pods,services -l app=web      # two types, one label selector
  kctl get pods -o jsonpath='{.items[*].metadata.name}'
  kctl get pods -w                       # then every change, as it happens
  kctl get --raw /version                # the server's answer, as it is
"""


@click.command(epilog=EXAMPLES)
@resource_args
@output_option()
@click.option("-l", "--selector", default="", help="Label selector (a=b,c!=d).")
@click.option("--field-selector", default="", help="Field selector "
              "(metadata.name=x,status.phase!=Running).")
@click.option("-A", "--all-namespaces", is_flag=True,
              help="List across all namespaces.")
@click.option("--no-headers", is_flag=True, help="Print tables without headers.")
@click.option("--show-labels", is_flag=True, help="Add a LABELS column.")
@click.option("-L", "--label-columns", multiple=True, metavar="KEY",
              help="Add a column with the value of this label (repeat or "
              "comma-join).")
@click.option("--sort-by", default="", metavar="JSONPATH",
              help="Sort by a field, e.g. '{.metadata.name}'.")
@click.option("--chunk-size", default=500, show_default=True, type=int,
              help="List in pages of this many objects (0: one request).")
@click.option("-w", "--watch", is_flag=True,
              help="After listing, watch for changes.")
@click.option("--watch-only", is_flag=True,
              help="Watch for changes without listing first.")
@click.option("--ignore-not-found", is_flag=True,
              help="Print nothing for objects that do not exist.")
@click.option("--show-managed-fields", is_flag=True,
              help="Keep metadata.managedFields in -o json and -o yaml.")
@click.option("--raw", default="", metavar="PATH",
              help="GET this path (with its query) and print the body as sent.")
@connection_options
def get(args, output, selector, field_selector, all_namespaces, no_headers,
        show_labels, label_columns, sort_by, chunk_size, watch, watch_only,
        ignore_not_found, show_managed_fields, raw):
    """Display one or many resources."""
    if raw:
        return get_raw(session(), raw, args, output)
    from kctl.listing import GetOptions, run

    run(session(), GetOptions(
        list(args), output, selector, field_selector, all_namespaces, no_headers,
        show_labels, list(label_columns), sort_by, chunk_size, watch, watch_only,
        ignore_not_found, show_managed_fields))


def get_raw(s, target: str, args, output: str) -> None:
    """kubectl get --raw: the body of a GET of ``target``, byte for byte."""
    if args:
        raise CommandError("arguments may not be passed when --raw is specified")
    if output:
        raise CommandError("--raw and --output are mutually exclusive")
    if not target.startswith("/"):
        # Go's url.ParseRequestURI, which kubectl uses, wants an absolute path.
        raise CommandError(f'--raw must be a valid URL path: parse "{target}": '
                           f"invalid URI for request")

    answer = s.client.request_target("GET", target, accept="application/json, */*")

    out = getattr(s.out, "buffer", None)
    if out is not None:
        s.out.flush()
        out.write(answer.body)
    else:
        s.out.write(answer.body.decode("utf-8", "replace"))
