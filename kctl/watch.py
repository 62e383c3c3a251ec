"""``kctl get -w``: a table that follows the server's watch events.

Piped, each event prints one line, aligned to the widths seen so far, as
kubectl does. In a terminal one live table is redrawn in place: a deleted row
is shown struck out once, then dropped at the next change. The watch resumes
from the last resourceVersion when the server ends it, and relists on
410 Gone (the resourceVersion was compacted away).
"""

from __future__ import annotations

from kctl import jsonio, printers
from kctl.client import TABLE_ACCEPT, APIError
from kctl.errors import UsageError
from kctl.resources import object_path


class Gone(Exception):
    pass


def watch_table(s, targets, namespace, query, fmt, watch_only, options,
                template=None) -> None:
    if len(targets) != 1:
        raise UsageError("watch is only supported on individual resources and "
                         "resource collections, but "
                         f"{len(targets)} resources were found")
    target = targets[0]
    query = dict(query)
    if target.names:
        if len(target.names) > 1:
            raise UsageError("watch is only supported on a single name")
        query["fieldSelector"] = ",".join(
            p for p in (query.get("fieldSelector"), f"metadata.name={target.names[0]}")
            if p)
    path = object_path(target.resource, namespace)
    if fmt not in ("", "wide"):
        view = ObjectView(s, fmt, template, target.resource.kind_name,
                          options.no_headers)
    elif s.terminal:
        view = LiveView(s, options)
    else:
        view = LineView(s, options)
    try:
        _follow(s, path, query, view, watch_only)
    finally:
        view.close()


def _follow(s, path, query, view, watch_only) -> None:
    resource_version = _list(s, path, query, view, show=not watch_only)
    while True:
        try:
            resource_version = _stream(s, path, query, resource_version, view)
        except Gone:
            resource_version = _list(s, path, query, view, show=False)


def _list(s, path, query, view, show: bool) -> str:
    answer = s.client.get(path, query, accept=view.accept)
    view.columns(answer)
    if show:
        for row in view.listed(answer):
            view.event("ADDED", row)
    view.flush()
    return (answer.get("metadata") or {}).get("resourceVersion", "")


def _stream(s, path, query, resource_version, view) -> str:
    params = dict(query, watch="true", resourceVersion=resource_version,
                  allowWatchBookmarks="true")
    stream = s.client.stream("GET", path, params, accept=view.accept)
    try:
        for line in stream.lines():
            if not line.strip():
                continue
            event = jsonio.loads(line)
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                if obj.get("code") == 410:
                    raise Gone()
                raise APIError(obj.get("code", 500), obj)
            resource_version = _version(obj) or resource_version
            if kind == "BOOKMARK":
                continue
            for row in view.rows(obj):
                view.event(kind, row)
            view.flush()
    finally:
        stream.close()
    return resource_version


def _version(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    if obj.get("kind") == "Table":
        rows = obj.get("rows") or []
        if rows:
            meta = (rows[-1].get("object") or {}).get("metadata") or meta
    return meta.get("resourceVersion", "")


def _rows(obj: dict, view) -> list[dict]:
    if obj.get("kind") == "Table":
        if obj.get("columnDefinitions"):
            view.columns(obj)
        return obj.get("rows") or []
    # A server that sends plain objects in a Table watch: the name is all we
    # can print.
    return [{"cells": [obj.get("metadata", {}).get("name", "")] +
             [""] * (len(view.definitions) - 1),
             "object": {"metadata": obj.get("metadata") or {}}}]


class LineView:
    """One line per event, widths remembered across events."""

    accept = TABLE_ACCEPT

    def __init__(self, s, options):
        self.s = s
        self.options = options
        self.definitions: list[dict] = []
        self.widths = printers.ColumnWidths()
        self.header_done = options.no_headers
        self.pending: list[list[str]] = []

    def columns(self, answer: dict) -> None:
        self.definitions = answer.get("columnDefinitions") or self.definitions

    def listed(self, answer: dict) -> list[dict]:
        return answer.get("rows") or []

    def rows(self, obj: dict) -> list[dict]:
        return _rows(obj, self)

    def _table(self, rows: list[dict]) -> printers.Table:
        return printers.from_server_table(
            {"columnDefinitions": self.definitions, "rows": rows}, self.options)

    def event(self, kind: str, row: dict) -> None:
        self.pending.append(self._table([row]).rows[0])

    def flush(self) -> None:
        if not self.pending:
            return
        rows = self.pending
        if not self.header_done:
            rows = [self._table([]).headers] + rows
            self.header_done = True
        self.widths.fit(rows)
        for row in rows:
            self.s.out.write(self.widths.format(row) + "\n")
        self.s.out.flush()
        self.pending = []

    def close(self) -> None:
        pass


class LiveView(LineView):
    """One table redrawn in place with rich."""

    def __init__(self, s, options):
        super().__init__(s, options)
        from rich.console import Console
        from rich.live import Live

        # Cells by object; not "rows", which names the method that turns an
        # event into table rows.
        self.shown: dict[str, list[str]] = {}
        self.marks: dict[str, str] = {}
        self.live = Live(console=Console(file=s.out), auto_refresh=False)
        self.live.start()

    def event(self, kind: str, row: dict) -> None:
        for key in [k for k, mark in self.marks.items() if mark == "deleted"]:
            self.shown.pop(key, None)
            self.marks.pop(key, None)
        meta = (row.get("object") or {}).get("metadata") or {}
        key = meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"
        self.shown[key] = self._table([row]).rows[0]
        self.marks[key] = "deleted" if kind == "DELETED" else ""

    def flush(self) -> None:
        table = self._table([])
        table.rows = list(self.shown.values())
        table.marks = [self.marks[k] for k in self.shown]
        console = self.live.console
        console.width = max(console.width, printers.natural_width(table))
        self.live.update(printers.rich_table(table, not self.options.no_headers),
                         refresh=True)

    def close(self) -> None:
        self.live.stop()


class ObjectView:
    """``-w -o name|json|yaml|jsonpath=...|custom-columns=...``: each object
    printed as ``get`` prints one; YAML documents separated by ``---``."""

    accept = "application/json"

    def __init__(self, s, fmt: str, template, kind_name: str,
                 no_headers: bool):
        self.s = s
        self.fmt = fmt
        self.template = template  # printers.compile_template's, or None
        self.kind_name = kind_name
        self.headers = not no_headers
        self.count = 0

    def columns(self, answer: dict) -> None:
        pass

    def listed(self, answer: dict) -> list[dict]:
        kind = answer.get("kind", "").removesuffix("List")
        items = answer.get("items") or []
        for item in items:
            item.setdefault("apiVersion", answer.get("apiVersion"))
            item.setdefault("kind", kind)
        return items

    def rows(self, obj: dict) -> list[dict]:
        return [obj]

    def event(self, kind: str, obj: dict) -> None:
        self.count += 1
        self.s.out.write(self._render(obj))

    def _render(self, obj: dict) -> str:
        if self.fmt == "name":
            return printers.name_of(obj, self.kind_name) + "\n"
        if self.fmt == "json":
            return printers.to_json(obj)
        if self.fmt == "yaml":
            return ("---\n" if self.count > 1 else "") + printers.to_yaml(obj)
        if self.fmt == "custom-columns":
            text = self.template.render([obj], not self.headers)
            self.headers = False
            return text
        return self.template.render(obj)

    def flush(self) -> None:
        self.s.out.flush()

    def close(self) -> None:
        pass
