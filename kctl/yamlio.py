"""YAML read and written the way kubectl does.

kubectl turns YAML into JSON with sigs.k8s.io/yaml, which parses with its fork
of go-yaml v2 (YAML 1.1 rules, with Go's number parsing) and then marshals the
result with encoding/json. PyYAML also speaks YAML 1.1 but resolves plain
scalars differently. Where they disagree, kctl follows kubectl:

========================  ==============  =================
plain scalar              PyYAML          kubectl
========================  ==============  =================
``y``, ``n``, ``Y``, ``N``  string          true / false
``0o17``                  string          15 (Go's ParseInt)
``1e3``, ``1.0e3``        string          1000
``1.0``, ``1.``           float 1.0       1 (JSON has one number type)
``08``, ``09``            string          8, 9 (as floats)
``1:20`` (base 60)        80              "1:20"
``2024-01-02``            datetime        "2024-01-02"
``=``                     error           "="
``.inf``, ``.nan``        float           error: not valid JSON
key ``1.5``, ``true``     float, bool     "1.5", "true"
key ``~`` (null)          None            error
custom tag ``!foo x``     error           "x"
========================  ==============  =================

Resolution rules: ``resolve`` in sigs.k8s.io/yaml's goyaml.v2/resolve.go and
``convertToJSONableObject`` in its yaml.go.
"""

from __future__ import annotations

import math
import re

import yaml

_BOOL_NULL = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
                     "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE",
                     "off", "Off", "OFF"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?")
_GO_DIGITS = {2: "01", 8: "01234567", 10: "0123456789",
              16: "0123456789abcdefABCDEF"}

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN = "tag:kctl.dev,2024:plain"
_NO_VALUE = object()


def _go_parse_int(text: str):
    """Go's strconv.ParseInt(text, 0, ...) without the range limit, or None."""
    sign, body = 1, text
    if body[:1] in "+-" and body:
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    base = 10
    low = body[:2].lower()
    if low in ("0x", "0o", "0b"):
        base, body = {"0x": 16, "0o": 8, "0b": 2}[low], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, body = 8, body[1:]
    if not body or any(c not in _GO_DIGITS[base] for c in body):
        return None
    return sign * int(body, base)


def resolve_plain(text: str):
    """The JSON value go-yaml v2 gives a plain (unquoted, untagged) scalar."""
    if text in _BOOL_NULL:
        return _BOOL_NULL[text]
    first = text[:1]
    if first == ".":
        return float(text) if _DOT_FLOAT.fullmatch(text) else text
    if not (first.isdigit() and first.isascii()) and first not in "+-":
        return text
    plain = text.replace("_", "")
    number = _go_parse_int(plain)
    if number is not None:
        return number
    if _YAML_STYLE_FLOAT.fullmatch(plain):
        return float(plain)
    if plain.startswith("-0b"):
        number = _go_parse_int("-" + plain[1:])
        if number is not None:
            return number
    # Timestamps stay strings: go-yaml keeps their text for an interface{}.
    return text


def _json_value(value):
    """Reject what encoding/json cannot write; numbers as JSON decodes them."""
    if isinstance(value, int) and not isinstance(value, bool):
        # Unstructured JSON decoding keeps int64; larger numbers become floats.
        return value if -2**63 <= value < 2**63 else float(value)
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            shown = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
            raise yaml.YAMLError(f"json: unsupported value: {shown}")
        # JSON has one number type: Go writes 1.0 as 1, which then decodes
        # back as an integer.
        if value.is_integer() and abs(value) < 2**63:
            return int(value)
    return value


def go_float_key(value: float) -> str:
    """strconv.FormatFloat(v, 'g', -1, 32), which go-yaml keys go through."""
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    if math.isnan(value):
        return ".nan"
    import struct

    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        text = f"{single:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    mantissa, _, exponent = text.partition("e")
    if exponent:
        sign = exponent[0]
        exponent = exponent[1:].lstrip("0").rjust(2, "0")
        return f"{mantissa}e{sign}{exponent}"
    return mantissa


def _key_text(key) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return go_float_key(key)
    raise yaml.YAMLError(f"unsupported map key of type: {type(key).__name__}, "
                         f"key: {key!r}")


def decode(data: bytes) -> str:
    """A file's text; bytes that are not UTF-8 (a binary file read by mistake)
    are a YAMLError that says where, not a UnicodeDecodeError."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise yaml.YAMLError(f"invalid UTF-8 at byte {exc.start} "
                             f"(0x{data[exc.start]:02x})") from None


def go_error(exc: yaml.YAMLError) -> str:
    """A parse error as go-yaml v2 words it: ``yaml: line N: PROBLEM``.

    go-yaml counts a scanner error's line from 1 and a parser error's from 0
    (decode.go, parser.fail), so kubectl names the line before a parser
    problem; a line 0 is left out."""
    if isinstance(exc, AliasingError):
        return str(exc)
    if not isinstance(exc, yaml.MarkedYAMLError):
        return f"yaml: {exc}"
    line = 0
    if exc.problem_mark is not None and exc.problem_mark.line:
        line = exc.problem_mark.line
        if isinstance(exc, yaml.scanner.ScannerError):
            line += 1
    elif exc.context_mark is not None:
        line = exc.context_mark.line
    where = f"line {line}: " if line else ""
    return f"yaml: {where}{exc.problem or exc.context or 'invalid YAML'}"


class KubectlLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader")
                    else yaml.SafeLoader):
    """A safe loader whose plain scalars resolve as go-yaml v2 resolves them."""

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and implicit[0]:
            return _MERGE if value == "<<" else _PLAIN
        return super().resolve(kind, value, implicit)

    def construct_mapping(self, node, deep=False):
        # Each key becomes its JSON string before it is inserted, as
        # sigs.k8s.io/yaml converts them: as Python keys, True == 1 and
        # False == 0, so ``yes: a`` and ``1: b`` would share one entry.
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            key = _key_text(self.construct_object(key_node, deep=True))
            if key in mapping:
                self.repeated_key(key, key_node)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def repeated_key(self, key: str, node: yaml.Node) -> None:
        """A key set twice in one mapping: the last value wins, as in go-yaml;
        the server's loader reports it."""

    def construct_document(self, node):
        check_aliasing(node)
        return super().construct_document(node)


class AliasingError(yaml.YAMLError):
    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem
        self.context = None
        self.problem_mark = self.context_mark = None

    def __str__(self) -> str:
        return f"yaml: {self.problem}"


def _allowed_alias_ratio(decoded: int) -> float:
    # go-yaml v2's rule: the more nodes a document decodes to, the smaller
    # the share of them that may come from aliases.
    low, high = 400_000, 4_000_000
    if decoded <= low:
        return 0.99
    if decoded >= high:
        return 0.10
    return 0.99 - 0.89 * (decoded - low) / (high - low)


def check_aliasing(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it out of all proportion (a
    "billion laughs"), as go-yaml v2 does, before anything is built.

    The composed graph shares each anchored node, so it stays small; what
    decoding it would visit is counted on the graph: a node's first edge in
    document order defines it, every later edge is an alias that expands it.
    """
    aliased: set[tuple[int, int]] = set()
    seen: set[int] = set()
    stack = [root]
    seen.add(id(root))
    while stack:
        node = stack.pop()
        for index, child in enumerate(_children(node)):
            if id(child) in seen:
                aliased.add((id(node), index))
            else:
                seen.add(id(child))
                stack.append(child)
    if not aliased:
        return
    memo: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def counts(node) -> tuple[int, int]:
        """(nodes decoded, of which inside an alias's expansion) for a
        decode of ``node``: an alias counts itself, and everything its
        anchored node expands to counts as aliased, as in go-yaml."""
        key = id(node)
        if key in memo:
            return memo[key]
        if key in active:
            raise AliasingError("anchor value contains itself")
        active.add(key)
        decoded, in_aliases = 1, 0
        for index, child in enumerate(_children(node)):
            inner_decoded, inner_aliases = counts(child)
            if (key, index) in aliased:
                decoded += 1 + inner_decoded
                in_aliases += inner_decoded
            else:
                decoded += inner_decoded
                in_aliases += inner_aliases
        active.discard(key)
        memo[key] = (decoded, in_aliases)
        return decoded, in_aliases

    decoded, in_aliases = counts(root)
    if in_aliases > 100 and decoded > 1000 and (
            in_aliases / decoded > _allowed_alias_ratio(decoded)):
        raise AliasingError("document contains excessive aliasing")


def _children(node: yaml.Node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _construct_plain(loader, node):
    return _json_value(resolve_plain(node.value))


def _construct_float(loader, node):
    return _json_value(yaml.SafeLoader.construct_yaml_float(loader, node))


def _construct_text(loader, node):
    return loader.construct_scalar(node)


def _construct_binary(loader, node):
    data = yaml.SafeLoader.construct_yaml_binary(loader, node)
    return data.decode("utf-8", "replace")


def _construct_unknown(loader, node):
    # go-yaml keeps a node with a tag it does not know as its plain value.
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


KubectlLoader.add_constructor(_PLAIN, _construct_plain)
KubectlLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
KubectlLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)
KubectlLoader.add_constructor("tag:yaml.org,2002:binary", _construct_binary)
KubectlLoader.add_constructor(None, _construct_unknown)


def load(text: str):
    """One YAML document as kubectl would turn it into JSON."""
    return yaml.load(text, Loader=KubectlLoader)


# Writing: kubectl -o yaml goes JSON -> go-yaml v2 Marshal, whose libyaml
# emitter PyYAML's C dumper shares. Only the choices before the emitter differ:
# key order and which strings must be quoted.


def _go_key_less(a: str, b: str) -> bool:
    """go-yaml v2's key order: a natural sort where digits sort before letters."""
    for i, (ca, cb) in enumerate(zip(a, b)):
        if ca == cb:
            continue
        la, lb = ca.isalpha(), cb.isalpha()
        if la and lb:
            return ca < cb
        if la or lb:
            return lb
        an, ai = _digits_at(a, i)
        bn, bi = _digits_at(b, i)
        if (ca == "0" or cb == "0") and _nonzero_digit_before(a, i):
            an, bn = 1, 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ca < cb
    return len(a) < len(b)


def _digits_at(text: str, start: int) -> tuple[int, int]:
    end, number = start, 0
    while end < len(text) and text[end].isdigit():
        number = number * 10 + int(text[end])
        end += 1
    return number, end


def _nonzero_digit_before(text: str, index: int) -> bool:
    j = index - 1
    while j >= 0 and text[j].isdigit():
        if text[j] != "0":
            return True
        j -= 1
    return False


def _sorted_keys(mapping: dict) -> list:
    import functools

    def compare(a, b):
        return -1 if _go_key_less(a, b) else (1 if _go_key_less(b, a) else 0)

    return sorted(mapping, key=functools.cmp_to_key(compare))


def _needs_quotes(text: str) -> bool:
    if _BASE60.fullmatch(text):
        return True
    value = resolve_plain(text)
    if isinstance(value, str):
        # go-yaml also quotes what it would read back as a timestamp.
        return bool(re.match(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}", text))
    return True


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _tag_of(value, text: str) -> str:
    if value is None:
        return "tag:yaml.org,2002:null"
    if isinstance(value, bool):
        return "tag:yaml.org,2002:bool"
    if isinstance(value, int):
        return "tag:yaml.org,2002:int"
    if isinstance(value, float):
        return "tag:yaml.org,2002:float"
    return _TIMESTAMP if _needs_quotes(text) else _STR


class KubectlDumper(yaml.CSafeDumper if hasattr(yaml, "CSafeDumper")
                    else yaml.SafeDumper):
    def resolve(self, kind, value, implicit):
        # The emitter writes a scalar plain only if it reads back with the
        # same tag, so this must resolve as go-yaml would.
        if kind is yaml.ScalarNode and implicit[0]:
            if _BASE60.fullmatch(value):
                return _TIMESTAMP
            return _tag_of(resolve_plain(value), value)
        return super().resolve(kind, value, implicit)

    def ignore_aliases(self, data):
        return True


def _represent_str(dumper, data: str):
    if "\n" in data:
        style = "|"
    elif _needs_quotes(data):
        style = '"'
    else:
        style = None
    return dumper.represent_scalar(_STR, data, style=style)


def _represent_dict(dumper, data: dict):
    items = [(k, data[k]) for k in _sorted_keys(data)]
    return dumper.represent_mapping("tag:yaml.org,2002:map", items)


KubectlDumper.add_representer(str, _represent_str)
KubectlDumper.add_representer(dict, _represent_dict)


def dump(data) -> str:
    """``data`` as kubectl -o yaml prints it."""
    return yaml.dump(data, Dumper=KubectlDumper, allow_unicode=True,
                     default_flow_style=False, sort_keys=False, width=80)
