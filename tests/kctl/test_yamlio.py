"""kctl reads YAML as kubectl does where PyYAML's defaults disagree, and writes
-o yaml as kubectl does. Each case is checked against fixed values and, where
kubectl is installed, against `kubectl create --dry-run=client -o json`."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from kctl import yamlio
from tests.conftest import run_kubectl

# plain scalar -> the JSON value kubectl sends (and what PyYAML would give)
CASES = [
    ("y", True),            # PyYAML: "y"
    ("N", False),           # PyYAML: "N"
    ("on", True),
    ("Off", False),
    ("yes", True),
    ("0755", 493),          # YAML 1.1 octal, as both agree
    ("0o755", 493),         # PyYAML: "0o755"; Go's ParseInt reads it
    ("0x1F", 31),
    ("0b101", 5),
    ("-0b11", -3),
    ("1_000", 1000),
    ("1:20", "1:20"),       # PyYAML: 80 (base 60)
    ("1e3", 1000),          # PyYAML: "1e3"
    ("1.0e3", 1000),        # PyYAML: "1.0e3" (its exponent needs a sign)
    ("1.0", 1),             # PyYAML: 1.0; JSON has one number type
    ("1.", 1),
    ("1.5", 1.5),
    (".5", 0.5),
    ("08", 8),              # PyYAML: "08"
    ("+12", 12),
    ("2024-01-02", "2024-01-02"),  # PyYAML: datetime.date
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
    ("=", "="),             # PyYAML: error (the value tag)
    ("~", None),
    ("123456789012345678901234", 1.2345678901234569e23),
    ("1e22", 1e22),
]


def _document(cases) -> str:
    lines = [f"  k{i}: {text}" for i, (text, _) in enumerate(cases)]
    return ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yaml-cases\n"
            "data:\n" + "\n".join(lines) + "\n  q: \"yes\"\n  tagged: !foo bar\n"
            "  1.5: float key\n  true: bool key\n  3: int key\n"
            # True == 1 in Python: the keys must be strings before they meet.
            "  1: one key\n  0: zero key\n  off: false key\n")


@pytest.mark.parametrize("text,expected", CASES, ids=[c[0] for c in CASES])
def test_plain_scalar_resolves_as_kubectl(text, expected):
    loaded = yamlio.load(f"v: {text}\n")["v"]

    assert loaded == expected
    assert type(loaded) is type(expected)


def _pyyaml(text: str):
    try:
        return yaml.safe_load(f"v: {text}")["v"]
    except yaml.YAMLError:
        return "error"


def test_pyyaml_disagrees_on_these_cases():
    # Shows the cases above are real differences, not restatements.
    differing = [t for t, want in CASES if _pyyaml(t) != want]

    assert {"y", "0o755", "1:20", "1e3", "08", "2024-01-02", "="} <= set(differing)


def test_keys_become_strings_and_custom_tags_keep_their_value():
    data = yamlio.load(_document([]))["data"]

    assert data == {"q": "yes", "tagged": "bar", "1.5": "float key",
                    "true": "bool key", "3": "int key", "1": "one key",
                    "0": "zero key", "false": "false key"}


@pytest.mark.parametrize("text,message", [
    (".inf", "json: unsupported value: +Inf"),
    ("-.inf", "json: unsupported value: -Inf"),
    (".nan", "json: unsupported value: NaN"),
], ids=["inf", "minus-inf", "nan"])
def test_values_json_cannot_hold_are_errors(text, message):
    with pytest.raises(yaml.YAMLError, match=message.replace("+", r"\+")):
        yamlio.load(f"v: {text}\n")


def test_null_key_is_an_error():
    with pytest.raises(yaml.YAMLError, match="unsupported map key"):
        yamlio.load("~: a\n")


@pytest.fixture(scope="module")
def kubectl_view(api_server, tmp_path_factory):
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH")
    path = tmp_path_factory.mktemp("yaml") / "cases.yaml"
    path.write_text(_document(CASES))
    done = run_kubectl(api_server, "create", "--dry-run=client", "-o", "json",
                       "--validate=false", "-f", str(path))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["data"], yamlio.load(path.read_text())["data"]


def test_every_case_matches_real_kubectl(kubectl_view):
    theirs, ours = kubectl_view

    assert ours == theirs


@pytest.mark.parametrize("value,expected", [
    ({"b": 1, "a": "x"}, "a: x\nb: 1\n"),
    ({"v": "123"}, 'v: "123"\n'),
    ({"v": "y"}, 'v: "y"\n'),
    ({"v": "2024-01-02"}, 'v: "2024-01-02"\n'),
    ({"v": "*"}, "v: '*'\n"),
    ({"v": "a\nb\n"}, "v: |\n  a\n  b\n"),
    ({"l": [1, {"a": None}]}, "l:\n- 1\n- a: null\n"),
    ({"a10": 1, "a2": 2}, "a2: 2\na10: 1\n"),
    ({"e": {}, "f": []}, "e: {}\nf: []\n"),
], ids=["sorted", "numeric-string", "bool-string", "date-string", "star",
        "multiline", "list", "natural-order", "empty"])
def test_dump_as_kubectl_writes_it(value, expected):
    assert yamlio.dump(value) == expected
