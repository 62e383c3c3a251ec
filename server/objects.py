"""Reading request bodies into objects, and the metadata the server sets."""

from __future__ import annotations

import copy
import random
import time
import uuid

import orjson
import yaml
from aiohttp import web

from server import decode
from server.errors import BadRequest, RequestEntityTooLarge, UnsupportedMediaType
from server.registry import Kind

# kube-apiserver's limit on a request body.
MAX_BODY = 3 * 1024 * 1024

# The alphabet of generated name suffixes: no vowels, so no words, and no
# look-alike characters (k8s.io/apimachinery/pkg/util/rand).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# metadata fields a client cannot set: the server keeps its own.
SERVER_SET = ("uid", "creationTimestamp", "deletionTimestamp",
              "deletionGracePeriodSeconds", "generation")


def now() -> str:
    """RFC 3339 in UTC to the second, as metav1.Time serializes."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def generate_name(prefix: str) -> str:
    # Names are cut so that the suffix always fits in 63 characters.
    suffix = "".join(random.choice(_SUFFIX_ALPHABET) for _ in range(5))
    return prefix[:58] + suffix


def new_uid() -> str:
    return str(uuid.uuid4())


async def read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _too_large()
    body = b""
    async for chunk in request.content.iter_chunked(65536):
        body += chunk
        if len(body) > MAX_BODY:
            raise _too_large()
    return body


def _too_large() -> RequestEntityTooLarge:
    return RequestEntityTooLarge(f"Request entity too large: limit is {MAX_BODY}")


def decode_json(body: bytes, content_type: str) -> object:
    media = content_type.split(";")[0].strip().lower()
    if media in ("", "application/json", "*/*"):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            from server.gojson import GoJSONError, decode

            try:
                return decode(body)  # what orjson refuses, Go may read
            except GoJSONError as error:
                raise BadRequest("couldn't get version/kind; json parse error: "
                                 f"{error}") from None
    if media in ("application/yaml", "application/x-yaml", "text/yaml"):
        try:
            return yaml.safe_load(body)
        except yaml.YAMLError as error:
            raise BadRequest(f"error converting YAML to JSON: {error}")
    raise UnsupportedMediaType(
        'the body of the request was in an unknown format - accepted media types '
        'include: application/json, application/yaml, '
        'application/vnd.kubernetes.protobuf')


def decode_object(kind: Kind, body: bytes, content_type: str,
                  field_validation: str | None = None) -> tuple[dict, list[str]]:
    """The object a create or update request carries, and decode warnings.

    The kind's schema decides types, unknown fields and canonical forms
    (server.decode); the object must then be of the kind the URL names.
    """
    obj, warnings = decode.decode_object(kind.kind, body, content_type,
                                         field_validation)
    if not isinstance(obj, dict):
        raise BadRequest("the body of the request must be a JSON object")
    check_type(kind, obj)
    # First, as Kubernetes writes them, also when the client sent neither.
    obj = {"kind": kind.kind, "apiVersion": kind.api_version, **obj}
    meta = obj.get("metadata")
    if meta is None:
        obj["metadata"] = {}
    elif not isinstance(meta, dict):
        raise BadRequest("metadata must be an object")
    return obj, warnings


def check_type(kind: Kind, obj: dict, expected: str | None = None) -> None:
    expected = expected or kind.kind
    api_version = obj.get("apiVersion")
    if api_version and api_version != kind.api_version:
        raise BadRequest(
            f"the API version in the data ({api_version}) does not match the "
            f"expected API version ({kind.api_version})")
    if obj.get("kind") and obj["kind"] != expected:
        raise BadRequest(
            f'{expected} in version "{kind.version}" cannot be handled as a '
            f'{obj["kind"]}: the kind in the data ({obj["kind"]}) does not match '
            f"the expected kind ({expected})")


def spec_changed(new: dict, old: dict) -> bool:
    """Whether anything but metadata and status differs: a new generation."""
    keys = (set(new) | set(old)) - {"metadata", "status", "apiVersion", "kind"}
    return any(new.get(k) != old.get(k) for k in keys)


def keep_server_metadata(new: dict, old: dict) -> None:
    """Put back what only the server sets, as an update may not change it."""
    meta, old_meta = new["metadata"], old["metadata"]
    for field in SERVER_SET:
        if field in old_meta:
            meta[field] = old_meta[field]
        else:
            meta.pop(field, None)


def deep_copy(obj: dict) -> dict:
    return copy.deepcopy(obj)


def encode(obj: dict) -> bytes:
    return orjson.dumps(obj)


def encode_stored(obj: dict) -> bytes:
    """The stored form: the resourceVersion is the store's, not the object's."""
    meta = obj["metadata"]
    version = meta.pop("resourceVersion", None)
    try:
        return orjson.dumps(obj)
    finally:
        if version is not None:
            meta["resourceVersion"] = version
