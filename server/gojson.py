"""JSON as Go sees it: value types, %v formatting and encoding/json's errors.

kube-apiserver decodes patches with Go's encoding/json and builds its error
messages with fmt's %v, so the server's answers quote Go's wording; these
helpers reproduce it for decoded Python values.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal


class GoJSONError(ValueError):
    """Text that is not JSON; the message is encoding/json's."""



def go_type(value: object) -> str:
    """The Go type a decoded JSON value has (ints stay int64, as the server
    decodes them)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map"
    return "slice"


def go_equal(a: object, b: object) -> bool:
    # Go compares interface values by type first: 1 and 1.0, or true and 1,
    # differ there, unlike in Python.
    return go_type(a) == go_type(b) and a == b


def go_fmt(value: object) -> str:
    """A JSON value as Go's %v prints it: map[a:1 b:x], [1 2], <nil>."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_fmt(value[k])}"
                                 for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_fmt(v) for v in value) + "]"
    return str(value)


def _go_float(value: float) -> str:
    # strconv.FormatFloat(v, 'g', -1, 64): shortest digits, exponent form
    # below 1e-4 or from 1e6 on.
    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[str(value)]
    if value == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    exp = len(digits) + exponent - 1
    minus = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if exp < 0:
        return f"{minus}0.{'0' * (-exp - 1)}{text}"
    whole = text[:exp + 1].ljust(exp + 1, "0")
    rest = text[exp + 1:]
    return minus + whole + ("." + rest if rest else "")




def json_kind(value: object) -> str:
    """What encoding/json calls a value in "cannot unmarshal X into ..."."""
    return {"nil": "null", "bool": "bool", "int64": "number", "float64": "number",
            "string": "string", "map": "object"}.get(go_type(value), "array")


def decode(body: bytes | str) -> object:
    """Parse JSON, raising GoJSONError with the message Go would give."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise GoJSONError(_syntax_message(text, err)) from None
    return without_lone_surrogates(value, text)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def without_lone_surrogates(value, body: bytes | str):
    """``value`` with each unpaired \\uD800-\\uDFFF escape of ``body`` read
    as U+FFFD, as Go's encoding/json reads it; such a string cannot be
    written as UTF-8 at all. Only a body that has such an escape is walked."""
    text = body if isinstance(body, str) else body.decode("latin-1")
    if not _SURROGATE_ESCAPE.search(text):
        return value
    return _replace_surrogates(value)


def _replace_surrogates(value):
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if isinstance(value, dict):
        replaced = {_replace_surrogates(k): _replace_surrogates(v)
                    for k, v in value.items()}
        if type(value) is not dict:
            # A subclass (server.decode's record of repeated keys) keeps its
            # type and what it noted.
            kept = type(value)(replaced)
            for slot in getattr(type(value), "__slots__", ()):
                if hasattr(value, slot):
                    setattr(kept, slot, _replace_surrogates(getattr(value, slot)))
            return kept
        return replaced
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    return value


def _reject_constant(name: str) -> object:
    # Python reads NaN and Infinity; Go does not.
    raise json.JSONDecodeError("Expecting value", name, 0)


def _quote_char(ch: str) -> str:
    # encoding/json's quoteChar.
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    escaped = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\"}.get(ch)
    if escaped is None and ord(ch) < 0x20:
        escaped = f"\\x{ord(ch):02x}"
    return f"'{escaped or ch}'"


_LITERALS = {"t": "true", "f": "false", "n": "null"}


def _syntax_message(text: str, err: json.JSONDecodeError) -> str:
    pos = err.pos
    if err.msg.startswith("Unterminated string") or pos >= len(text.rstrip()):
        return "unexpected end of JSON input"
    ch = text[pos]
    if err.msg == "Expecting value" and ch in _LITERALS:
        return _literal_message(text, pos)
    if err.msg.startswith("Invalid \\escape"):
        return f"invalid character {_quote_char(text[pos + 1])} in string escape code"
    what = {
        "Expecting value": "looking for beginning of value",
        "Expecting property name enclosed in double quotes":
            "looking for beginning of object key string",
        "Expecting ':' delimiter": "after object key",
        "Extra data": "after top-level value",
    }.get(err.msg)
    if err.msg.startswith("Invalid control character"):
        what = "in string literal"
    elif err.msg == "Expecting ',' delimiter":
        inside = _container_at(text, pos)
        what = ("after object key:value pair" if inside == "{"
                else "after array element")
    what = what or "looking for beginning of value"
    return f"invalid character {_quote_char(ch)} {what}"


def _literal_message(text: str, pos: int) -> str:
    literal = _LITERALS[text[pos]]
    for i, want in enumerate(literal):
        if pos + i >= len(text):
            return "unexpected end of JSON input"
        if text[pos + i] != want:
            return (f"invalid character {_quote_char(text[pos + i])} in literal "
                    f"{literal} (expecting {_quote_char(want)})")
    return f"invalid character {_quote_char(text[pos])} looking for beginning of value"


def _container_at(text: str, pos: int) -> str:
    """The innermost open bracket before ``pos``, strings skipped."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else ""
