"""Objects read from ``-f``: files, directories, stdin and http(s) URLs.

A stream is cut into documents at lines that start with ``---`` (as
apimachinery's YAMLReader does), each document is read on its own, so one bad
document costs only itself, and ``kind: List`` is expanded into its items.
A stream that starts with ``{`` is read as a sequence of JSON objects.
"""

from __future__ import annotations

import os
import re
import sys
from kctl.record import record

_EXTENSIONS = (".json", ".yaml", ".yml")
_SEPARATOR = re.compile(r"^---(\s*$|\s+#|#)")


class ManifestError(Exception):
    """A document that cannot become an object; says where it is."""


@record
class Manifest:
    """One object from ``source``, or the error that took its place."""

    source: str
    document: int  # 1-based, counted among the stream's documents
    obj: dict | None = None
    error: ManifestError | None = None
    several: bool = False  # whether its source holds more than one document


def read(paths: list[str], recursive: bool = False,
         stdin=None) -> list[Manifest]:
    """Every object named by ``-f`` arguments, in order, errors in place."""
    found: list[Manifest] = []
    for path in paths:
        for source, data in _sources(path, recursive, stdin):
            try:
                text = _text(data)
            except ManifestError as exc:
                found.append(Manifest(source, 1, error=exc))
                continue
            found.extend(parse(text, source))
    return found


def _text(data: bytes | str) -> str:
    """The text of a source; one that is not UTF-8 (a binary file given to -f
    by mistake) is an error of that source alone, as in kubectl."""
    if isinstance(data, str):
        return data
    import yaml

    from kctl import yamlio

    try:
        return yamlio.decode(data)
    except yaml.YAMLError as exc:
        raise ManifestError(f"error converting YAML to JSON: "
                            f"{yamlio.go_error(exc)}") from None


def _sources(path: str, recursive: bool, stdin):
    if path == "-":
        stream = stdin or sys.stdin
        # The bytes, so that non-UTF-8 input is reported like a file's.
        yield "STDIN", getattr(stream, "buffer", stream).read()
    elif path.startswith(("http://", "https://")):
        from kctl.client import fetch_url

        yield path, fetch_url(path)
    elif os.path.isdir(path):
        yield from _directory(path, recursive)
    elif os.path.exists(path):
        yield path, _read_bytes(path)
    else:
        raise ManifestError(f'the path "{path}" does not exist')


def _directory(path: str, recursive: bool):
    # As kubectl: only .json/.yaml/.yml files in a directory, sorted by name;
    # subdirectories only with -R.
    for entry in sorted(os.listdir(path)):
        full = os.path.join(path, entry)
        if os.path.isdir(full):
            if recursive:
                yield from _directory(full, recursive)
        elif entry.endswith(_EXTENSIONS):
            yield full, _read_bytes(full)


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def parse(text: str, source: str = "STDIN") -> list[Manifest]:
    if text.lstrip().startswith("{"):
        return _parse_json(text, source)
    found = []
    for number, (first_line, doc) in enumerate(split_documents(text), start=1):
        if not doc.strip():
            continue
        try:
            data = load_yaml(doc, first_line)
        except ManifestError as exc:
            found.append(Manifest(source, number, error=exc))
            continue
        found.extend(_objects(data, source, number))
    return found


def split_documents(text: str) -> list[tuple[int, str]]:
    """The documents of a YAML stream with the 0-based line each starts on.

    Empty documents are kept so that numbers count every document of the file.
    """
    docs, current, start = [], [], 0
    for index, line in enumerate(text.splitlines(keepends=True)):
        if _SEPARATOR.match(line):
            docs.append((start, "".join(current)))
            current, start = [], index + 1
        else:
            current.append(line)
    docs.append((start, "".join(current)))
    return docs


def load_yaml(doc: str, first_line: int):
    import yaml

    from kctl import yamlio

    try:
        return yamlio.load(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = ""
        if mark is not None:
            where = f"line {mark.line + first_line + 1}, column {mark.column + 1}: "
        problem = exc.problem or exc.context or "invalid YAML"
        raise ManifestError(f"yaml: {where}{problem}") from None
    except yaml.reader.ReaderError:
        # PyYAML's message spans two lines; go-yaml's says it in one.
        raise ManifestError("error converting YAML to JSON: yaml: control "
                            "characters are not allowed") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"error converting YAML to JSON: {exc}") from None


def _parse_json(text: str, source: str) -> list[Manifest]:
    import json

    decoder = json.JSONDecoder()
    found, pos, number = [], 0, 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return found
        number += 1
        try:
            data, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            error = ManifestError(f"json: line {exc.lineno}, column {exc.colno}: "
                                  f"{exc.msg}")
            found.append(Manifest(source, number, error=error))
            return found
        found.extend(_objects(data, source, number))


def _objects(data, source: str, number: int) -> list[Manifest]:
    if data is None:
        return []  # a document of only comments
    if not isinstance(data, dict):
        error = ManifestError(f"expected an object, got {type(data).__name__}")
        return [Manifest(source, number, error=error)]
    problem = missing_fields(data)
    if problem:
        return [Manifest(source, number, error=ManifestError(problem))]
    if data["kind"].endswith("List") and isinstance(data.get("items"), list):
        found = []
        for item in data["items"]:
            found.extend(_objects(item, source, number))
        return found
    return [Manifest(source, number, obj=data)]


def missing_fields(data: dict) -> str:
    missing = [f"{key} not set" for key in ("apiVersion", "kind")
               if not data.get(key)]
    return ", ".join(missing)


def to_json(obj) -> bytes:
    from kctl import jsonio

    return jsonio.dumps(obj)
