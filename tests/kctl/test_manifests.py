"""Reading -f sources: documents, lists, JSON streams, directories, errors."""

from __future__ import annotations

import io

from kctl import manifests

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {}\n"


def names(found):
    return [m.obj["metadata"]["name"] for m in found if m.obj]


def test_multi_document_skips_empty_and_comment_only_documents():
    text = POD.format("a") + "---\n# only a comment\n---\n\n---\n" + POD.format("b")

    found = manifests.parse(text, "pods.yaml")

    assert names(found) == ["a", "b"]
    assert [m.document for m in found] == [1, 4]  # every document counts


def test_separator_with_a_trailing_comment_still_separates():
    found = manifests.parse(POD.format("a") + "--- # next\n" + POD.format("b"))

    assert names(found) == ["a", "b"]


def test_list_is_expanded_into_its_items():
    text = ("apiVersion: v1\nkind: List\nitems:\n"
            "- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n"
            "- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n")

    assert names(manifests.parse(text)) == ["a", "b"]


def test_json_stream_of_objects():
    text = ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}}\n'
            '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b"}}')

    assert names(manifests.parse(text)) == ["a", "b"]


def test_bad_yaml_names_line_and_column_in_the_file_and_spares_the_rest():
    bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n  labels: a: b\n"
    text = POD.format("a") + "---\n" + bad + "---\n" + POD.format("c")

    found = manifests.parse(text, "pods.yaml")

    assert names(found) == ["a", "c"]
    error = found[1].error
    assert found[1].document == 2
    assert str(error) == ("yaml: line 10, column 12: mapping values are not "
                          "allowed in this context")


def test_a_billion_laughs_document_is_refused_and_spares_the_rest():
    from tests.server.test_bad_input import billion_laughs

    text = billion_laughs(9).decode() + "---\n" + POD.format("c")

    found = manifests.parse(text, "bomb.yaml")

    assert names(found) == ["c"]
    assert str(found[0].error) == ("error converting YAML to JSON: yaml: document "
                                   "contains excessive aliasing")


def test_missing_kind_is_reported_for_that_document():
    found = manifests.parse("apiVersion: v1\nmetadata:\n  name: a\n")

    assert str(found[0].error) == "kind not set"


def test_directory_reads_manifest_files_and_recurses_only_with_r(tmp_path):
    (tmp_path / "a.yaml").write_text(POD.format("a"))
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json").write_text(
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b"}}')

    flat = manifests.read([str(tmp_path)])
    deep = manifests.read([str(tmp_path)], recursive=True)

    assert names(flat) == ["a"]
    assert names(deep) == ["a", "b"]


def test_stdin_is_read_for_dash():
    found = manifests.read(["-"], stdin=io.StringIO(POD.format("s")))

    assert names(found) == ["s"]
    assert found[0].source == "STDIN"


def test_stdin_bytes_that_are_not_utf8_are_an_error_of_stdin_alone():
    found = manifests.read(["-"], stdin=io.BytesIO(b"kind: \xff\n"))

    assert [(m.source, str(m.error)) for m in found] == [
        ("STDIN", "error converting YAML to JSON: yaml: invalid UTF-8 at byte 6 "
                  "(0xff)")]
