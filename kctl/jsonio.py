"""JSON in and out, with orjson only where a body is large enough to repay it.

Measured on the target machine: importing orjson costs about 12 ms (it brings
in datetime, uuid and dataclasses), the standard json module under 2 ms. A
plain ``kctl get pods`` reads a few kilobytes, where the two parse within a
fraction of a millisecond of each other, so the import is most of its cost.
At 10,000 pods (~10 MB) orjson parses twice as fast and prints kubectl's
indented JSON forty times as fast, so a large body switches to it.
"""

from __future__ import annotations

import json
import sys

# Bytes from which orjson's speed outweighs its import: the standard module
# loses about 1 ms per 100 KB parsing and about 1 ms per 15 KB printing.
LARGE = 128 * 1024
# Objects in a list from which printing it is worth orjson's import.
MANY = 100


def loads(data: bytes | str):
    if len(data) < LARGE:
        return json.loads(data)
    import orjson

    return orjson.loads(data)


def dumps(obj) -> bytes:
    """Compact UTF-8 JSON, for request bodies and cache files."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def compact_sorted(obj) -> str:
    """Compact JSON with sorted keys, as Go's encoding/json writes a map."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True)


def indented(obj) -> str:
    """Four-space indented, sorted JSON, as Go's json.MarshalIndent writes it
    (apart from Go's HTML escapes, which printers adds)."""
    if not _worth_orjson(obj):
        return json.dumps(obj, ensure_ascii=False, indent=4, sort_keys=True)
    import orjson

    data = orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    # orjson indents by two; kubectl by four. Doubling each line's own
    # leading spaces keeps orjson's speed on 10,000 objects.
    lines = data.split(b"\n")
    return b"\n".join([line[:len(line) - len(line.lstrip(b" "))] + line
                       for line in lines]).decode("utf-8")


def _worth_orjson(obj) -> bool:
    # Already imported for a large body, printing with it is free.
    if "orjson" in sys.modules:
        return True
    return isinstance(obj, dict) and len(obj.get("items") or ()) >= MANY
