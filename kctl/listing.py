"""What ``kctl get`` does, apart from reading its command line.

Kept free of click so that kctl.fastpath can run a plain ``kctl get`` without
importing click, which alone costs about as long as kubectl takes for the
whole command (see kctl/fastpath.py).
"""

from __future__ import annotations

from kctl.record import field, record

from kctl import printers
from kctl.client import TABLE_ACCEPT, NotFound
from kctl.errors import AlreadyReported, CommandError, UsageError
from kctl.resources import Target, object_path, parse

_SIMPLE = ("json", "yaml", "name")


@record
class GetOptions:
    args: list[str] = field(default_factory=list)
    output: str = ""
    selector: str = ""
    field_selector: str = ""
    all_namespaces: bool = False
    no_headers: bool = False
    show_labels: bool = False
    label_columns: list[str] = field(default_factory=list)
    sort_by: str = ""
    chunk_size: int = 500
    watch: bool = False
    watch_only: bool = False
    ignore_not_found: bool = False
    show_managed_fields: bool = False


def run(s, o: GetOptions) -> None:
    fmt, argument = _output_format(o.output)
    template = printers.compile_template(fmt, argument)
    targets = parse(list(o.args), s.discovery)
    namespace = None if o.all_namespaces else s.namespace
    labels = [k for part in o.label_columns for k in part.split(",") if k]
    query = {"labelSelector": o.selector, "fieldSelector": o.field_selector}

    if o.watch or o.watch_only:
        from kctl.watch import watch_table

        return watch_table(s, targets, namespace, query, fmt, o.watch_only,
                           _table_options(fmt, o.all_namespaces, o.show_labels,
                                          labels, "", o.no_headers), template)

    getter = Getter(s, namespace, query, o.chunk_size, o.sort_by,
                    o.ignore_not_found)
    if fmt in ("", "wide"):
        printed = _print_tables(s, getter, targets, fmt, o.all_namespaces,
                                o.show_labels, labels, o.no_headers)
    else:
        printed = _print_objects(s, getter, targets, fmt, template, o.no_headers,
                                 o.show_managed_fields)
    if not printed and not getter.failed and not any(t.names for t in targets):
        s.warn(_no_resources(targets, namespace))
    if getter.failed:
        raise AlreadyReported()


def _output_format(output: str) -> tuple[str, str]:
    name, _, argument = output.partition("=")
    if name in ("", "wide") + _SIMPLE and not argument:
        return name, ""
    if name in ("jsonpath", "custom-columns") and argument:
        return name, argument
    if name == "custom-columns":
        return name, ""  # kubectl's own message for it comes from the printer
    if name == "jsonpath":
        raise UsageError("template format specified but no template given")
    if name == "jsonpath-as-json" and argument:
        return name, argument
    raise UsageError(f'unable to match a printer suitable for the output format '
                     f'"{output}", allowed formats are: custom-columns,json,'
                     f'jsonpath,name,wide,yaml')


def _no_resources(targets: list[Target], namespace: str | None) -> str:
    if namespace and any(t.resource.namespaced for t in targets):
        return f"No resources found in {namespace} namespace."
    return "No resources found"


def _table_options(fmt, all_namespaces, show_labels, labels, prefix,
                   no_headers) -> printers.TableOptions:
    return printers.TableOptions(wide=fmt == "wide", with_namespace=all_namespaces,
                                 show_labels=show_labels, label_columns=labels,
                                 kind_prefix=prefix, no_headers=no_headers)


class Getter:
    """Fetches what the targets name, printing a line for each failure."""

    def __init__(self, s, namespace, query, chunk_size, sort_by, ignore_not_found):
        self.s = s
        self.namespace = namespace
        self.query = query
        self.chunk_size = chunk_size
        self.sort_by = sort_by
        self.ignore_not_found = ignore_not_found
        self.failed = False

    def tables(self, target: Target) -> list[dict]:
        """Table answers: one per named object, or the pages of a list."""
        extra = {"includeObject": "Object"} if self.sort_by else {}
        if target.names:
            return self._named(target, TABLE_ACCEPT, extra)
        return list(self._pages(target, TABLE_ACCEPT, extra))

    def objects(self, target: Target) -> list[dict]:
        if target.names:
            return self._named(target, "application/json", {})
        items = []
        for page in self._pages(target, "application/json", {}):
            kind = page.get("kind", "").removesuffix("List")
            for item in page.get("items") or []:
                # List items come without apiVersion and kind; kubectl adds them.
                item.setdefault("apiVersion", page.get("apiVersion"))
                item.setdefault("kind", kind)
                items.append(item)
        return items

    def _named(self, target: Target, accept: str, extra: dict) -> list[dict]:
        found = []
        for name in target.names:
            path = object_path(target.resource, self.namespace or self.s.namespace,
                               name)
            try:
                found.append(self.s.client.get(path, extra, accept=accept))
            except NotFound as exc:
                if not self.ignore_not_found:
                    from kctl.main import server_error_line

                    self.s.warn(server_error_line(exc))
                    self.failed = True
        return found

    def _pages(self, target: Target, accept: str, extra: dict):
        path = object_path(target.resource, self.namespace)
        query = dict(self.query, **extra)
        if self.chunk_size > 0:
            query["limit"] = self.chunk_size
        while True:
            page = self.s.client.get(path, query, accept=accept)
            yield page
            token = (page.get("metadata") or {}).get("continue")
            if not token or self.chunk_size <= 0:
                return
            query["continue"] = token


def _print_tables(s, getter, targets, fmt, all_namespaces, show_labels, labels,
                  no_headers) -> bool:
    several = len(targets) > 1
    printed = False
    for target in targets:
        answers = getter.tables(target)
        prefix = target.resource.kind_name if several else ""
        options = _table_options(fmt, all_namespaces, show_labels, labels, prefix,
                                 no_headers)
        table = _merge_tables(answers, options, getter.sort_by)
        if table is None or not table.rows:
            continue
        if printed:
            s.print()
        printers.print_table(table, s.out, s.terminal, headers=not no_headers)
        printed = True
    return printed


def _merge_tables(answers: list[dict], options, sort_by: str):
    rows, columns = [], None
    for answer in answers:
        columns = columns or answer.get("columnDefinitions")
        rows.extend(answer.get("rows") or [])
    if columns is None:
        return None
    if sort_by:
        rows = _sorted(rows, sort_by, lambda row: row.get("object") or {})
    return printers.from_server_table({"columnDefinitions": columns, "rows": rows},
                                      options)


def _sorted(items: list, sort_by: str, obj_of) -> list:
    from kctl.jsonpath import JSONPath, JSONPathError, relaxed

    # kubectl reports a --sort-by that does not parse or run with the bare
    # message, as a failed command.
    try:
        path = JSONPath(relaxed(sort_by))
        return sorted(items, key=_sort_key(path, obj_of))
    except JSONPathError as exc:
        raise CommandError(str(exc)) from None


def _sort_key(path, obj_of):
    def key(item):
        values = path.values(obj_of(item))
        value = values[0] if values else None
        # kubectl sorts missing values first, numbers numerically.
        if value is None:
            return (0, 0, "")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (1, value, "")
        return (2, 0, str(value))

    return key


def _print_objects(s, getter, targets, fmt, template, no_headers,
                   managed_fields: bool = False) -> bool:
    pairs = [(obj, target.resource.kind_name) for target in targets
             for obj in getter.objects(target)]
    if getter.sort_by:
        pairs = _sorted(pairs, getter.sort_by, lambda pair: pair[0])
    objects = [obj for obj, _ in pairs]
    if fmt == "name":
        for obj, kind_name in pairs:
            s.print(printers.name_of(obj, kind_name))
        return bool(objects)
    if not objects and fmt != "custom-columns":
        return False
    single = len(objects) == 1 and len(targets) == 1 and len(targets[0].names) == 1
    data = objects[0] if single else printers.as_list(objects)
    s.out.write(_render(fmt, template, data, objects, no_headers, managed_fields))
    return bool(objects)


def _render(fmt: str, template, data: dict, objects: list[dict],
            no_headers: bool, managed_fields: bool = False) -> str:
    if fmt == "json":
        return printers.to_json(data, managed_fields)
    if fmt == "yaml":
        return printers.to_yaml(data, managed_fields)
    if fmt == "custom-columns":
        return template.render(objects, no_headers)
    return template.render(data)
