"""Objects from ``-f`` placed on the server: their resource, namespace and path.

create, apply, delete, label and the rest all walk the same documents the same
way: a document that cannot be read or placed is reported with its file and
document number, and the walk goes on; the command exits 1 at the end.
"""

from __future__ import annotations

from kctl.record import record

from kctl import manifests
from kctl.discovery import Resource, UnknownResource
from kctl.errors import CommandError
from kctl.resources import object_path


@record
class Placed:
    manifest: manifests.Manifest
    resource: Resource
    namespace: str | None

    @property
    def obj(self) -> dict:
        return self.manifest.obj

    @property
    def name(self) -> str:
        return (self.obj.get("metadata") or {}).get("name", "")

    def path(self, named: bool = True) -> str:
        return object_path(self.resource, self.namespace,
                           self.name if named else None)

    def where(self) -> str:
        return where(self.manifest)


def where(manifest: manifests.Manifest) -> str:
    """``"pod.yaml"``, with the document number when the file has several."""
    text = f'"{manifest.source}"'
    if manifest.several:
        text += f" (document {manifest.document})"
    return text


def read(filenames, recursive: bool) -> list[manifests.Manifest]:
    if not filenames:
        raise CommandError("must specify one of -f and -k")
    try:
        found = manifests.read(list(filenames), recursive)
    except manifests.ManifestError as exc:
        raise CommandError(str(exc)) from None
    counts: dict[str, int] = {}
    for m in found:
        counts[m.source] = max(counts.get(m.source, 0), m.document)
    for m in found:
        m.several = counts[m.source] > 1
    if not found:
        raise CommandError("no objects passed to the command")
    return found


def place(s, manifest: manifests.Manifest) -> Placed:
    """Resolve a read object's resource and namespace, or raise CommandError."""
    if manifest.error is not None:
        raise CommandError(f"error parsing {where(manifest)}: {manifest.error}")
    obj = manifest.obj
    try:
        resource = s.discovery.by_kind(obj["apiVersion"], obj["kind"])
    except UnknownResource:
        name = (obj.get("metadata") or {}).get("name", "")
        raise CommandError(
            f'resource mapping not found for name: "{name}" namespace: '
            f'"{(obj.get("metadata") or {}).get("namespace", "")}" from '
            f'{where(manifest)}: no matches for kind "{obj["kind"]}" in version '
            f'"{obj["apiVersion"]}"\nensure CRDs are installed first') from None
    namespace = None
    if resource.namespaced:
        namespace = _namespace(s, obj)
    return Placed(manifest, resource, namespace)


def _namespace(s, obj: dict) -> str:
    meta = obj.setdefault("metadata", {})
    own = meta.get("namespace")
    if own and s.namespace_explicit and own != s.namespace:
        raise CommandError(
            f'the namespace from the provided object "{own}" does not match the '
            f'namespace "{s.namespace}". You must pass \'--namespace={own}\' to '
            f'perform this operation.')
    return own or s.namespace


def failure_line(exc: Exception, action: str, placed_or_manifest) -> str:
    """kubectl's line for a failed write, naming the file it came from."""
    from kctl.client import APIError
    from kctl.main import logged_in_line, unauthorized

    manifest = getattr(placed_or_manifest, "manifest", placed_or_manifest)
    if isinstance(exc, APIError) and unauthorized(exc):
        return logged_in_line(f"error when {action} {where(manifest)}: {exc}")
    if isinstance(exc, APIError):
        prefix = f"Error from server ({exc.reason})" if exc.reason else \
            "Error from server"
        return f"{prefix}: error when {action} {where(manifest)}: {exc}"
    return f"error: {exc}"
