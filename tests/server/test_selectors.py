"""Label and field selectors: grammar, canonical text, matching and messages."""

from __future__ import annotations

import pytest

from server.errors import BadRequest
from server.registry.base import Kind
from server.selectors import (
    FieldSelector, LabelSelector, label_selector_from_dict, parse_field_selector,
    parse_label_selector,
)

# The name-part message Kubernetes gives for a label key.
NAME_PART = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and "
    "must start and end with an alphanumeric character (e.g. 'MyName',  or "
    "'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric "
    "characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.mark.parametrize("text, canonical", [
    ("a=b", "a=b"),
    ("a==b", "a==b"),
    ("a!=b", "a!=b"),
    ("a in (y,x)", "a in (x,y)"),
    ("a notin (x)", "a notin (x)"),
    ("a", "a"),
    ("!a", "!a"),
    ("a>1", "a>1"),
    ("a<10", "a<10"),
    ("b=1,a=2", "a=2,b=1"),
    ("  a = b ,  c  ", "a=b,c"),
    ("a in ( x , y )", "a in (x,y)"),
    ("a=", "a="),
    ("a in ()", "a in ()"),
    ("a in (x,,y)", "a in (,x,y)"),
    ("a in (x,x)", "a in (x)"),
    ("in in (in,notin)", "in in (in,notin)"),
    ("example.com/app=web", "example.com/app=web"),
], ids=[
    "equals", "double-equals", "not-equals", "in-sorted", "notin", "exists",
    "does-not-exist", "greater-than", "less-than", "sorted-by-key", "spaces",
    "spaces-in-set", "empty-value", "empty-set", "empty-member", "repeated-member",
    "keywords-as-identifiers", "prefixed-key",
])
def test_label_selector_canonical_form(text, canonical):
    assert str(parse_label_selector(text)) == canonical


@pytest.mark.parametrize("text, labels, expected", [
    ("a=b", {"a": "b"}, True),
    ("a=b", {"a": "c"}, False),
    ("a=b", {}, False),
    ("a!=b", {}, True),
    ("a!=b", {"a": "b"}, False),
    ("a in (x,y)", {"a": "y"}, True),
    ("a in (x,y)", {"a": "z"}, False),
    ("a notin (x)", {}, True),
    ("a notin (x)", {"a": "x"}, False),
    ("a", {"a": ""}, True),
    ("a", {"b": "1"}, False),
    ("!a", {"b": "1"}, True),
    ("!a", {"a": "1"}, False),
    ("a>5", {"a": "6"}, True),
    ("a>5", {"a": "5"}, False),
    ("a<5", {"a": "x"}, False),
    ("a=", {"a": ""}, True),
    ("a=b,c", {"a": "b"}, False),
    ("a=b,c", {"a": "b", "c": "1"}, True),
], ids=[
    "equals-hit", "equals-miss", "equals-absent", "not-equals-absent",
    "not-equals-same", "in-hit", "in-miss", "notin-absent", "notin-hit",
    "exists-empty-value", "exists-absent", "not-exists-absent", "not-exists-set",
    "gt-hit", "gt-equal", "lt-not-a-number", "empty-value", "and-one-missing",
    "and-all",
])
def test_label_selector_matches(text, labels, expected):
    assert parse_label_selector(text).matches(labels) is expected


@pytest.mark.parametrize("text, message", [
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("a=b,", "found '', expected: identifier after ','"),
    (",a", "found ',', expected: !, identifier, or 'end of string'"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, "
     "!=, gt, lt"),
    ("a in b", "unable to parse requirement: found 'b' expected: '('"),
    ("a in (x y)", "unable to parse requirement: found 'y', expected: ',' or ')'"),
    ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or "
     "identifier"),
    ("a=(", "unable to parse requirement: found '(', expected: identifier"),
    ("! =a", "unable to parse requirement: found '=', expected: identifier"),
    ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
    ("a:b", f'unable to parse requirement: <nil>: Invalid value: "a:b": {NAME_PART}'),
    ("a=b/c", f'unable to parse requirement: values[0][a]: Invalid value: "b/c": '
     f"{LABEL_VALUE}"),
    ("a=" + "x" * 64, 'unable to parse requirement: values[0][a]: Invalid value: "'
     + "x" * 64 + '": must be no more than 63 characters'),
    ("a>b", 'unable to parse requirement: values[0]: Invalid value: "b": for '
     "'Gt', 'Lt' operators, the value must be an integer"),
    ("x/y/z", 'unable to parse requirement: <nil>: Invalid value: "x/y/z": a '
     "qualified name must consist of alphanumeric characters, '-', '_' or '.', "
     "and must start and end with an alphanumeric character (e.g. 'MyName',  or "
     "'my.name',  or '123-abc', regex used for validation is "
     "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
     "subdomain prefix and '/' (e.g. 'example.com/MyName')"),
    ("Bad_Prefix/app=x", 'unable to parse requirement: <nil>: Invalid value: '
     '"Bad_Prefix/app": prefix part a lowercase RFC 1123 subdomain must consist of '
     "lower case alphanumeric characters, '-' or '.', and must start and end "
     "with an alphanumeric character (e.g. 'example.com', regex used for "
     "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
     "[a-z0-9])?)*')"),
    ("a in (-x,-y)", "unable to parse requirement: [values[0][a]: Invalid value: "
     f'"-x": {LABEL_VALUE}, values[1][a]: Invalid value: "-y": {LABEL_VALUE}]'),
], ids=[
    "two-values", "trailing-comma", "leading-comma", "operator-after-not",
    "missing-operator", "set-without-parenthesis", "set-without-comma",
    "operator-in-set", "parenthesis-as-value", "not-without-key", "not-equals-first",
    "bad-key", "bad-value", "long-value", "gt-not-integer", "two-slashes",
    "bad-prefix", "several-bad-values",
])
def test_label_selector_errors(text, message):
    with pytest.raises(BadRequest) as caught:
        parse_label_selector(text)

    assert caught.value.message == message
    assert caught.value.code == 400


@pytest.mark.parametrize("text", ["", "   "], ids=["empty", "blank"])
def test_empty_label_selector_selects_everything(text):
    selector = parse_label_selector(text)

    assert selector.empty
    assert selector.matches({"any": "thing"})
    assert str(selector) == ""


def test_label_selector_exposes_exact_matches_for_indexing():
    selector = parse_label_selector("app=web,tier in (db),env!=prod,x in (a,b)")

    assert [(r.key, r.operator, r.values) for r in selector.requirements] == [
        ("app", "=", ("web",)), ("env", "!=", ("prod",)), ("tier", "in", ("db",)),
        ("x", "in", ("a", "b"))]
    assert selector.exact_match("app") == "web"
    assert selector.exact_match("tier") == "db"
    assert selector.exact_match("env") is None
    assert selector.exact_match("x") is None
    assert selector.exact_match("absent") is None


def test_label_selector_from_dict_combines_labels_and_expressions():
    selector = label_selector_from_dict({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["fe", "be"]},
            {"key": "env", "operator": "NotIn", "values": ["prod"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "team", "operator": "Exists"},
        ],
    })

    assert str(selector) == "app=web,!canary,env notin (prod),team,tier in (be,fe)"
    assert selector.matches({"app": "web", "tier": "fe", "team": "a"})
    assert not selector.matches({"app": "web", "tier": "fe"})


def test_null_label_selector_selects_nothing_and_empty_one_everything():
    nothing = label_selector_from_dict(None)
    everything = label_selector_from_dict({})

    assert not nothing.matches({}) and not nothing.empty
    assert everything.matches({"a": "b"}) and everything.empty


@pytest.mark.parametrize("sel, message", [
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
     "values: Invalid value: null: for 'in', 'notin' operators, values set "
     "can't be empty"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
     'values: Invalid value: ["x"]: values set must be empty for exists and '
     "does not exist"),
    ({"matchExpressions": [{"key": "a", "operator": "Equals"}]},
     '"Equals" is not a valid label selector operator'),
    ({"matchLabels": {"a b": "c"}}, f'key: Invalid value: "a b": {NAME_PART}'),
    ({"matchLabels": {"a": "-"}},
     f'values[0][a]: Invalid value: "-": {LABEL_VALUE}'),
], ids=["in-without-values", "exists-with-values", "unknown-operator", "bad-key",
        "bad-value"])
def test_label_selector_from_dict_errors(sel, message):
    with pytest.raises(ValueError) as caught:
        label_selector_from_dict(sel)

    assert str(caught.value) == message


# --- field selectors ---


class PodLike(Kind):
    kind = "Pod"
    resource = "pods"
    selectable_fields = ("spec.nodeName", "status.phase")


class ConfigMapLike(Kind):
    kind = "ConfigMap"
    resource = "configmaps"


class NodeLike(Kind):
    kind = "Node"
    resource = "nodes"
    namespaced = False
    selectable_fields = ("spec.unschedulable",)


@pytest.mark.parametrize("kind, text, requirements, canonical", [
    (PodLike(), "spec.nodeName=n1", [("spec.nodeName", "=", "n1")],
     "spec.nodeName=n1"),
    (PodLike(), "spec.nodeName==n1", [("spec.nodeName", "=", "n1")],
     "spec.nodeName=n1"),
    (PodLike(), "status.phase!=Running", [("status.phase", "!=", "Running")],
     "status.phase!=Running"),
    (PodLike(), "status.phase=Running,metadata.name=a",
     [("metadata.name", "=", "a"), ("status.phase", "=", "Running")],
     "metadata.name=a,status.phase=Running"),
    (ConfigMapLike(), r"metadata.name=a\,b\=c\\d", [("metadata.name", "=", "a,b=c\\d")],
     r"metadata.name=a\,b\=c\\d"),
    (ConfigMapLike(), "metadata.namespace=default",
     [("metadata.namespace", "=", "default")], "metadata.namespace=default"),
    (PodLike(), "spec.host=n1", [("spec.nodeName", "=", "n1")], "spec.nodeName=n1"),
    (ConfigMapLike(), "", [], ""),
    (ConfigMapLike(), "metadata.name=", [("metadata.name", "=", "")],
     "metadata.name="),
], ids=["equals", "double-equals", "not-equals", "sorted", "escapes",
        "namespace", "pod-spec-host-alias", "empty", "empty-value"])
def test_field_selector_parse(kind, text, requirements, canonical):
    selector = parse_field_selector(text, kind)

    assert list(selector.requirements) == requirements
    assert str(selector) == canonical


@pytest.mark.parametrize("text, values, expected", [
    ("spec.nodeName=n1", {"spec.nodeName": "n1"}, True),
    ("spec.nodeName=n1", {"spec.nodeName": "n2"}, False),
    ("spec.nodeName=", {}, True),
    ("spec.nodeName!=n1", {}, True),
    ("spec.nodeName!=n1", {"spec.nodeName": "n1"}, False),
    ("metadata.name=a,spec.nodeName=n1", {"metadata.name": "a",
                                          "spec.nodeName": "n1"}, True),
    ("metadata.name=a,spec.nodeName=n1", {"metadata.name": "a"}, False),
], ids=["equals-hit", "equals-miss", "absent-is-empty", "not-equals-absent",
        "not-equals-same", "and-hit", "and-miss"])
def test_field_selector_matches(text, values, expected):
    assert parse_field_selector(text, PodLike()).matches(values) is expected


def test_field_selector_exposes_exact_matches_for_indexing():
    selector = parse_field_selector("spec.nodeName=n1,metadata.name!=a", PodLike())

    assert selector.exact_match("spec.nodeName") == "n1"
    assert selector.exact_match("metadata.name") is None
    assert FieldSelector().empty and not selector.empty


@pytest.mark.parametrize("kind, text, message", [
    (PodLike(), "spec.foo=x", "field label not supported: spec.foo"),
    (NodeLike(), "metadata.namespace=x",
     "field label not supported: metadata.namespace"),
    (ConfigMapLike(), "spec.foo=x", '"spec.foo" is not a known field selector: '
     'only "metadata.name", "metadata.namespace"'),
    (ConfigMapLike(), "metadata.name = x", '"metadata.name " is not a known field '
     'selector: only "metadata.name", "metadata.namespace"'),
    (ConfigMapLike(), "abc", "invalid selector: 'abc'; can't understand 'abc'"),
    (ConfigMapLike(), "metadata.name=a=b",
     "invalid field selector: unescaped character in value: 61"),
    (ConfigMapLike(), r"metadata.name=a\x",
     "invalid field selector: invalid escape sequence: \\x"),
    (ConfigMapLike(), "metadata.name=a\\",
     "invalid field selector: invalid escape sequence: \\"),
], ids=["own-conversion", "cluster-scoped-namespace", "default-conversion",
        "spaces-are-part-of-the-field", "no-operator", "unescaped-equals",
        "bad-escape", "trailing-backslash"])
def test_field_selector_errors(kind, text, message):
    with pytest.raises(BadRequest) as caught:
        parse_field_selector(text, kind)

    assert caught.value.message == message


def test_label_selector_is_a_value():
    # Handlers may cache parsed selectors by their text: equal text, equal value.
    assert parse_label_selector("b=1,a=2") == parse_label_selector("a=2,b=1")
    assert isinstance(parse_label_selector("a"), LabelSelector)
