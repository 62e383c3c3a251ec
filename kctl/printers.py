"""Output formats: tables (plain or rich), json, yaml, name, jsonpath, custom-columns.

Tables come from the server's meta.k8s.io/v1 Table answers, so there is one
source of columns. Piped, they print exactly as kubectl prints them: upper-case
headers, cells padded to the widest plus 3 spaces with a minimum width of 6
(kubectl's tabwriter settings), the last column unpadded. In a terminal they
are drawn with rich, unless large: rich takes seconds for 10,000 rows.
"""

from __future__ import annotations

from kctl.record import field, record

from kctl.errors import CommandError, UsageError
from kctl.jsonpath import escape_html, str_value

_MIN_WIDTH = 6
_PADDING = 3
RICH_ROW_LIMIT = 2000


@record
class Table:
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    # Indexes of the rows' status-like columns, for colour in a terminal.
    status_column: int | None = None
    # Set on a row: 'deleted' rows are drawn struck out by the live watch view.
    marks: list[str] = field(default_factory=list)


@record
class TableOptions:
    wide: bool = False
    with_namespace: bool = False
    show_labels: bool = False
    label_columns: list[str] = field(default_factory=list)
    kind_prefix: str = ""  # "pod": names print as pod/NAME
    no_headers: bool = False


def cell_text(value) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "<none>"
    return str_value(value)


def from_server_table(data: dict, options: TableOptions) -> Table:
    """A printable Table from a meta.k8s.io/v1 Table answer."""
    columns = data.get("columnDefinitions") or []
    shown = [i for i, c in enumerate(columns)
             if options.wide or not c.get("priority")]
    headers = [columns[i]["name"].upper() for i in shown]
    if options.with_namespace:
        headers.insert(0, "NAMESPACE")
    headers += [_label_header(key) for key in options.label_columns]
    if options.show_labels:
        headers.append("LABELS")
    name_index = _name_column(columns, shown)
    table = Table(headers, status_column=_status_column(headers))
    for row in data.get("rows") or []:
        table.rows.append(_row(row, shown, name_index, options))
    return table


def _label_header(key: str) -> str:
    return key.rsplit("/", 1)[-1].upper()


def _name_column(columns: list[dict], shown: list[int]) -> int:
    for position, index in enumerate(shown):
        if columns[index].get("format") == "name":
            return position
    return 0


def _status_column(headers: list[str]) -> int | None:
    return headers.index("STATUS") if "STATUS" in headers else None


def _row(row: dict, shown: list[int], name_index: int,
         options: TableOptions) -> list[str]:
    cells = row.get("cells") or []
    texts = [cell_text(cells[i]) if i < len(cells) else "" for i in shown]
    if options.kind_prefix and texts:
        texts[name_index] = f"{options.kind_prefix}/{texts[name_index]}"
    meta = (row.get("object") or {}).get("metadata") or {}
    if options.with_namespace:
        texts.insert(0, meta.get("namespace", ""))
    labels = meta.get("labels") or {}
    texts += [labels.get(key, "") for key in options.label_columns]
    if options.show_labels:
        texts.append(format_labels(labels))
    return texts


def format_labels(labels: dict) -> str:
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


# Plain text.


class ColumnWidths:
    """Widths remembered between flushes, as kubectl's watch output keeps them."""

    def __init__(self):
        self.widths: list[int] = []

    def fit(self, rows: list[list[str]]) -> None:
        for row in rows:
            for i, cell in enumerate(row[:-1]):
                width = max(len(cell) + _PADDING, _MIN_WIDTH)
                if i >= len(self.widths):
                    self.widths.append(width)
                elif width > self.widths[i]:
                    self.widths[i] = width

    def format(self, row: list[str]) -> str:
        cells = [cell.ljust(self.widths[i]) for i, cell in enumerate(row[:-1])]
        return "".join(cells) + (row[-1] if row else "")


def plain_lines(table: Table, headers: bool = True,
                widths: ColumnWidths | None = None) -> list[str]:
    rows = ([table.headers] if headers else []) + table.rows
    widths = widths or ColumnWidths()
    widths.fit(rows)
    return [widths.format(row) for row in rows]


def plain_table(table: Table, headers: bool = True) -> str:
    lines = plain_lines(table, headers)
    return "\n".join(lines) + "\n" if lines else ""


# Rich, for a terminal.

_STATUS_STYLES = {
    "Running": "green", "Ready": "green", "Active": "green", "Bound": "green",
    "Succeeded": "blue", "Completed": "blue",
    "Pending": "yellow", "ContainerCreating": "yellow", "Terminating": "yellow",
    "NotReady": "red", "Failed": "red", "Error": "red", "Unknown": "red",
    "CrashLoopBackOff": "red", "ImagePullBackOff": "red", "ErrImagePull": "red",
    "OOMKilled": "red", "Evicted": "red",
}


def status_style(text: str) -> str | None:
    return _STATUS_STYLES.get(text.split(",")[0])


def rich_table(table: Table, headers: bool = True):
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    # Three spaces between columns, as kubectl's tab writer pads them (two
    # of padding and the box's divider), so a table that fits kubectl's
    # width fits the terminal here too.
    out = RichTable(box=box.SIMPLE_HEAD if headers else None,
                    show_header=headers, header_style="bold", pad_edge=False,
                    padding=(0, COLUMN_GAP - (1 if headers else 0), 0, 0),
                    show_edge=False)
    for header in table.headers:
        out.add_column(header, no_wrap=True, overflow="ignore")
    for index, row in enumerate(table.rows):
        mark = table.marks[index] if index < len(table.marks) else ""
        cells = [Text(cell) for cell in row]
        if table.status_column is not None and table.status_column < len(row):
            style = status_style(row[table.status_column])
            if style:
                cells[table.status_column].stylize(style)
        if mark == "deleted":
            for cell in cells:
                cell.stylize("strike dim red")
        out.add_row(*cells)
    return out


COLUMN_GAP = 3


def natural_width(table: Table) -> int:
    """The width of the table with no cell cut: what kubectl prints."""
    rows = [table.headers, *table.rows]
    widths = [max(len(row[i]) for row in rows if i < len(row))
              for i in range(len(table.headers))]
    return sum(widths) + COLUMN_GAP * len(widths)


def print_table(table: Table, out, terminal: bool, headers: bool = True) -> None:
    if terminal and len(table.rows) <= RICH_ROW_LIMIT:
        from rich.console import Console

        console = Console(file=out, highlight=False)
        # Never cut a cell to fit: a wider table wraps in the terminal, as
        # kubectl's does, rather than losing its last letters.
        console.width = max(console.width, natural_width(table))
        console.print(rich_table(table, headers))
    else:
        out.write(plain_table(table, headers))


# Serialised objects.


def to_json(obj, managed_fields: bool = False) -> str:
    """As kubectl -o json: 4-space indent, sorted keys, Go's HTML escapes;
    metadata.managedFields left out unless asked for, as kubectl does."""
    from kctl import jsonio

    if not managed_fields:
        obj = without_managed_fields(obj)
    return escape_html(jsonio.indented(obj)) + "\n"


def to_yaml(obj, managed_fields: bool = False) -> str:
    from kctl import yamlio

    if not managed_fields:
        obj = without_managed_fields(obj)
    return yamlio.dump(obj)


def without_managed_fields(obj):
    """``obj`` (an object or a list of them) without metadata.managedFields;
    ``obj`` itself is not changed."""
    if not isinstance(obj, dict):
        return obj
    if isinstance(obj.get("items"), list):
        obj = {**obj, "items": [without_managed_fields(i) for i in obj["items"]]}
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        obj = {**obj, "metadata": {k: v for k, v in meta.items()
                                   if k != "managedFields"}}
    return obj


def as_list(items: list[dict]) -> dict:
    """kubectl prints several objects as a v1 List."""
    return {"apiVersion": "v1", "items": items, "kind": "List",
            "metadata": {"resourceVersion": ""}}


def name_of(obj: dict, kind_name: str) -> str:
    return f"{kind_name}/{obj.get('metadata', {}).get('name', '')}"


def compile_template(fmt: str, argument: str):
    """The printer of ``-o jsonpath=...`` or ``-o custom-columns=...``, checked
    before anything is fetched, as kubectl checks it; else None."""
    if fmt in ("jsonpath", "jsonpath-as-json"):
        return JSONPathPrinter(argument, as_json=fmt == "jsonpath-as-json")
    if fmt == "custom-columns":
        return CustomColumns(argument)
    return None


class JSONPathPrinter:
    """``-o jsonpath=TEMPLATE`` with kubectl's two wordings of failure."""

    def __init__(self, template: str, as_json: bool = False):
        from kctl.jsonpath import JSONPath, JSONPathError

        self.as_json = as_json
        try:
            self.path = JSONPath(template)
        except JSONPathError as exc:
            raise UsageError(f"error parsing jsonpath {template}, {exc}") from None

    def render(self, data) -> str:
        from kctl.jsonpath import JSONPathError

        try:
            if self.as_json:
                return self.path.render_json(data)
            return self.path.render(data)
        except JSONPathError as exc:
            # kubectl goes on to dump the whole object over several lines; the
            # first line says what went wrong.
            raise CommandError(f'error executing jsonpath "{self.path.template}": '
                               f"Error executing template: {exc}") from None


class CustomColumns:
    """``-o custom-columns=HEADER:.path,...``: a kubectl-style plain table.

    kubectl reports a bad spec or path as a failed command (exit 1) with the
    bare message, not as a usage error."""

    def __init__(self, spec: str):
        from kctl.jsonpath import JSONPath, JSONPathError, relaxed

        self.headers, self.paths = [], []
        for part in spec.split(","):
            header, sep, path = part.partition(":")
            if not sep or not path:
                raise CommandError(_bad_column(part))
            try:
                self.paths.append(JSONPath(relaxed(path)))
            except JSONPathError as exc:
                raise CommandError(str(exc)) from None
            self.headers.append(header)

    def render(self, objects: list[dict], no_headers: bool = False) -> str:
        from kctl.jsonpath import JSONPathError

        table = Table(self.headers)
        try:
            table.rows = [self._row(obj) for obj in objects]
        except JSONPathError as exc:
            raise CommandError(str(exc)) from None
        return plain_table(table, headers=not no_headers)

    def _row(self, obj: dict) -> list[str]:
        row = []
        for path in self.paths:
            values = path.values(obj)
            row.append(",".join(str_value(v) for v in values) if values
                       else "<none>")
        return row


def _bad_column(part: str) -> str:
    if not part:
        return "custom-columns format specified but no custom columns given"
    return (f"unexpected custom-columns spec: {part}, expected "
            "<header>:<json-path-expr>")


def custom_columns(spec: str, objects: list[dict], no_headers: bool = False) -> str:
    return CustomColumns(spec).render(objects, no_headers)
