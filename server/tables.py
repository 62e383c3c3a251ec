"""Server-side tables (meta.k8s.io/v1 Table), as ``kubectl get`` asks for them.

The cells of a row are computed once per object version and kept with the
cache entry, already encoded; only age columns are rendered per request,
since their text moves with the clock.
"""

from __future__ import annotations

import time
from datetime import datetime

import orjson

from server.cache import Entry, encode_kept
from server.registry import Kind
from server.registry.base import Timed

TABLE_HEAD = b'{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":'


def human_duration(seconds: float) -> str:
    """Kubernetes' duration.HumanDuration: how kubectl prints an age."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24
        rest = days % 365
        return f"{days // 365}y{rest}d" if rest else f"{days // 365}y"
    return f"{hours // 24 // 365}y"


def parse_timestamp(text: str) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def age(timestamp: object, now: float) -> str:
    """An age cell: ``<unknown>`` when there is no time, as kubectl prints it."""
    when = parse_timestamp(timestamp) if isinstance(timestamp, str) else None
    return "<unknown>" if when is None else human_duration(now - when)


def timed(cell, now: float) -> str:
    """A Timed cell's text at ``now``."""
    return f"{cell.before}{age(cell.timestamp, now)}{cell.after}"


class AgeCells:
    """The encoded age cells of one response, one per distinct timestamp.

    Objects created together share a timestamp to the second, so a list of
    many rows renders few ages; parsing and formatting each row's own was
    most of the cost of a large Table.
    """

    def __init__(self, now: float):
        self.now = now
        self.cells: dict[str, bytes] = {}

    def cell(self, timestamp: object) -> bytes:
        if not isinstance(timestamp, str):
            return orjson.dumps(age(timestamp, self.now))
        cell = self.cells.get(timestamp)
        if cell is None:
            cell = self.cells[timestamp] = orjson.dumps(age(timestamp, self.now))
        return cell


class RowCache:
    """Encoded cells and metadata of one entry, for one kind's columns."""

    __slots__ = ("cells", "ages", "timed", "metadata", "revision")

    def __init__(self, kind: Kind, entry: Entry):
        obj = entry.object()
        columns = kind.columns()
        self.cells: list[bytes] = []
        self.ages: list[str | None] = []
        # (index, Timed) of the cells with an age inside, written per request.
        self.timed: list[tuple[int, Timed]] = []
        for index, column in enumerate(columns):
            value = _cell(column, obj)
            if column.age and value is None:
                value = ""
            if isinstance(value, Timed):
                self.timed.append((index, value))
                value = ""
            self.ages.append(value if column.age else None)
            self.cells.append(b"" if column.age else encode_kept(value))
        self.metadata = encode_kept(obj.get("metadata", {}))
        self.revision = entry.revision

    def encode(self, ages: AgeCells, include: str, entry: Entry, api_version: str,
               kind_name: str) -> bytes:
        cells = [
            ages.cell(a) if a is not None else c
            for c, a in zip(self.cells, self.ages)
        ]
        for index, cell in self.timed:
            cells[index] = orjson.dumps(timed(cell, ages.now))
        row = b'{"cells":[' + b",".join(cells) + b"]"
        if include == "Object":
            row += b',"object":' + entry.data
        elif include != "None":
            row += (b',"object":{"kind":"PartialObjectMetadata",'
                    b'"apiVersion":"meta.k8s.io/v1","metadata":' + self.metadata
                    + b"}")
        return row + b"}"


def _cell(column, obj: dict) -> object:
    try:
        value = column.cell(obj)
    except (KeyError, IndexError, TypeError, ValueError):
        value = "<none>" if not column.age else ""
    return value


def row_of(kind: Kind, entry: Entry) -> RowCache:
    row = entry.row
    if row is None or row.revision != entry.revision:
        row = entry.row = RowCache(kind, entry)
    return row


def column_definitions(kind: Kind) -> bytes:
    return orjson.dumps([c.definition() for c in kind.columns()])


def table(kind: Kind, entries, list_meta: dict, include: str = "Metadata",
          headers: bool = True) -> bytes:
    """A Table of ``entries``; ``headers`` False leaves out the column
    definitions, as kube-apiserver does after the first event of a watch."""
    ages = AgeCells(time.time())
    rows = [row_of(kind, e).encode(ages, include, e, kind.api_version, kind.kind)
            for e in entries]
    body = TABLE_HEAD + orjson.dumps(list_meta)
    if headers:
        body += b',"columnDefinitions":' + column_definitions(kind)
    else:
        body += b',"columnDefinitions":null'
    return body + b',"rows":[' + b",".join(rows) + b"]}"
