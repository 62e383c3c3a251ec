"""A tiny API server that records what the real kubectl sends.

It serves discovery and our OpenAPI documents, answers every write with the
object it received (as JSON, so kubectl can print it), and keeps each request
body with its content type. Tests use it to capture kubectl's protobuf and JSON
bodies and to check that kubectl accepts our OpenAPI documents.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from server import discovery, openapi
from server.openapi_v2_proto import CONTENT_TYPE
from server.registry import Registry


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    content_type: str
    accept: str
    body: bytes


class Recorder:
    """Serves ``registry`` on 127.0.0.1 at a free port until stopped.

    ``decode`` turns a recorded body into the dict to answer with; by default
    JSON bodies are echoed and other bodies get a minimal object.
    """

    def __init__(self, registry: Registry, decode=None):
        self.registry = registry
        self.decode = decode
        self.requests: list[Recorded] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)
        self.kubeconfig = ""

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "Recorder":
        self._thread.start()
        self._tmp = tempfile.TemporaryDirectory()
        self.kubeconfig = os.path.join(self._tmp.name, "config")
        with open(self.kubeconfig, "w") as f:
            f.write(_KUBECONFIG.format(url=self.url))
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._tmp.cleanup()

    def kubectl(self, *args: str, stdin: str | None = None
                ) -> subprocess.CompletedProcess:
        env = dict(os.environ, KUBECONFIG=self.kubeconfig,
                   HOME=self._tmp.name, KUBECACHEDIR=self._tmp.name + "/cache")
        return subprocess.run(["kubectl", *args], input=stdin, env=env,
                              capture_output=True, text=True, timeout=60)

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in ("POST", "PUT", "PATCH")]


_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: t
  cluster: {{server: "{url}"}}
contexts:
- name: t
  context: {{cluster: t, user: t, namespace: default}}
current-context: t
users:
- name: t
  user: {{token: t}}
"""


def _handler(recorder: Recorder):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            split = urlsplit(self.path)
            accept = self.headers.get("Accept", "")
            if split.path == "/openapi/v2" and "protobuf" in accept:
                data = openapi.openapi_v2_protobuf(recorder.registry)
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            document = _get(recorder.registry, split.path)
            if document is None:
                self._answer(404, _status(404, "NotFound", "not found"))
            else:
                self._answer(200, document)

        def do_POST(self):
            self._write(201)

        def do_PUT(self):
            self._write(200)

        def do_PATCH(self):
            self._write(200)

        def _write(self, code: int):
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            record = Recorded(self.command, split.path, parse_qs(split.query),
                              self.headers.get("Content-Type", ""),
                              self.headers.get("Accept", ""),
                              self.rfile.read(length))
            recorder.requests.append(record)
            self._answer(code, _echo(recorder, record))

        def _answer(self, code: int, document: dict):
            data = json.dumps(document).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _echo(recorder: Recorder, record: Recorded) -> dict:
    if recorder.decode is not None:
        return recorder.decode(record)
    if record.content_type.startswith("application/json"):
        return json.loads(record.body)
    return {"kind": "Status", "apiVersion": "v1", "status": "Success",
            "metadata": {}}


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason,
            "code": code}


def _get(registry: Registry, path: str) -> dict | None:
    parts = path.strip("/").split("/")
    if path == "/api":
        return discovery.api_versions("127.0.0.1")
    if path == "/apis":
        return discovery.api_group_list(registry)
    if len(parts) == 2 and parts[0] == "api":
        return discovery.api_resource_list(registry, "", parts[1])
    if len(parts) == 3 and parts[0] == "apis":
        return discovery.api_resource_list(registry, parts[1], parts[2])
    if path == "/openapi/v3":
        return openapi.openapi_v3_index(registry)
    if path == "/openapi/v2":
        return openapi.openapi_v2(registry)
    if parts[:2] == ["openapi", "v3"]:
        group_version = parts[2:]
        if group_version[0] == "api":
            return openapi.openapi_v3_document(registry, "", group_version[1])
        return openapi.openapi_v3_document(registry, group_version[1],
                                           group_version[2]) or None
    if path == "/version":
        return discovery.version_info()
    return None
