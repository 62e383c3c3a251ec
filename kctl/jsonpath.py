"""kubectl's JSONPath dialect: ``{.items[*].metadata.name}``, ``{range}``/``{end}``,
filters ``[?(@.x=="y")]``, slices, ``..`` and ``"literal"`` text.

As kubectl's ``-o jsonpath`` does, a missing key yields nothing rather than an
error, the results of one ``{}`` are joined by spaces, strings print bare and
maps and lists print as compact JSON.
(https://kubernetes.io/docs/reference/kubectl/jsonpath/)
"""

from __future__ import annotations

import re

from kctl import jsonio


class JSONPathError(Exception):
    """A template that does not parse; messages are kubectl's, without the
    template, which the caller names."""


class ExecutionError(JSONPathError):
    """A template that parsed but cannot run on this object (an index out of
    bounds): kubectl reports it apart from parse errors, and exits 1."""


# Parsing: a template is a list of nodes.
# ("text", str) | ("expr", [steps]) | ("range", [steps], [nodes])


def parse(template: str) -> list:
    nodes, stack = [], []
    pos = 0
    while pos < len(template):
        start = template.find("{", pos)
        if start < 0:
            nodes.append(("text", template[pos:]))
            break
        if start > pos:
            nodes.append(("text", template[pos:start]))
        end = _closing_brace(template, start)
        body = template[start + 1:end].strip()
        pos = end + 1
        keyword, rest = _keyword(body)
        if keyword == "range":
            stack.append((nodes, _steps(rest)))
            nodes = []
        elif keyword == "end":
            if not stack:
                raise JSONPathError("not in range, nothing to end")
            outer, steps = stack.pop()
            outer.append(("range", steps, nodes))
            nodes = outer
        elif body.startswith(('"', "'")):
            nodes.append(("text", _unquote(body)))
        else:
            nodes.append(("expr", [_steps(part) for part in _split_union(body)]))
    if stack:
        raise JSONPathError("unclosed range")
    return nodes


# Where kubectl's lexer ends an identifier (client-go jsonpath isTerminator):
# so `{range.items[*]}` and `{range@.items[*]}` are `range` and a path.
_IDENTIFIER = re.compile(r"[^\s.,\[\]$@{}]+")


def _keyword(body: str) -> tuple[str, str]:
    """``range`` or ``end`` opening an action, and the rest; else ("", body)."""
    m = _IDENTIFIER.match(body)
    if m and m.group(0) in ("range", "end"):
        return m.group(0), body[m.end():].strip()
    return "", body


def _closing_brace(text: str, start: int) -> int:
    quote = None
    for i in range(start + 1, len(text)):
        c = text[i]
        if quote:
            if c == "\\":
                continue
            if c == quote and text[i - 1] != "\\":
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "}":
            return i
    raise JSONPathError("unclosed action")


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return body.encode("latin-1", "backslashreplace").decode("unicode_escape") \
        if "\\" in body else body


def _split_union(body: str) -> list[str]:
    parts, depth, current, quote = [], 0, "", None
    for c in body:
        if quote:
            quote = None if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += c
    parts.append(current)
    return [p.strip() for p in parts]


_FIELD = re.compile(r"(?:\\.|[^.\[\]\\])+")


def _steps(expr: str) -> list:
    """``.a.b[*]`` -> [("field","a"), ("field","b"), ("all",)]."""
    steps, pos = [], 0
    if expr[:1] in ("$", "@"):
        steps.append(("root",) if expr[0] == "$" else ("current",))
        pos = 1
    while pos < len(expr):
        if expr.startswith("..", pos):
            m = _FIELD.match(expr, pos + 2)
            name = m.group(0) if m else "*"
            steps.append(("recursive", name.replace("\\.", ".")))
            pos = m.end() if m else pos + 2
        elif expr[pos] == ".":
            m = _FIELD.match(expr, pos + 1)
            if not m:
                pos += 1
                continue
            name = m.group(0).replace("\\.", ".")
            steps.append(("all",) if name == "*" else ("field", name))
            pos = m.end()
        elif expr[pos] == "[":
            end = _closing_bracket(expr, pos)
            steps.append(_bracket(expr[pos + 1:end].strip()))
            pos = end + 1
        else:
            m = _FIELD.match(expr, pos)
            if not m:
                raise JSONPathError("unrecognized character in action: "
                                    + _go_rune(expr[pos]))
            steps.append(("field", m.group(0).replace("\\.", ".")))
            pos = m.end()
    return steps


def _go_rune(c: str) -> str:
    """Go's %#U of a character, as kubectl names one it cannot parse."""
    return f"U+{ord(c):04X} '{c}'"


def _closing_bracket(expr: str, start: int) -> int:
    depth, quote = 0, None
    for i in range(start, len(expr)):
        c = expr[i]
        if quote:
            quote = None if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return i
    raise JSONPathError("unterminated array")


def _bracket(inner: str):
    if inner == "*":
        return ("all",)
    if inner.startswith("?"):
        return ("filter", _filter(inner[1:].strip()))
    if "," in inner:
        return ("union", [_bracket(p.strip()) for p in inner.split(",")])
    if inner[:1] in "\"'":
        return ("field", inner[1:-1])
    if ":" in inner:
        parts = [int(p) if p.strip() else None for p in inner.split(":")]
        return ("slice", *(parts + [None] * (3 - len(parts))))
    try:
        return ("index", int(inner))
    except ValueError:
        return ("field", inner)


_FILTER = re.compile(r"^\((.+?)\s*(==|!=|<=|>=|<|>|=~)\s*(.+)\)$|^\((.+)\)$")


def _filter(text: str):
    m = _FILTER.match(text)
    if not m:
        raise JSONPathError(f"unrecognized filter {text!r}")
    if m.group(4):
        return (_steps(m.group(4).strip()), None, None)
    left, op, right = m.group(1).strip(), m.group(2), m.group(3).strip()
    return (_steps(left), op, _literal_or_path(right))


def _literal_or_path(text: str):
    if text[:1] in "\"'":
        return ("literal", text[1:-1])
    if text[:1] in "@$":
        return ("path", _steps(text))
    for convert in (int, float):
        try:
            return ("literal", convert(text))
        except ValueError:
            pass
    if text in ("true", "false"):
        return ("literal", text == "true")
    return ("literal", text)


# Evaluation.

_MISSING = object()


def evaluate(steps: list, root, current) -> list:
    values = [current]
    for step in steps:
        values = [v for value in values for v in _apply(step, value, root)]
    return values


def _apply(step, value, root):
    kind = step[0]
    if kind == "root":
        return [root]
    if kind == "current":
        return [value]
    if kind == "field":
        if isinstance(value, dict) and step[1] in value:
            return [value[step[1]]]
        return []
    if kind == "all":
        if isinstance(value, dict):
            return [value[k] for k in sorted(value)]
        return list(value) if isinstance(value, list) else []
    if kind == "index":
        if isinstance(value, list) and -len(value) <= step[1] < len(value):
            return [value[step[1]]]
        if isinstance(value, list):
            # Go adds the length to a negative index before it reports it.
            index = step[1] + len(value) if step[1] < 0 else step[1]
            raise ExecutionError(f"array index out of bounds: index {index}, "
                                 f"length {len(value)}")
        return []
    if kind == "slice":
        return value[step[1]:step[2]:step[3]] if isinstance(value, list) else []
    if kind == "union":
        return [v for s in step[1] for v in _apply(s, value, root)]
    if kind == "recursive":
        return _descend(value, step[1])
    if kind == "filter":
        items = value if isinstance(value, list) else \
            [value[k] for k in sorted(value)] if isinstance(value, dict) else []
        return [item for item in items if _matches(step[1], item, root)]
    raise JSONPathError(f"unknown step {kind}")


def _descend(value, name: str) -> list:
    found = []
    if isinstance(value, dict):
        if name == "*":
            found.extend(value[k] for k in sorted(value))
        elif name in value:
            found.append(value[name])
        for key in sorted(value):
            found.extend(_descend(value[key], name))
    elif isinstance(value, list):
        if name == "*":
            found.extend(value)
        for item in value:
            found.extend(_descend(item, name))
    return found


def _matches(condition, item, root) -> bool:
    left_steps, op, right = condition
    lefts = evaluate(left_steps, root, item)
    if op is None:
        return bool(lefts)
    if right[0] == "path":
        rights = evaluate(right[1], root, item)
    else:
        rights = [right[1]]
    return any(_compare(l, op, r) for l in lefts for r in rights)


def _compare(left, op: str, right) -> bool:
    if op == "==":
        return left == right or str_value(left) == str_value(right)
    if op == "!=":
        return not _compare(left, "==", right)
    if op == "=~":
        return isinstance(left, str) and re.search(str(right), left) is not None
    try:
        return {"<": left < right, ">": left > right, "<=": left <= right,
                ">=": left >= right}[op]
    except TypeError:
        return False


def str_value(value) -> str:
    """A value as kubectl's JSONPath prints it."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return go_json(value)
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def go_float(value: float) -> str:
    """Go's %v of a float64: shortest repr, exponent form from 1e21."""
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = exponent[0] if exponent[0] in "+-" else "+"
        return f"{mantissa}e{sign}{exponent.lstrip('+-').rjust(2, '0')}"
    return text


def go_json(value) -> str:
    """Compact JSON as Go's encoding/json writes it: sorted keys, <>& escaped."""
    text = jsonio.compact_sorted(value)
    return escape_html(text)


def escape_html(text: str) -> str:
    if "<" in text or ">" in text or "&" in text or "\u2028" in text \
            or "\u2029" in text:
        text = (text.replace("<", "\\u003c").replace(">", "\\u003e")
                .replace("&", "\\u0026").replace("\u2028", "\\u2028")
                .replace("\u2029", "\\u2029"))
    return text


class JSONPath:
    """A parsed template, run against any number of objects."""

    def __init__(self, template: str):
        self.template = template
        self.nodes = parse(template)

    def render(self, data) -> str:
        out: list[str] = []
        self._run(self.nodes, data, data, out)
        return "".join(out)

    def render_json(self, data) -> str:
        """``-o jsonpath-as-json``: each text and expression run, as kubectl
        prints it, a JSON array of its values on lines of its own."""
        import json

        out: list[str] = []
        self._run(self.nodes, data, data, out, as_json=True)
        return "".join(escape_html(json.dumps(values, indent=4, ensure_ascii=False,
                                              sort_keys=True))
                       + "\n" for values in out)

    def values(self, data) -> list:
        """The values of a single-expression template (for sort-by, columns)."""
        found = []
        for node in self.nodes:
            if node[0] == "expr":
                for steps in node[1]:
                    found.extend(evaluate(steps, data, data))
        return found

    def _run(self, nodes, root, current, out, as_json: bool = False) -> None:
        for node in nodes:
            if node[0] == "text":
                out.append([node[1]] if as_json else node[1])
            elif node[0] == "expr":
                results = [v for steps in node[1]
                           for v in evaluate(steps, root, current)]
                out.append(results if as_json else
                           " ".join(str_value(v) for v in results))
            else:
                for item in evaluate(node[1], root, current):
                    self._run(node[2], root, item, out, as_json)


# kubectl's RelaxedJSONPathExpression: one action, braces and dot optional.
_RELAXED = re.compile(r"^\{\.?([^{}]+)\}$|^\.?([^{}]+)$")
BAD_RELAXED = ("unexpected path string, expected a 'name1.name2' or '.name1.name2' "
               "or '{name1.name2}' or '{.name1.name2}'")


def relaxed(expression: str) -> str:
    """custom-columns and --sort-by accept ``.a.b``, ``a.b`` or ``{.a.b}``."""
    if not expression:
        return expression
    m = _RELAXED.match(expression)
    if not m:
        raise JSONPathError(BAD_RELAXED)
    return "{." + (m.group(1) or m.group(2)) + "}"
