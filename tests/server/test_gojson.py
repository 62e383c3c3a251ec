"""Go's view of JSON: encoding/json's syntax errors and fmt's %v."""

from __future__ import annotations

import pytest

from server.gojson import GoJSONError, decode, go_equal, go_fmt, json_kind


@pytest.mark.parametrize("text, message", [
    ("", "unexpected end of JSON input"),
    ('{"a":1', "unexpected end of JSON input"),
    ('{"a":"b', "unexpected end of JSON input"),
    ("x", "invalid character 'x' looking for beginning of value"),
    ('{"a":}', "invalid character '}' looking for beginning of value"),
    ("{a:1}", "invalid character 'a' looking for beginning of object key string"),
    ('{"a" 1}', "invalid character '1' after object key"),
    ('{"a":1 "b":2}', "invalid character '\"' after object key:value pair"),
    ("[1 2]", "invalid character '2' after array element"),
    ('{"a":[1 2]}', "invalid character '2' after array element"),
    ("{}x", "invalid character 'x' after top-level value"),
    ('"a\nb"', "invalid character '\\n' in string literal"),
    ('"\\q"', "invalid character 'q' in string escape code"),
    ("trux", "invalid character 'x' in literal true (expecting 'e')"),
    ("NaN", "invalid character 'N' looking for beginning of value"),
    ("'a'", "invalid character '\\'' looking for beginning of value"),
], ids=["empty", "open-object", "open-string", "bad-start", "missing-value",
        "unquoted-key", "missing-colon", "missing-comma-in-object",
        "missing-comma-in-array", "nested-array", "trailing-data",
        "newline-in-string", "bad-escape", "bad-literal", "nan", "single-quote"])
def test_syntax_errors_read_as_go_writes_them(text, message):
    with pytest.raises(GoJSONError) as caught:
        decode(text)

    assert str(caught.value) == message


def test_decode_reads_bytes():
    assert decode(b'{"a": [1, 2.5, null, true]}') == {"a": [1, 2.5, None, True]}


@pytest.mark.parametrize("value, text", [
    ({"b": 1, "a": "x"}, "map[a:x b:1]"),
    ([1, "a", None, False], "[1 a <nil> false]"),
    (2.5, "2.5"),
    (1e6, "1e+06"),
    (123456.0, "123456"),
    (1e-05, "1e-05"),
    (0.0001, "0.0001"),
    (-1.5e7, "-1.5e+07"),
], ids=["map-sorted", "list", "float", "float-exponent", "float-plain",
        "small-exponent", "small-plain", "negative-exponent"])
def test_go_fmt(value, text):
    assert go_fmt(value) == text


def test_values_of_different_go_types_differ():
    assert not go_equal(1, 1.0)
    assert not go_equal(True, 1)
    assert go_equal("a", "a")
    assert [json_kind(v) for v in ({}, [], "", 1, 1.5, True, None)] == [
        "object", "array", "string", "number", "number", "bool", "null"]
