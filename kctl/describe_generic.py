"""kubectl's generic describer, for a kind without a page of its own: the
metadata kubectl always shows, then every other field as an indented tree
(printUnstructuredContent), with field names made readable (smartLabelFor).
"""

from __future__ import annotations

import unicodedata

from kctl.describe import Writer, _labels_annotations, events_block

_SKIP = {".metadata.managedFields", ".metadata.name", ".metadata.namespace",
         ".metadata.labels", ".metadata.annotations"}
_ACRONYMS = {"API", "URL", "UID", "OSB", "GUID"}


def describe_generic(obj: dict, events: list[dict] | None) -> str:
    w = Writer()
    meta = obj.get("metadata") or {}
    # kubectl prints Namespace even for a cluster-scoped kind, empty.
    w.line(0, f"Name:\t{meta.get('name', '')}")
    w.line(0, f"Namespace:\t{meta.get('namespace', '')}")
    _labels_annotations(w, obj)
    _content(w, 0, obj, "")
    events_block(w, events)
    return w.text()


def _content(w: Writer, level: int, content: dict, prefix: str) -> None:
    from kctl.jsonpath import str_value

    for field in sorted(content):
        path, value = f"{prefix}.{field}", content[field]
        if path in _SKIP:
            continue
        if isinstance(value, dict):
            w.line(level, f"{smart_label(field)}:")
            _content(w, level + 1, value, path)
        elif isinstance(value, list):
            w.line(level, f"{smart_label(field)}:")
            for item in value:
                # Items of a list follow one another with no marker between.
                if isinstance(item, dict):
                    _content(w, level + 1, item, path)
                else:
                    w.line(level + 1, _go_value(item, str_value))
        else:
            w.line(level, f"{smart_label(field)}:\t{_go_value(value, str_value)}")


def _go_value(value, str_value) -> str:
    # Go's %v: <nil> for null, [a b] for a list.
    if value is None:
        return "<nil>"
    if isinstance(value, list):
        return "[" + " ".join(_go_value(v, str_value) for v in value) + "]"
    return str_value(value)


def smart_label(field: str) -> str:
    """"podIP" -> "Pod IP", "apiVersion" -> "API Version"; a name with any
    character but letters and "-" is kept as it is ("config.yaml", "a/b")."""
    if any(not c.isalpha() and c != "-" for c in field):
        return field
    parts = []
    for part in camelcase_split(field):
        if part.upper() in _ACRONYMS:
            parts.append(part.upper())
        else:
            parts.append(part[:1].upper() + part[1:])
    return " ".join(parts)


def camelcase_split(text: str) -> list[str]:
    """fatih/camelcase's Split: runs of lower case, upper case, digits and
    anything else; an upper-case run followed by lower case gives its last
    letter to the next word ("HTMLFile" -> "HTML", "File")."""
    runs: list[list[str]] = []
    last = None
    for char in text:
        kind = _class(char)
        if runs and kind == last:
            runs[-1].append(char)
        else:
            runs.append([char])
        last = kind
    for i in range(len(runs) - 1):
        if _class(runs[i][0]) == "upper" and _class(runs[i + 1][0]) == "lower":
            runs[i + 1].insert(0, runs[i].pop())
    return ["".join(run) for run in runs if run]


def _class(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Ll":
        return "lower"
    if category == "Lu":
        return "upper"
    if char.isdigit():
        return "digit"
    return "other"
