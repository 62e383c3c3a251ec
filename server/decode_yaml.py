"""YAML request bodies read the way sigs.k8s.io/yaml reads them.

kube-apiserver converts YAML to JSON before decoding, with the go-yaml v2
rules kubectl uses for manifests too, so the scalar resolution is kctl's
(kctl.yamlio): ``yes`` is true, ``1:20`` a string, timestamps stay text.
Keys come out sorted (the JSON is written from a Go map), and a key repeated
in one mapping is reported as go-yaml words it (``line 5: key "name" already
set in map``), a warning or a strict decoding error like any unknown field.
"""

from __future__ import annotations

import yaml

from kctl.yamlio import KubectlLoader, decode, go_error


class _Loader(KubectlLoader):
    """kubectl's loader, noting the keys a mapping repeats."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[str] = []

    def repeated_key(self, key: str, node: yaml.Node) -> None:
        line = node.start_mark.line + 1
        self.duplicates.append(f'line {line}: key "{key}" already set in map')


def load(body: bytes) -> tuple[object, list[str]]:
    """The document as JSON would carry it, and the repeated keys found.

    Raises ValueError with the parser's message for YAML that does not parse.
    """
    try:
        loader = _Loader(decode(body))
    except yaml.YAMLError as err:
        raise ValueError(f"error converting YAML to JSON: {go_error(err)}") from None
    try:
        value = loader.get_single_data()
    except yaml.YAMLError as err:
        raise ValueError(f"error converting YAML to JSON: {go_error(err)}") from None
    finally:
        loader.dispose()
    return _sorted(value), loader.duplicates


def _sorted(value):
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
