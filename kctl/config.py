"""Kubeconfig files found, merged and overridden as kubectl does.

The chain: ``--kubeconfig`` alone if given, else every file in
``$KUBECONFIG`` (colon-separated, missing files ignored), else
``~/.kube/config``. When merging, the first file to set a value wins: the
first ``current-context``, the first cluster, context or user of each name
(https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/#merging-kubeconfig-files).
With no file at all kctl talks to ``http://127.0.0.1:8080``, where
``kctl serve`` listens by default.
"""

from __future__ import annotations

import os
from kctl.record import field, record

DEFAULT_SERVER = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 32.0  # kubectl's client falls back to a 32 s request timeout


class ConfigError(Exception):
    """A kubeconfig that cannot be used (missing file, unknown context)."""


@record
class Overrides:
    """The connection flags of the command line; None means not given."""

    kubeconfig: str | None = None
    context: str | None = None
    cluster: str | None = None
    user: str | None = None
    server: str | None = None
    token: str | None = None
    namespace: str | None = None
    insecure_skip_tls_verify: bool | None = None
    certificate_authority: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    request_timeout: float | None = None


@record
class Connection:
    """Everything the HTTP client needs to reach one cluster."""

    server: str = DEFAULT_SERVER
    namespace: str = "default"
    token: str | None = None
    username: str | None = None
    password: str | None = None
    insecure: bool = False
    ca_file: str | None = None
    ca_data: bytes | None = None
    cert_file: str | None = None
    cert_data: bytes | None = None
    key_file: str | None = None
    key_data: bytes | None = None
    timeout: float = DEFAULT_TIMEOUT
    context: str = ""
    extra: dict = field(default_factory=dict)


def default_files() -> list[str]:
    env = os.environ.get("KUBECONFIG")
    if env:
        return [p for p in env.split(os.pathsep) if p]
    return [os.path.join(os.path.expanduser("~"), ".kube", "config")]


def config_files(explicit: str | None) -> list[str]:
    if explicit:
        if not os.path.exists(explicit):
            raise ConfigError(f"stat {explicit}: no such file or directory")
        return [explicit]
    return [p for p in default_files() if os.path.exists(p)]


def _read_file(path: str) -> dict:
    cached = _cached(path)
    if cached is not None:
        return cached
    data = _parse_file(path)
    if not isinstance(data, dict):
        raise ConfigError(f'error loading config file "{path}": not a mapping')
    _absolutize(data, os.path.dirname(os.path.abspath(path)))
    _remember(path, data)
    return data


def _parse_file(path: str):
    """The file's YAML, or kubectl's one line saying why it cannot be read."""
    import yaml

    from kctl import yamlio

    prefix = f'error loading config file "{path}"'
    try:
        with open(path, "rb") as f:
            return yamlio.load(yamlio.decode(f.read())) or {}
    except OSError as exc:
        # Go's wording: "open FILE: permission denied".
        reason = (exc.strerror or str(exc)).lower()
        raise ConfigError(f"{prefix}: open {path}: {reason}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{prefix}: {yamlio.go_error(exc)}") from exc


def _cache_path(path: str) -> str:
    import re

    from kctl.discovery import cache_dir

    # A readable name, not a hash: hashlib loads OpenSSL (~15 ms).
    safe = re.sub(r"[^A-Za-z0-9.\-]+", "_", os.path.abspath(path)).strip("_")
    return os.path.join(cache_dir(), "kubeconfig", safe + ".json")


def _stamp(path: str) -> list:
    info = os.stat(path)
    return [os.path.abspath(path), info.st_mtime_ns, info.st_size]


def _cached(path: str) -> dict | None:
    """The file as parsed last time, if it has not changed since.

    Importing and running the YAML parser costs ~20 ms of a ~50 ms budget for
    ``kctl get``; the parsed kubeconfig is kept as JSON, like discovery.
    """
    from kctl import jsonio

    try:
        with open(_cache_path(path), "rb") as f:
            entry = jsonio.loads(f.read())
        return entry["data"] if entry["stamp"] == _stamp(path) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remember(path: str, data: dict) -> None:
    from kctl import jsonio

    target = _cache_path(path)
    try:
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        tmp = f"{target}.{os.getpid()}.tmp"
        # It may hold credentials: readable by the user only, as the file is.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(jsonio.dumps({"stamp": _stamp(path), "data": data}))
        os.replace(tmp, target)
    except (OSError, TypeError, ValueError):
        pass


_PATH_FIELDS = {
    "clusters": ("cluster", ("certificate-authority",)),
    "users": ("user", ("client-certificate", "client-key", "tokenFile")),
}


def _absolutize(data: dict, base: str) -> None:
    """Relative file references are relative to the kubeconfig that holds them."""
    for section, (inner, keys) in _PATH_FIELDS.items():
        for entry in data.get(section) or []:
            body = (entry or {}).get(inner) or {}
            for key in keys:
                value = body.get(key)
                if value and not os.path.isabs(value):
                    body[key] = os.path.join(base, value)


def merge(documents: list[dict]) -> dict:
    """One kubeconfig from several: the first file to name a thing wins."""
    merged = {"apiVersion": "v1", "kind": "Config", "preferences": {},
              "clusters": [], "contexts": [], "users": [],
              "current-context": ""}
    for section in ("clusters", "contexts", "users"):
        seen = set()
        for doc in documents:
            for entry in doc.get(section) or []:
                name = (entry or {}).get("name")
                if name is not None and name not in seen:
                    seen.add(name)
                    merged[section].append(entry)
    for doc in documents:
        if doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
            break
    for doc in documents:
        if doc.get("preferences"):
            merged["preferences"] = doc["preferences"]
            break
    return merged


def load_merged(explicit: str | None = None) -> dict:
    return merge([_read_file(p) for p in config_files(explicit)])


def find(config: dict, section: str, name: str) -> dict | None:
    inner = section[:-1] if section != "users" else "user"
    for entry in config.get(section) or []:
        if entry.get("name") == name:
            return entry.get(inner) or {}
    return None


def resolve(overrides: Overrides) -> Connection:
    """The cluster to talk to, after the files and the flags."""
    config = load_merged(overrides.kubeconfig)
    context_name = overrides.context or config.get("current-context") or ""
    context = {}
    if context_name:
        context = find(config, "contexts", context_name)
        if context is None:
            if overrides.context or not overrides.server:
                raise ConfigError(f'context was not found for specified context: '
                                  f'{context_name}')
            context = {}
    cluster = find(config, "clusters", overrides.cluster or
                   context.get("cluster", "")) or {}
    user = find(config, "users", overrides.user or context.get("user", "")) or {}
    conn = _connection(cluster, user, context, overrides)
    conn.context = context_name
    return conn


def _connection(cluster: dict, user: dict, context: dict,
                o: Overrides) -> Connection:
    def data(value):
        if not value:
            return None
        import base64  # ~1.3 ms, for kubeconfigs with inline certificates only

        return base64.b64decode(value)

    conn = Connection(
        server=o.server or cluster.get("server") or DEFAULT_SERVER,
        namespace=o.namespace or context.get("namespace") or "default",
        token=o.token or user.get("token") or _token_file(user.get("tokenFile")),
        username=user.get("username"),
        password=user.get("password"),
        insecure=bool(o.insecure_skip_tls_verify),
        ca_file=o.certificate_authority,
        cert_file=o.client_certificate or user.get("client-certificate"),
        cert_data=data(user.get("client-certificate-data")),
        key_file=o.client_key or user.get("client-key"),
        key_data=data(user.get("client-key-data")),
    )
    if not (o.insecure_skip_tls_verify or o.certificate_authority):
        # As client-go: either flag replaces all three of the cluster's TLS
        # settings, so --certificate-authority wins over
        # certificate-authority-data (client-go's DirectClientConfig).
        conn.insecure = bool(cluster.get("insecure-skip-tls-verify", False))
        conn.ca_file = cluster.get("certificate-authority")
        conn.ca_data = data(cluster.get("certificate-authority-data"))
    if o.request_timeout:
        conn.timeout = o.request_timeout
    if "://" not in conn.server:
        conn.server = _default_scheme(conn) + conn.server
    conn.server = conn.server.rstrip("/")
    # TODO: exec and auth-provider credential plugins are not run; a user
    # entry that needs one gets no credentials.
    return conn


def _default_scheme(conn: Connection) -> str:
    """A server without a scheme is https only with TLS settings, as client-go's
    defaultServerUrlFor: a CA, a client certificate or insecure-skip-tls-verify."""
    tls = (conn.ca_file or conn.ca_data or conn.cert_file or conn.cert_data
           or conn.insecure)
    return "https://" if tls else "http://"


def _token_file(path: str | None) -> str | None:
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def parse_timeout(text: str) -> float:
    """--request-timeout: "0" (none), a bare number of seconds, or 1m30s / 500ms."""
    import re

    text = text.strip()
    if re.fullmatch(r"[0-9]+", text):
        return float(text)
    parts = re.findall(r"([0-9.]+)(ms|h|m|s)", text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise ValueError("invalid duration " + text)
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(a) * scale[b] for a, b in parts)
