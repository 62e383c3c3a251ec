"""kctl events: the events of a namespace (or of one object), oldest first, in
kubectl events' columns."""

from __future__ import annotations

import datetime as dt

import click

from kctl import printers
from kctl.errors import CommandError
from kctl.options import connection_options, output_option, session

EXAMPLES = """
\b
Examples:
  kctl events
  kctl events --for pod/web --types=Warning
  kctl events -A -o yaml
"""

TYPES = ("Normal", "Warning")


@click.command(epilog=EXAMPLES)
@click.option("--for", "for_object", default="", metavar="TYPE/NAME",
              help="Only the events of this object.")
@click.option("--types", default="", help="Only events of these types "
              "(Normal, Warning; comma-separated).")
@click.option("-A", "--all-namespaces", is_flag=True,
              help="Events of every namespace.")
@click.option("--no-headers", is_flag=True, help="Print no header line.")
@click.option("--chunk-size", default=500, type=int, show_default=True,
              help="List in pages of this many events (0: one request).")
@output_option("json|yaml")
@connection_options
def events(for_object, types, all_namespaces, no_headers, chunk_size, output):
    """List events."""
    s = session()
    wanted = [t for t in types.split(",") if t]
    for kind in wanted:
        if kind.capitalize() not in TYPES:
            raise CommandError("valid --types are Normal or Warning")
    if output not in ("", "json", "yaml"):
        raise CommandError(f'unable to match a printer suitable for the output '
                           f'format "{output}", allowed formats are: json,yaml')
    query = {}
    if for_object:
        query["fieldSelector"] = _involving(s, for_object)
    path = "/api/v1/events" if all_namespaces else \
        f"/api/v1/namespaces/{s.namespace}/events"
    items = _list(s, path, query, chunk_size)
    if wanted:
        allowed = {t.capitalize() for t in wanted}
        items = [e for e in items if e.get("type") in allowed]
    items.sort(key=event_time)
    if output:
        data = {"kind": "EventList", "apiVersion": "v1", "metadata": {},
                "items": items}
        s.out.write(printers.to_json(data) if output == "json" else
                    printers.to_yaml(data))
        return
    if not items:
        s.warn("No events found." if all_namespaces else
               f"No events found in {s.namespace} namespace.")
        return
    s.out.write(table(items, all_namespaces, not no_headers))


def _involving(s, text: str) -> str:
    from kctl.resources import parse

    kind_text, _, name = text.partition("/")
    if not name:
        raise CommandError("--for must be in resource/name form")
    resource = parse([kind_text], s.discovery, "events")[0].resource
    return f"involvedObject.kind={resource.kind},involvedObject.name={name}"


def _list(s, path: str, query: dict, chunk_size: int) -> list[dict]:
    items, token = [], ""
    while True:
        page = dict(query)
        if chunk_size > 0:
            page["limit"] = str(chunk_size)
        if token:
            page["continue"] = token
        answer = s.client.get(path, page)
        items += answer.get("items") or []
        token = (answer.get("metadata") or {}).get("continue", "")
        if not token:
            return items


_EPOCH = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def event_time(event: dict) -> dt.datetime:
    """When the event last happened, as kubectl events sorts them."""
    from kctl.describe import parse_time

    series = event.get("series") or {}
    text = series.get("lastObservedTime") or event.get("lastTimestamp") or \
        event.get("eventTime")
    return parse_time(text) or _EPOCH


def last_seen(event: dict, now: dt.datetime | None = None) -> str:
    from kctl.describe import human_duration

    now = now or dt.datetime.now(dt.timezone.utc)
    happened = event_time(event)
    if happened is _EPOCH:
        return "<unknown>"
    interval = human_duration((now - happened).total_seconds())
    count = event.get("count") or 0
    if count > 1:
        from kctl.describe import parse_time

        first = parse_time(event.get("firstTimestamp"))
        over = human_duration((now - first).total_seconds()) if first else \
            "<unknown>"
        return f"{interval} (x{count} over {over})"
    return interval


def table(items: list[dict], namespaces: bool, headers: bool) -> str:
    from kctl.tabwriter import align

    rows = []
    if headers:
        head = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
        rows.append((["NAMESPACE"] if namespaces else []) + head)
    now = dt.datetime.now(dt.timezone.utc)
    for event in items:
        involved = event.get("involvedObject") or {}
        row = [last_seen(event, now), event.get("type", ""),
               event.get("reason", ""),
               f"{involved.get('kind', '')}/{involved.get('name', '')}",
               (event.get("message") or "").strip()]
        if namespaces:
            row.insert(0, (event.get("metadata") or {}).get("namespace", ""))
        rows.append(row)
    # kubectl's tab writer: cells padded by 3, at least 6 wide.
    return align("\n".join("\t".join(r) for r in rows), 6, 3) + "\n"
