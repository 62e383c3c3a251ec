"""The standard json module and orjson, chosen by size, write the same bytes."""

from __future__ import annotations

import json

import pytest

from kctl import jsonio

SAMPLE = {
    "items": [{"metadata": {"name": "é-ü", "labels": {}, "annotations": {
        "b": "line\nbreak\ttab\u0001\u2028", "a": "<&>\"\\"}},
        "spec": {"containers": [], "n": [1, -2, 1.5, 0.1, True, None]}}],
    "kind": "List", "emoji": "\U0001f600",
}


@pytest.mark.parametrize("use_orjson", [False, True], ids=["json", "orjson"])
def test_indented_is_the_same_either_way(monkeypatch, use_orjson):
    monkeypatch.setattr(jsonio, "_worth_orjson", lambda obj: use_orjson)

    text = jsonio.indented(SAMPLE)

    monkeypatch.setattr(jsonio, "_worth_orjson", lambda obj: not use_orjson)
    assert text == jsonio.indented(SAMPLE)
    assert text.startswith('{\n    "emoji": "\U0001f600",\n    "items": [\n')


def test_a_large_body_parses_as_a_small_one_does():
    body = jsonio.dumps({"items": [SAMPLE] * 2000})

    assert len(body) >= jsonio.LARGE
    assert jsonio.loads(body) == json.loads(body)
