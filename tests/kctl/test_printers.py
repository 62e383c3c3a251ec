"""Tables from server Table answers, and serialised output, as kubectl prints."""

from __future__ import annotations

import json

from kctl import printers

TABLE = {
    "kind": "Table",
    "columnDefinitions": [
        {"name": "Name", "type": "string", "format": "name", "priority": 0},
        {"name": "Ready", "type": "string", "format": "", "priority": 0},
        {"name": "Status", "type": "string", "format": "", "priority": 0},
        {"name": "IP", "type": "string", "format": "", "priority": 1},
    ],
    "rows": [
        {"cells": ["nginx", "1/1", "Running", "10.0.0.5"],
         "object": {"metadata": {"name": "nginx", "namespace": "default",
                                 "labels": {"app": "web", "tier": "a"}}}},
        {"cells": ["a-much-longer-name", "0/1", "Pending", None],
         "object": {"metadata": {"name": "a-much-longer-name",
                                 "namespace": "kube-system"}}},
    ],
}


def render(**options) -> str:
    table = printers.from_server_table(TABLE, printers.TableOptions(**options))
    return printers.plain_table(table, headers=not options.get("no_headers"))


def test_plain_table_as_kubectl_prints_it():
    assert render() == (
        "NAME                 READY   STATUS\n"
        "nginx                1/1     Running\n"
        "a-much-longer-name   0/1     Pending\n")


def test_wide_adds_priority_columns_and_prints_none_for_null():
    assert render(wide=True) == (
        "NAME                 READY   STATUS    IP\n"
        "nginx                1/1     Running   10.0.0.5\n"
        "a-much-longer-name   0/1     Pending   <none>\n")


def test_namespace_labels_and_label_columns_come_from_row_metadata():
    assert render(with_namespace=True, show_labels=True,
                  label_columns=["app"], kind_prefix="pod") == (
        "NAMESPACE     NAME                     READY   STATUS    APP   LABELS\n"
        "default       pod/nginx                1/1     Running   web   app=web,tier=a\n"
        "kube-system   pod/a-much-longer-name   0/1     Pending         <none>\n")


def test_no_headers():
    assert render(no_headers=True).splitlines()[0].startswith("nginx ")


def test_minimum_column_width_is_six():
    table = printers.Table(["A", "B"], [["x", "y"]])

    assert printers.plain_table(table) == "A     B\nx     y\n"


def test_json_is_indented_by_four_sorted_and_html_escaped():
    text = printers.to_json({"b": [1, {"c": "<a&b>"}], "a": {}})

    assert text == ('{\n    "a": {},\n    "b": [\n        1,\n        {\n'
                    '            "c": "\\u003ca\\u0026b\\u003e"\n        }\n'
                    '    ]\n}\n')
    assert json.loads(text) == {"a": {}, "b": [1, {"c": "<a&b>"}]}


def test_custom_columns():
    objects = [{"metadata": {"name": "a", "labels": {"app": "x"}}},
               {"metadata": {"name": "bb"}}]

    text = printers.custom_columns("NAME:.metadata.name,APP:.metadata.labels.app",
                                   objects)

    assert text == "NAME   APP\na      x\nbb     <none>\n"


def test_a_terminal_table_is_spaced_as_kubectls_and_never_cut(monkeypatch):
    import io
    import re

    monkeypatch.setenv("COLUMNS", "30")  # narrower than the table
    table = printers.from_server_table(TABLE, printers.TableOptions(wide=True))
    for headers in (True, False):
        out = io.StringIO()
        printers.print_table(table, out, terminal=True, headers=headers)

        drawn = [re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip()
                 for line in out.getvalue().splitlines() if "─" not in line]
        plain = printers.plain_table(table, headers=headers).splitlines()
        assert drawn == plain
