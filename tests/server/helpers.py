"""Small helpers for API tests: requests against a server URL."""

from __future__ import annotations

import json

import requests

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def pod(name: str, image: str = "busybox:1.36", **spec) -> dict:
    containers = [{"name": "main", "image": image,
                   "command": ["sleep", "3600"]}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": containers, **spec}}


def configmap(name: str, labels: dict | None = None, **data) -> dict:
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": data}


class API:
    def __init__(self, url: str):
        self.url = url
        self.session = requests.Session()

    def path(self, resource: str, namespace: str = "", name: str = "",
             sub: str = "", group: str = "") -> str:
        base = f"/apis/{group}" if group else "/api/v1"
        if namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{resource}"
        if name:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base

    def request(self, method: str, path: str, body=None, content_type=None,
                **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            headers["Content-Type"] = content_type or "application/json"
        return self.session.request(method, self.url + path, data=data,
                                    headers=headers, timeout=30, **kw)

    def create(self, resource: str, namespace: str, body) -> requests.Response:
        return self.request("POST", self.path(resource, namespace), body)

    def get(self, resource: str, namespace: str = "", name: str = "",
            **kw) -> requests.Response:
        return self.request("GET", self.path(resource, namespace, name), **kw)

    def put(self, resource: str, namespace: str, name: str, body,
            sub: str = "") -> requests.Response:
        return self.request("PUT", self.path(resource, namespace, name, sub), body)

    def patch(self, resource: str, namespace: str, name: str, body,
              content_type: str, sub: str = "") -> requests.Response:
        return self.request("PATCH", self.path(resource, namespace, name, sub),
                            body, content_type)

    def delete(self, resource: str, namespace: str, name: str = "", body=None,
               **kw) -> requests.Response:
        return self.request("DELETE", self.path(resource, namespace, name), body,
                            **kw)


def status_of(response: requests.Response) -> tuple[int, str, str]:
    """(code, reason, message) of a Status answer, checking its shape."""
    body = response.json()
    assert body["kind"] == "Status" and body["apiVersion"] == "v1", body
    assert body["status"] == "Failure" and body["code"] == response.status_code
    return body["code"], body["reason"], body["message"]
