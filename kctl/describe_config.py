"""kubectl's describe pages for ConfigMaps, Secrets, ServiceAccounts and
Endpoints.

A Secret's values are never printed, only their sizes (kubectl's one
exception, a service account token, is kept). Keys are printed as they are.
kubectl walks these maps in Go's random order; kctl sorts them, so one page
is always the same.
"""

from __future__ import annotations

import base64
import binascii

from kctl.describe import Writer, _labels_annotations, _metadata, events_block

_TOKEN_TYPE = "kubernetes.io/service-account-token"


def describe_secret(secret: dict, events=None, related=None) -> str:
    # kubectl's SecretDescriber shows no events.
    w = Writer()
    _metadata(w, secret)
    _labels_annotations(w, secret)
    w.line(0, "")
    w.line(0, f"Type:\t{secret.get('type', '')}")
    w.line(0, "")
    w.line(0, "Data")
    w.line(0, "====")
    for key, value in sorted((secret.get("data") or {}).items()):
        raw = _decoded(value)
        if key == "token" and secret.get("type") == _TOKEN_TYPE:
            w.line(0, f"{key}:\t{raw.decode('utf-8', 'replace')}")
        else:
            w.line(0, f"{key}:\t{len(raw)} bytes")
    return w.text()


def _decoded(value) -> bytes:
    try:
        return base64.b64decode(value or "", validate=True)
    except (binascii.Error, ValueError):
        return b""


def describe_configmap(cm: dict, events, related=None) -> str:
    w = Writer()
    _metadata(w, cm)
    _labels_annotations(w, cm)
    w.line(0, "")
    w.line(0, "Data")
    w.line(0, "====")
    for key, value in sorted((cm.get("data") or {}).items()):
        w.line(0, f"{key}:")
        w.line(0, "----")
        w.lines.extend(str(value).split("\n"))
        w.line(0, "")
    w.line(0, "")
    w.line(0, "BinaryData")
    w.line(0, "====")
    for key, value in sorted((cm.get("binaryData") or {}).items()):
        w.line(0, f"{key}: {len(_decoded(value))} bytes")
    w.line(0, "")
    events_block(w, events)
    return w.text()


def describe_serviceaccount(sa: dict, events, related: dict | None = None) -> str:
    """``related["secrets"]``: the namespace's Secrets, None if they could not
    be listed (then nothing is marked missing, as kubectl does)."""
    w = Writer()
    _metadata(w, sa)
    _labels_annotations(w, sa)
    secrets = (related or {}).get("secrets")
    tokens, missing = _tokens_and_missing(sa, secrets)
    # kubectl pads the headers to one width and prints them sorted.
    for header, names in (
            ("Image pull secrets:", [s.get("name", "") for s in
                                     sa.get("imagePullSecrets") or []]),
            ("Mountable secrets: ", [s.get("name", "") for s in
                                     sa.get("secrets") or []]),
            ("Tokens:            ", tokens)):
        if not names:
            w.line(0, f"{header}\t<none>")
        for index, name in enumerate(names):
            mark = " (not found)" if name in missing else ""
            w.line(0, f"{header if index == 0 else ' ' * 19}\t{name}{mark}")
    events_block(w, events)
    return w.text()


def _tokens_and_missing(sa: dict, secrets: list[dict] | None):
    if secrets is None:
        return [], set()
    meta = sa.get("metadata") or {}
    tokens = [s["metadata"]["name"] for s in secrets
              if s.get("type") == _TOKEN_TYPE and _names_account(s, meta)]
    existing = {s["metadata"]["name"] for s in secrets}
    referenced = [s.get("name", "") for s in (sa.get("secrets") or []) +
                  (sa.get("imagePullSecrets") or [])]
    return tokens, {name for name in referenced if name not in existing}


def _names_account(secret: dict, meta: dict) -> bool:
    notes = (secret.get("metadata") or {}).get("annotations") or {}
    return (notes.get("kubernetes.io/service-account.name") == meta.get("name") and
            notes.get("kubernetes.io/service-account.uid") == meta.get("uid"))


def describe_endpoints(ep: dict, events, related=None) -> str:
    w = Writer()
    _metadata(w, ep)
    _labels_annotations(w, ep)
    w.line(0, "Subsets:")
    for subset in ep.get("subsets") or []:
        for key, label in (("addresses", "Addresses"),
                           ("notReadyAddresses", "NotReadyAddresses")):
            ips = ",".join(a.get("ip", "") for a in subset.get(key) or [])
            w.line(1, f"{label}:\t{ips or '<none>'}")
        if subset.get("ports"):
            w.line(1, "Ports:")
            w.line(2, "Name\tPort\tProtocol")
            w.line(2, "----\t----\t--------")
            for port in subset["ports"]:
                w.line(2, f"{port.get('name') or '<unset>'}\t{port.get('port', 0)}"
                          f"\t{port.get('protocol', '')}")
        w.line(0, "")
    events_block(w, events)
    return w.text()
