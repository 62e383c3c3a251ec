"""The schema language: fields, inline structs, names and checks."""

from __future__ import annotations

import pytest

from server.schema.dsl import (
    CORE, INT32, META, STRING, field, list_of, obj, ref,
)


def test_duplicate_field_numbers_are_refused():
    with pytest.raises(ValueError, match="duplicate protobuf field numbers"):
        obj("Bad", CORE, "", field("a", 1, STRING), field("b", 1, STRING))


def test_required_fields_are_not_omitted_when_empty():
    required = field("name", 1, STRING, required=True)
    optional = field("name", 1, STRING)

    assert required.omitempty is False
    assert optional.omitempty is True


def test_definition_names_reverse_the_domain():
    assert obj("Pod", CORE, "").definition_name == "io.k8s.api.core.v1.Pod"
    assert obj("ObjectMeta", META, "").definition_name == (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")


def test_go_type_names():
    assert list_of(ref("Container")).go_name() == "[]v1.Container"
    assert INT32.go_name() == "int32"


def test_inline_fields_are_flattened_for_json():
    inner = obj("Inner", CORE, "", field("a", 1, STRING, required=True))
    outer = obj("Outer", CORE, "", field("inner", 1, ref("Inner"), inline=True),
                field("b", 2, STRING))

    outer.resolve({"Inner": inner, "Outer": outer})

    assert list(outer.json_fields) == ["a", "b"]
    assert outer.required == ["a"]


def test_unknown_references_are_refused():
    broken = obj("Broken", CORE, "", field("x", 1, ref("Nowhere")))

    with pytest.raises(ValueError, match="no schema Nowhere"):
        broken.resolve({"Broken": broken})
