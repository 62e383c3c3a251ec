"""YAML request bodies read the way sigs.k8s.io/yaml reads them.

kube-apiserver converts YAML to JSON before decoding: timestamps stay strings,
keys come out sorted (the JSON is written from a Go map), and a key repeated
in one mapping is reported as go-yaml words it (``line 5: key "name" already
set in map``), a warning or a strict decoding error like any unknown field.
"""

from __future__ import annotations

import yaml


class _Loader(yaml.SafeLoader):
    """A safe loader that keeps timestamps as text and notes repeated keys."""


# YAML to JSON keeps timestamps as the strings they were written as.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict:
    loader.flatten_mapping(node)
    pairs = []
    seen = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            line = key_node.start_mark.line + 1
            loader.duplicates.append(f'line {line}: key "{key}" already set '
                                     "in map")
        seen.add(key)
        pairs.append((key, loader.construct_object(value_node, deep=True)))
    return dict(pairs)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                        _mapping)


def load(body: bytes) -> tuple[object, list[str]]:
    """The document as JSON would carry it, and the repeated keys found.

    Raises ValueError with the parser's message for YAML that does not parse.
    """
    loader = _Loader(body)
    loader.duplicates = []
    try:
        value = loader.get_single_data()
    except yaml.YAMLError as err:
        raise ValueError(f"error converting YAML to JSON: {err}") from None
    finally:
        loader.dispose()
    return _as_json(value), loader.duplicates


def _as_json(value):
    if isinstance(value, dict):
        return {str(k): _as_json(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        # JSON written from a Go float64 prints 1.0 as 1.
        return int(value)
    return value
