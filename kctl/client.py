"""kctl's one HTTP layer: requests to the API server and the errors they raise.

It speaks HTTP/1.1 over a socket itself. Measured on the target machine,
importing requests costs about 190 ms and http.client about 30 ms (its email
parser), while ``kctl get pods`` must start faster than kubectl's ~90 ms; the
subset the API needs (Content-Length or chunked bodies, keep-alive, a streamed
body for watch and logs) is small. ``ssl`` is imported only for https.

Failures become a few typed errors carrying the server's Status message:
:class:`Unreachable` (no connection), :class:`APIError` and its subclasses
:class:`Unauthorized`, :class:`NotFound`, :class:`Conflict`, :class:`Invalid`.
"""

from __future__ import annotations

import socket
from urllib.parse import quote, urlencode, urlsplit

from kctl import jsonio
from kctl.config import Connection

_PATH_SAFE = "/:@!$&'()*+,;=-._~"
TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
                "application/json")
USER_AGENT = "kctl/0.1.0"


class Unreachable(Exception):
    """The server could not be reached at all.

    kubectl says "The connection to the server HOST was refused - did you
    specify the right host or port?"; kctl names the whole URL and, for a
    refused connection, the likely cause on a laptop.
    """

    def __init__(self, server: str, reason: str):
        self.server = server
        self.reason = reason
        message = f"cannot reach the API server at {server} ({reason})"
        if reason == "connection refused":
            message += "; is kctl serve running?"
        super().__init__(message)


class APIError(Exception):
    """An answer with an error status; ``status`` is the server's Status."""

    def __init__(self, code: int, status: dict):
        self.code = code
        self.status = status
        self.reason = status.get("reason", "")
        self.details = status.get("details") or {}
        super().__init__(status.get("message") or f"the server returned {code}")


class NotFound(APIError):
    pass


class Unauthorized(APIError):
    """401: no credentials, or ones the server does not accept."""


class Conflict(APIError):
    """409: AlreadyExists, or a write against a stale resourceVersion."""


class Invalid(APIError):
    pass


_ERRORS = {401: Unauthorized, 404: NotFound, 409: Conflict, 422: Invalid}


def error_from(code: int, body: bytes) -> APIError:
    try:
        status = jsonio.loads(body)
        if not isinstance(status, dict) or status.get("kind") != "Status":
            raise ValueError
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        status = {"kind": "Status", "status": "Failure", "code": code,
                  "message": _unknown_message(code, text)}
        if code == 404:
            status["reason"] = "NotFound"  # as client-go names a bare 404
    return _ERRORS.get(code, APIError)(code, status)


def _unknown_message(code: int, text: str) -> str:
    # client-go's words for an error answer that carries no Status.
    if code == 404:
        return "the server could not find the requested resource"
    return (f"an error on the server ({text or 'unknown'}) has prevented the "
            f"request from succeeding")


class Response:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return jsonio.loads(self.body)


class _Stream:
    """A response whose body is read as it arrives (watch, logs -f)."""

    def __init__(self, conn: "_Connection", status: int, headers: dict):
        self._conn = conn
        self.status = status
        self.headers = headers

    def chunks(self):
        yield from self._conn.body_chunks(self.headers)

    def lines(self):
        pending = b""
        for chunk in self.chunks():
            pending += chunk
            *complete, pending = pending.split(b"\n")
            yield from complete
        if pending:
            yield pending

    def close(self):
        self._conn.close()


def _connect(host: str, port: int, timeout: float | None) -> socket.socket:
    """socket.create_connection, but an ASCII host is passed as bytes: a str
    makes getaddrinfo import the idna codec, ~8 ms of kctl's start."""
    name = host.encode("ascii") if host.isascii() else host
    error = None
    for family, kind, proto, _, address in socket.getaddrinfo(
            name, port, 0, socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"cannot resolve {host}")


class _Connection:
    """One HTTP/1.1 connection, kept alive between requests."""

    def __init__(self, host: str, port: int, tls, timeout: float | None):
        self.sock = _connect(host, port, timeout)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname=host)
        self.file = self.sock.makefile("rb")

    def send(self, head: bytes, body: bytes | None) -> None:
        self.sock.sendall(head + body if body else head)

    def read_head(self) -> tuple[int, dict]:
        line = self.file.readline(65537)
        if not line:
            raise ConnectionResetError("the server closed the connection")
        parts = line.split(None, 2)
        status = int(parts[1])
        headers = {}
        while True:
            line = self.file.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "warning":
                # A header that may come many times: one warning each.
                headers.setdefault("warning", []).append(value.strip())
            else:
                headers[name] = value.strip()
        return status, headers

    def read_body(self, headers: dict) -> bytes:
        if "content-length" in headers:
            return self._read_exact(int(headers["content-length"]))
        return b"".join(self.body_chunks(headers))

    def body_chunks(self, headers: dict):
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self.file.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.file.readline()
                    return
                yield self._read_exact(size)
                self.file.readline()
        elif "content-length" in headers:
            yield self._read_exact(int(headers["content-length"]))
        else:
            while chunk := self.file.read1(65536):
                yield chunk

    def _read_exact(self, size: int) -> bytes:
        data = self.file.read(size)
        if len(data) != size:
            raise ConnectionResetError("the server closed the connection early")
        return data

    def close(self) -> None:
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


class Client:
    """Requests to one API server, described by a :class:`Connection`."""

    def __init__(self, conn: Connection, warn=None):
        self.config = conn
        self.warn = warn  # called with the text of each Warning header
        url = urlsplit(conn.server)
        self.scheme = url.scheme
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.prefix = url.path.rstrip("/")
        self._tls = None
        self._conn: _Connection | None = None

    # Requests.

    def request(self, method: str, path: str, query: dict | None = None,
                body=None, content_type: str = "application/json",
                accept: str = "application/json") -> Response:
        return self._send(method, self._target(path, query), _encode(body),
                          content_type, accept)

    def request_target(self, method: str, target: str,
                       accept: str = "application/json") -> Response:
        """A bodiless request for a path that carries its own query, sent as
        given but for characters a request line cannot hold (get --raw)."""
        path, mark, query = target.partition("?")
        target = quote(self.prefix + path, safe=_PATH_SAFE) + mark + quote(
            query, safe=_PATH_SAFE + "?%")
        return self._send(method, target, None, "", accept)

    def stream(self, method: str, path: str, query: dict | None = None,
               accept: str = "application/json") -> _Stream:
        """A response read incrementally, on its own connection without timeout."""
        head = self._head(method, self._target(path, query), None, "", accept,
                          keep_alive=False)
        conn = self._connect(timeout=None)
        try:
            conn.send(head, None)
            status, headers = conn.read_head()
        except OSError as exc:
            conn.close()
            raise Unreachable(self.config.server, _reason(exc)) from exc
        self._warnings(headers)
        if status >= 400:
            data = conn.read_body(headers)
            conn.close()
            raise error_from(status, data)
        return _Stream(conn, status, headers)

    def get(self, path: str, query: dict | None = None, accept: str =
            "application/json"):
        return self.request("GET", path, query, accept=accept).json()

    def close(self) -> None:
        if self._conn:
            self._conn.close()
            self._conn = None

    # Plumbing.

    def _warnings(self, headers: dict) -> None:
        if self.warn is None:
            return
        for value in headers.get("warning") or ():
            text = warning_text(value)
            if text is not None:
                self.warn(text)

    def _send(self, method: str, target: str, payload: bytes | None,
              content_type: str, accept: str) -> Response:
        head = self._head(method, target, payload, content_type, accept)
        status, headers, data = self._roundtrip(head, payload)
        self._warnings(headers)
        if status >= 400:
            raise error_from(status, data)
        return Response(status, headers, data)

    def _target(self, path: str, query: dict | None) -> str:
        target = quote(self.prefix + path, safe=_PATH_SAFE)
        query = {k: v for k, v in (query or {}).items() if v is not None and v != ""}
        return target + "?" + urlencode(query) if query else target

    def _head(self, method, target, payload, content_type, accept,
              keep_alive=True) -> bytes:
        lines = [f"{method} {target} HTTP/1.1",
                 f"Host: {self.host}:{self.port}",
                 f"User-Agent: {USER_AGENT}",
                 f"Accept: {accept}"]
        if not keep_alive:
            lines.append("Connection: close")
        if payload is not None:
            lines += [f"Content-Type: {content_type}",
                      f"Content-Length: {len(payload)}"]
        elif method in ("POST", "PUT", "PATCH"):
            lines.append("Content-Length: 0")
        auth = self._authorization()
        if auth:
            lines.append(f"Authorization: {auth}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _authorization(self) -> str | None:
        if self.config.token:
            return f"Bearer {self.config.token}"
        if self.config.username is not None:
            import base64

            pair = f"{self.config.username}:{self.config.password or ''}"
            return "Basic " + base64.b64encode(pair.encode()).decode()
        return None

    def _roundtrip(self, head: bytes, payload: bytes | None):
        # A kept-alive connection the server has closed fails on first use:
        # retry once on a new one, as Go's transport does for idempotent use.
        for attempt in (0, 1):
            reused = self._conn is not None
            try:
                conn = self._conn or self._connect(self.config.timeout or None)
                self._conn = conn
                conn.send(head, payload)
                status, headers = conn.read_head()
                data = conn.read_body(headers)
            except (ConnectionResetError, BrokenPipeError) as exc:
                self.close()
                if reused and attempt == 0:
                    continue
                raise Unreachable(self.config.server, _reason(exc)) from exc
            except OSError as exc:
                self.close()
                raise Unreachable(self.config.server, _reason(exc)) from exc
            if headers.get("connection", "").lower() == "close":
                self.close()
            return status, headers, data
        raise AssertionError("unreachable")

    def _connect(self, timeout: float | None) -> _Connection:
        try:
            return _Connection(self.host, self.port, self._tls_context(), timeout)
        except OSError as exc:
            raise Unreachable(self.config.server, _reason(exc)) from exc

    def _tls_context(self):
        if self.scheme != "https":
            return None
        if self._tls is None:
            from kctl.tls import context_for

            self._tls = context_for(self.config)
        return self._tls


def warning_text(value: str) -> str | None:
    """The text of a ``Warning: 299 - "text"`` header, as client-go reads it:
    only code 299 counts, and a backslash keeps the character after it."""
    code, _, rest = value.partition(" ")
    _agent, _, quoted = rest.partition(" ")
    if code != "299" or not quoted.startswith('"'):
        return None
    text, escaped = [], False
    for char in quoted[1:]:
        if escaped:
            text.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return "".join(text)
        else:
            text.append(char)
    return None  # no closing quote


def _encode(body) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return jsonio.dumps(body)


def _reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "no such host"
    return exc.strerror or str(exc) or type(exc).__name__


def resource_path(group_version: str, resource: str, namespace: str | None = None,
                  name: str | None = None, subresource: str | None = None) -> str:
    """/api/v1/namespaces/NS/pods/NAME/log, or /apis/GROUP/VERSION/... ."""
    base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    parts = [base]
    if namespace:
        parts.append(f"namespaces/{namespace}")
    parts.append(resource)
    if name:
        parts.append(name)
    if subresource:
        parts.append(subresource)
    return "/".join(parts)


def fetch_url(url: str, timeout: float = 30.0) -> bytes:
    """GET an http(s) URL (a manifest given to -f) with the same transport."""
    parts = urlsplit(url)
    client = Client(Connection(server=f"{parts.scheme}://{parts.netloc}",
                               timeout=timeout))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        status, _, data = client._roundtrip(
            client._head("GET", target, None, "", "*/*"), None)
    finally:
        client.close()
    if status >= 400:
        raise OSError(f"unable to read URL {url!r}, server reported "
                      f"{status}, status code={status}")
    return data
