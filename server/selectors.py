"""Label and field selectors: parsing, matching and their canonical text.

The grammar, the canonical ordering and every error message follow
k8s.io/apimachinery/pkg/labels/selector.go and pkg/fields/selector.go, since
clients (kubectl among them) show the server's message to the user as is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from server.errors import BadRequest
from server.validation import is_qualified_name, is_valid_label_value

# Operators, spelled as k8s.io/apimachinery/pkg/selection spells them.
EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="
IN = "in"
NOT_IN = "notin"
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS,
                     GREATER_THAN, LESS_THAN)

def go_quote(text: str) -> str:
    """A string as Go's %q prints it (strconv.Quote), for messages."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _invalid(path: str, value: object, detail: str) -> str:
    # field.Invalid(...).Error(); a nil path prints as "<nil>".
    if isinstance(value, str):
        shown = go_quote(value)
    else:
        shown = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return f"{path}: Invalid value: {shown}: {detail}"


def _aggregate(messages: list[str]) -> str:
    # utilerrors.Aggregate: one error as is, several bracketed, duplicates once.
    unique = list(dict.fromkeys(messages))
    if len(unique) == 1:
        return unique[0]
    return "[" + ", ".join(unique) + "]"


# --- label selectors ---


class SelectorError(ValueError):
    """A selector that does not parse or validate; the message is Kubernetes'."""


@dataclass(frozen=True)
class Requirement:
    """One requirement of a label selector: ``key``, ``operator``, ``values``."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: dict) -> bool:
        has = self.key in labels
        value = labels.get(self.key)
        if self.operator in (IN, EQUALS, DOUBLE_EQUALS):
            return has and value in self.values
        if self.operator in (NOT_IN, NOT_EQUALS):
            return not has or value not in self.values
        if self.operator == EXISTS:
            return has
        if self.operator == DOES_NOT_EXIST:
            return not has
        return has and self._compare(value)

    def _compare(self, value: str) -> bool:
        # Gt and Lt compare as integers; a label that is not one never matches.
        if not (_is_integer(value) and len(self.values) == 1):
            return False
        number, bound = int(value), int(self.values[0])
        if self.operator == GREATER_THAN:
            return number > bound
        return number < bound

    def __str__(self) -> str:
        if self.operator == EXISTS:
            return self.key
        if self.operator == DOES_NOT_EXIST:
            return "!" + self.key
        values = ",".join(sorted(self.values))
        if self.operator in (IN, NOT_IN):
            return f"{self.key} {self.operator} ({values})"
        symbol = {GREATER_THAN: ">", LESS_THAN: "<"}.get(self.operator,
                                                          self.operator)
        return f"{self.key}{symbol}{values}"


def new_requirement(key: str, operator: str, values: list[str]) -> Requirement:
    """A checked requirement, as labels.NewRequirement; SelectorError if bad."""
    errs = []
    key_errs = is_qualified_name(key)
    if key_errs:
        errs.append(_invalid("key", key, "; ".join(key_errs)))
    errs += _operator_errors(operator, values)
    for i, value in enumerate(values):
        value_errs = is_valid_label_value(value)
        if value_errs:
            errs.append(_invalid(f"values[{i}][{key}]", value,
                                 "; ".join(value_errs)))
    if errs:
        raise SelectorError(_aggregate(errs))
    return Requirement(key, operator, tuple(values))


def _operator_errors(operator: str, values: list[str]) -> list[str]:
    # A nil Go slice marshals as null, an empty one as []: callers pass None
    # for "no values given" so the message shows what Kubernetes shows.
    shown = values if values else None
    if operator in (IN, NOT_IN):
        if not values:
            return [_invalid("values", shown, "for 'in', 'notin' operators, "
                             "values set can't be empty")]
        return []
    if operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(values) != 1:
            return [_invalid("values", shown, "exact-match compatibility "
                             "requires one single value")]
        return []
    if operator in (EXISTS, DOES_NOT_EXIST):
        if values:
            return [_invalid("values", shown, "values set must be empty for "
                             "exists and does not exist")]
        return []
    if operator in (GREATER_THAN, LESS_THAN):
        return _integer_operator_errors(values)
    supported = ", ".join(go_quote(o) for o in (*_BINARY_OPERATORS, EXISTS,
                                                DOES_NOT_EXIST))
    return [f"operator: Unsupported value: {go_quote(operator)}: "
            f"supported values: {supported}"]


def _is_integer(text: object) -> bool:
    # strconv.ParseInt's syntax; Python's int() also takes spaces and "_".
    return isinstance(text, str) and re.fullmatch(r"[+-]?[0-9]+", text) is not None


def _integer_operator_errors(values: list[str]) -> list[str]:
    errs = []
    if len(values) != 1:
        errs.append(_invalid("values", values or None, "for 'Gt', 'Lt' "
                             "operators, exactly one value is required"))
    for i, value in enumerate(values):
        if not _is_integer(value):
            errs.append(_invalid(f"values[{i}]", value, "for 'Gt', 'Lt' "
                                 "operators, the value must be an integer"))
    return errs


@dataclass(frozen=True)
class LabelSelector:
    """Requirements ANDed together, sorted by key as Kubernetes sorts them.

    ``nothing`` is labels.Nothing(): what a null metav1.LabelSelector means.
    """

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = False

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything."""
        return not self.nothing and not self.requirements

    def matches(self, labels: dict | None) -> bool:
        if self.nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def exact_match(self, key: str) -> str | None:
        """The one value ``key`` must have, if the selector demands one
        (labels.Selector.RequiresExactMatch): what an index can look up."""
        for r in self.requirements:
            if r.key == key:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _sorted_selector(requirements: list[Requirement]) -> LabelSelector:
    return LabelSelector(tuple(sorted(requirements, key=lambda r: r.key)))


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a ``labelSelector`` query parameter; BadRequest when invalid."""
    try:
        return _sorted_selector(_LabelParser(text).parse())
    except SelectorError as err:
        raise BadRequest(str(err)) from None


def label_selector_from_dict(sel: dict | None) -> LabelSelector:
    """A metav1.LabelSelector as a selector (metav1.LabelSelectorAsSelector).

    None selects nothing, ``{}`` everything. ValueError when invalid.
    """
    if sel is None:
        return LabelSelector(nothing=True)
    match_labels = sel.get("matchLabels") or {}
    expressions = sel.get("matchExpressions") or []
    requirements = [new_requirement(k, EQUALS, [v])
                    for k, v in match_labels.items()]
    for expr in expressions:
        requirements.append(_expression_requirement(expr))
    return _sorted_selector(requirements)


_EXPRESSION_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS,
                         "DoesNotExist": DOES_NOT_EXIST}


def _expression_requirement(expr: dict) -> Requirement:
    name = expr.get("operator", "")
    operator = _EXPRESSION_OPERATORS.get(name)
    if operator is None:
        raise SelectorError(f"{go_quote(str(name))} is not a valid label "
                            "selector operator")
    return new_requirement(expr.get("key", ""), operator,
                           list(expr.get("values") or []))


# Tokens of the label selector lexer.
_IDENTIFIER = "identifier"
_END = "end of string"
_OPEN, _CLOSE, _COMMA = "(", ")", ","
_SPECIAL = set("=!(),><")
_WHITESPACE = set(" \t\r\n")
_SYMBOLS = {")": _CLOSE, ",": _COMMA, "!": DOES_NOT_EXIST, "==": DOUBLE_EQUALS,
            "=": EQUALS, ">": GREATER_THAN, "<": LESS_THAN, "!=": NOT_EQUALS,
            "(": _OPEN}
_KEYWORDS = {"in": IN, "notin": NOT_IN}


def _lex(text: str) -> list[tuple[str, str]]:
    """(token, literal) pairs ending with the end-of-string token."""
    items, pos = [], 0
    while True:
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        if pos == len(text):
            items.append((_END, ""))
            return items
        start = pos
        if text[pos] in _SPECIAL:
            # The longest run of symbols that is still an operator.
            pos += 1
            if text[start:pos + 1] in _SYMBOLS and pos < len(text):
                pos += 1
            literal = text[start:pos]
            items.append((_SYMBOLS[literal], literal))
            continue
        while pos < len(text) and text[pos] not in _SPECIAL | _WHITESPACE:
            pos += 1
        literal = text[start:pos]
        items.append((_KEYWORDS.get(literal, _IDENTIFIER), literal))


class _LabelParser:
    """The recursive descent of labels.Parse, with its error messages."""

    def __init__(self, text: str):
        self.items = _lex(text)
        self.pos = 0

    def peek(self, values: bool = True) -> tuple[str, str]:
        return self._as(self.items[self.pos], values)

    def take(self, values: bool = True) -> tuple[str, str]:
        self.pos += 1
        return self._as(self.items[self.pos - 1], values)

    @staticmethod
    def _as(item: tuple[str, str], values: bool) -> tuple[str, str]:
        # Where a value may stand, "in" and "notin" are plain identifiers.
        tok, lit = item
        if values and tok in (IN, NOT_IN):
            return _IDENTIFIER, lit
        return tok, lit

    def parse(self) -> list[Requirement]:
        requirements = []
        while True:
            tok, lit = self.peek()
            if tok == _END:
                return requirements
            if tok not in (_IDENTIFIER, DOES_NOT_EXIST):
                raise SelectorError(
                    f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.requirement())
            except SelectorError as err:
                raise SelectorError(f"unable to parse requirement: {err}") from None
            tok, lit = self.take()
            if tok == _END:
                return requirements
            if tok != _COMMA:
                raise SelectorError(
                    f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self.peek()
            if tok not in (_IDENTIFIER, DOES_NOT_EXIST):
                raise SelectorError(f"found '{lit}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        key, operator = self.key_and_inferred_operator()
        if operator in (EXISTS, DOES_NOT_EXIST):
            return new_requirement(key, operator, [])
        operator = self.operator()
        if operator in (IN, NOT_IN):
            values = self.value_set()
        else:
            values = self.exact_value()
        # The values travel as a Go string set: sorted and without repeats.
        return new_requirement(key, operator, sorted(set(values)))

    def key_and_inferred_operator(self) -> tuple[str, str | None]:
        operator = None
        tok, lit = self.take()
        if tok == DOES_NOT_EXIST:
            operator = DOES_NOT_EXIST
            tok, lit = self.take()
        if tok != _IDENTIFIER:
            raise SelectorError(f"found '{lit}', expected: identifier")
        errs = is_qualified_name(lit)
        if errs:
            raise SelectorError(_invalid("<nil>", lit, "; ".join(errs)))
        if self.peek()[0] in (_END, _COMMA) and operator is None:
            operator = EXISTS
        return lit, operator

    def operator(self) -> str:
        tok, lit = self.take(values=False)
        if tok in _BINARY_OPERATORS:
            return tok
        names = ", ".join(_BINARY_OPERATORS)
        raise SelectorError(f"found '{lit}', expected: {names}")

    def value_set(self) -> list[str]:
        tok, lit = self.take()
        if tok != _OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.peek()
        if tok == _CLOSE:  # "()" is the set holding the empty value
            self.take()
            return [""]
        if tok not in (_IDENTIFIER, _COMMA):
            raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")
        values = self.identifiers()
        self.take()  # the closing parenthesis identifiers() stopped at
        return values

    def identifiers(self) -> list[str]:
        # Empty entries ("(,a)", "(a,,b)", "(a,)") stand for the empty value.
        values: list[str] = []
        while True:
            tok, lit = self.take()
            if tok == _IDENTIFIER:
                values.append(lit)
                nxt, nlit = self.peek()
                if nxt == _CLOSE:
                    return values
                if nxt != _COMMA:
                    raise SelectorError(f"found '{nlit}', expected: ',' or ')'")
            elif tok == _COMMA:
                if not values:
                    values.append("")
                nxt, _ = self.peek()
                if nxt == _CLOSE:
                    values.append("")
                    return values
                if nxt == _COMMA:
                    self.take()
                    values.append("")
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def exact_value(self) -> list[str]:
        tok, _ = self.peek()
        if tok in (_END, _COMMA):
            return [""]
        tok, lit = self.take()
        if tok == _IDENTIFIER:
            return [lit]
        raise SelectorError(f"found '{lit}', expected: identifier")


# --- field selectors ---

# Kinds for which kube-apiserver registers a field label conversion function
# (pkg/apis/core/v1/conversion.go): they answer "field label not supported"
# where every other kind answers with the default conversion's message.
_OWN_FIELD_LABEL_CONVERSION = {
    ("", "Pod"), ("", "Node"), ("", "ReplicationController"), ("", "Event"),
    ("", "Namespace"), ("", "Secret"), ("", "Service"),
    ("events.k8s.io", "Event"), ("batch", "Job"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
}
# Old names some kinds still accept for a field, as their conversion maps them.
_FIELD_ALIASES = {("", "Pod"): {"spec.host": "spec.nodeName"}}

_FIELD_OPERATORS = (NOT_EQUALS, DOUBLE_EQUALS, EQUALS)


@dataclass(frozen=True)
class FieldSelector:
    """Terms ``(field, operator, value)`` ANDed together; operator is = or !=."""

    requirements: tuple[tuple[str, str, str], ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, values: dict[str, str]) -> bool:
        # A field the object does not have reads as "", as fields.Set.Get does.
        for name, op, value in self.requirements:
            if (values.get(name, "") == value) != (op == EQUALS):
                return False
        return True

    def exact_match(self, name: str) -> str | None:
        """The value ``name`` must equal, if a term demands one."""
        for field_name, op, value in self.requirements:
            if field_name == name and op == EQUALS:
                return value
        return None

    def __str__(self) -> str:
        return ",".join(f"{n}{op}{escape_field_value(v)}"
                        for n, op, v in self.requirements)


def escape_field_value(value: str) -> str:
    """fields.EscapeValue: backslash-escape \\ , and = in a value."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def parse_field_selector(text: str, kind) -> FieldSelector:
    """Parse a ``fieldSelector`` for ``kind`` (a registry Kind); BadRequest
    when it does not parse or names a field the kind cannot select on."""
    terms = []
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        name, op, raw = _split_term(text, part)
        if not name and not raw:
            continue  # "=" selects everything, as an empty term does upstream
        terms.append((name, EQUALS if op == DOUBLE_EQUALS else op,
                      _unescape(raw)))
    return FieldSelector(tuple(_convert(kind, t) for t in terms))


def _split_terms(text: str) -> list[str]:
    # Split at commas, except escaped ones ("\,"), which stay in the term.
    if not text:
        return []
    terms, start, escaped = [], 0, False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(text: str, term: str) -> tuple[str, str, str]:
    # The first operator in the term splits it; the field is never escaped.
    for i in range(len(term)):
        for op in _FIELD_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    raise BadRequest(f"invalid selector: '{text}'; can't understand '{term}'")


def _unescape(raw: str) -> str:
    out, escaped = [], False
    for ch in raw:
        if escaped:
            if ch not in "\\,=":
                raise BadRequest("invalid field selector: invalid escape "
                                 f"sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            # Go prints the rune with %v: its code point, not the character.
            raise BadRequest("invalid field selector: unescaped character in "
                             f"value: {ord(ch)}")
        else:
            out.append(ch)
    if escaped:
        raise BadRequest("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _convert(kind, term: tuple[str, str, str]) -> tuple[str, str, str]:
    name, op, value = term
    key = (kind.group, kind.kind)
    name = _FIELD_ALIASES.get(key, {}).get(name, name)
    if key in _OWN_FIELD_LABEL_CONVERSION or kind.selectable_fields:
        allowed = {"metadata.name", *kind.selectable_fields}
        if kind.namespaced:
            allowed.add("metadata.namespace")
        if name not in allowed:
            raise BadRequest(f"field label not supported: {name}")
    elif name not in ("metadata.name", "metadata.namespace"):
        raise BadRequest(f'{go_quote(name)} is not a known field selector: only '
                         '"metadata.name", "metadata.namespace"')
    return name, op, value
