"""Which resources the server serves, cached on disk like kubectl's discovery.

kubectl keeps ``~/.kube/cache/discovery/<host_port>/`` for six hours and
refetches when a type is not found in it; kctl does the same under
``$XDG_CACHE_HOME/kctl`` (else ``~/.cache/kctl``). One JSON file per server
keeps a warm ``kctl get`` to a single read.
"""

from __future__ import annotations

import os
import re
import time
from kctl.record import asdict, record

from kctl import jsonio
from kctl.client import Client, NotFound, Unauthorized

CACHE_TTL = 6 * 3600.0
# Used when a name is ambiguous: the core group first, as kubectl's
# priority RESTMapper prefers it.
_GROUP_PRIORITY = ("", "apps", "batch", "autoscaling", "policy")


class UnknownResource(Exception):
    def __init__(self, name: str):
        self.name = name
        super().__init__(f'the server doesn\'t have a resource type "{name}"')


@record(frozen=True)
class Resource:
    name: str  # the plural: "pods"
    singular: str
    kind: str
    group: str
    version: str
    namespaced: bool
    short_names: tuple = ()
    verbs: tuple = ()
    categories: tuple = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``pods`` or ``deployments.apps``: how kubectl names the type in output."""
        return f"{self.name}.{self.group}" if self.group else self.name

    @property
    def kind_name(self) -> str:
        """``pod`` or ``deployment.apps``: the prefix of ``-o name``."""
        lower = self.kind.lower()
        return f"{lower}.{self.group}" if self.group else lower


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kctl")


def _cache_file(server: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9.\-]+", "_", server.split("://", 1)[-1])
    return os.path.join(cache_dir(), "discovery", safe + ".json")


class Discovery:
    """The resources of one server, from the cache when it is fresh enough."""

    def __init__(self, client: Client, ttl: float = CACHE_TTL):
        self.client = client
        self.ttl = ttl
        self._resources: list[Resource] | None = None
        self._fresh = False

    def resources(self) -> list[Resource]:
        if self._resources is None:
            self._resources = self._read_cache()
            if self._resources is None:
                self.refresh()
        return self._resources

    def refresh(self) -> None:
        self._resources = fetch(self.client)
        self._fresh = True
        self._write_cache(self._resources)

    def find(self, text: str) -> Resource:
        """The resource a user means by TYPE: plural, singular, short or kind."""
        found = match(self.resources(), text)
        if found is None and not self._fresh:
            self.refresh()
            found = match(self._resources, text)
        if found is None:
            raise UnknownResource(text)
        return found

    def by_kind(self, api_version: str, kind: str) -> Resource:
        group, _, version = api_version.rpartition("/")
        for attempt in (0, 1):
            for res in self.resources():
                if res.kind == kind and res.group == group and \
                        res.version == version:
                    return res
            if self._fresh:
                break
            self.refresh()
        raise UnknownResource(f"{kind} in version {api_version!r}")

    def category(self, name: str) -> list[Resource]:
        return [r for r in self.resources() if name in r.categories]

    def _read_cache(self) -> list[Resource] | None:
        path = _cache_file(self.client.config.server)
        try:
            if time.time() - os.path.getmtime(path) > self.ttl:
                return None
            with open(path, "rb") as f:
                rows = jsonio.loads(f.read())
            return [Resource(**{k: tuple(v) if isinstance(v, list) else v
                                for k, v in row.items()}) for row in rows]
        except (OSError, ValueError, TypeError):
            return None

    def _write_cache(self, resources: list[Resource]) -> None:
        path = _cache_file(self.client.config.server)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f:
                f.write(jsonio.dumps([asdict(r) for r in resources]))
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def match(resources: list[Resource], text: str) -> Resource | None:
    """TYPE, TYPE.GROUP or TYPE.VERSION.GROUP, as kubectl parses a resource arg."""
    name, *qualifier = text.lower().split(".")
    candidates = [r for r in resources
                  if name in (r.name, r.singular, r.kind.lower())
                  or name in r.short_names]
    if qualifier:
        group = ".".join(qualifier)
        versioned = [r for r in candidates if len(qualifier) > 1
                     and r.version == qualifier[0]
                     and r.group == ".".join(qualifier[1:])]
        candidates = versioned or [r for r in candidates if r.group == group]
    if not candidates:
        return None
    return min(candidates, key=_priority)


def _priority(res: Resource) -> tuple:
    try:
        rank = _GROUP_PRIORITY.index(res.group)
    except ValueError:
        rank = len(_GROUP_PRIORITY)
    return rank, res.group


def fetch(client: Client) -> list[Resource]:
    """Every resource of every preferred group version, from the server."""
    try:
        return _fetch(client)
    except Unauthorized as exc:
        # client-go's discovery client drops the Status of a 401 and says
        # this instead; kubectl, which discovers first, prints it.
        exc.args = ("the server has asked for the client to provide credentials",)
        raise


def _fetch(client: Client) -> list[Resource]:
    resources = _group_version(client, "", "v1", "/api/v1")
    try:
        groups = client.get("/apis").get("groups") or []
    except NotFound:
        groups = []
    for group in groups:
        preferred = (group.get("preferredVersion") or {}).get("version") or \
            group["versions"][0]["version"]
        path = f"/apis/{group['name']}/{preferred}"
        resources += _group_version(client, group["name"], preferred, path)
    return resources


def _group_version(client: Client, group: str, version: str,
                   path: str) -> list[Resource]:
    try:
        listing = client.get(path)
    except NotFound:
        return []
    found = []
    for r in listing.get("resources") or []:
        if "/" in r["name"]:
            continue  # a subresource, such as pods/log
        found.append(Resource(
            name=r["name"], singular=r.get("singularName") or r["kind"].lower(),
            kind=r["kind"], group=r.get("group") or group,
            version=r.get("version") or version, namespaced=r["namespaced"],
            short_names=tuple(r.get("shortNames") or ()),
            verbs=tuple(r.get("verbs") or ()),
            categories=tuple(r.get("categories") or ())))
    return found
