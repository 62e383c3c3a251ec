"""The paths and operations of the OpenAPI documents, one kind at a time.

Each operation carries what kubectl looks for: ``x-kubernetes-action``,
``x-kubernetes-group-version-kind`` and, on writes, the ``fieldValidation``
query parameter. Operation ids follow kube-apiserver's pattern
(createCoreV1NamespacedPod, listAppsV1DeploymentForAllNamespaces).
"""

from __future__ import annotations

from server.registry import Kind
from server.schema import SCHEMAS

# Query parameters: (type, description). Descriptions are ours.
_QUERY = {
    "pretty": ("string", "If 'true', the output is indented."),
    "dryRun": ("string",
               "All: run every step of the request without persisting it."),
    "fieldManager": ("string",
                     "The name of the actor making the change, for "
                     "managedFields."),
    "fieldValidation": (
        "string",
        "What to do with unknown or duplicate fields in the body: Ignore "
        "drops them, Warn (the default) drops them and answers a Warning "
        "header for each, Strict refuses the request."),
    "force": ("boolean",
              "Apply only: take over fields owned by other managers."),
    "allowWatchBookmarks": ("boolean",
                            "Ask a watch for BOOKMARK events."),
    "continue": ("string",
                 "The token of the previous chunk, to fetch the next one."),
    "fieldSelector": ("string", "Select objects by field values."),
    "labelSelector": ("string", "Select objects by label."),
    "limit": ("integer", "The largest number of items to return at once."),
    "resourceVersion": ("string",
                        "The version to read at, or to watch from."),
    "resourceVersionMatch": ("string",
                             "How resourceVersion is applied to a list: "
                             "Exact or NotOlderThan."),
    "sendInitialEvents": ("boolean",
                          "Start a watch with ADDED events for every "
                          "current object."),
    "timeoutSeconds": ("integer",
                       "End a list or watch after this many seconds."),
    "watch": ("boolean", "Watch for changes instead of listing."),
    "gracePeriodSeconds": ("integer",
                           "Seconds the object may take to terminate."),
    "ignoreStoreReadErrorWithClusterBreakingPotential": (
        "boolean", "Delete an object the server cannot read."),
    "orphanDependents": ("boolean",
                         "Deprecated: use propagationPolicy."),
    "propagationPolicy": ("string",
                          "Whether and how dependents are deleted: Orphan, "
                          "Background or Foreground."),
    "container": ("string",
                  "The container whose log to read, or to run the command in."),
    "command": ("string", "The command to run and its arguments, one per "
                "parameter, as an argv array (no shell)."),
    "stdin": ("boolean", "Send the caller's input to the command."),
    "stdout": ("boolean", "Return the command's standard output."),
    "stderr": ("boolean", "Return the command's standard error."),
    "tty": ("boolean", "Run the command on a terminal."),
    "follow": ("boolean", "Stream the log as it grows."),
    "insecureSkipTLSVerifyBackend": (
        "boolean", "Do not verify the node's certificate."),
    "limitBytes": ("integer", "Stop after this many bytes of log."),
    "previous": ("boolean",
                 "Read the log of the previous, terminated instance."),
    "sinceSeconds": ("integer", "Only log lines newer than this many seconds."),
    "tailLines": ("integer", "Only this many lines from the end of the log."),
    "timestamps": ("boolean", "Prefix each log line with its timestamp."),
}

_LIST = ["allowWatchBookmarks", "continue", "fieldSelector", "labelSelector",
         "limit", "resourceVersion", "resourceVersionMatch",
         "sendInitialEvents", "timeoutSeconds", "watch"]
_WRITE = ["dryRun", "fieldManager", "fieldValidation"]
_DELETE = ["dryRun", "gracePeriodSeconds",
           "ignoreStoreReadErrorWithClusterBreakingPotential",
           "orphanDependents", "propagationPolicy"]
_DELETE_COLLECTION = _DELETE + [p for p in _LIST
                                if p not in ("allowWatchBookmarks", "watch")]
_EXEC = ["command", "container", "stderr", "stdin", "stdout", "tty"]
_LOG = ["container", "follow", "insecureSkipTLSVerifyBackend", "limitBytes",
        "previous", "sinceSeconds", "tailLines", "timestamps"]

_PATCH_TYPES = ["application/apply-patch+yaml", "application/json-patch+json",
                "application/merge-patch+json",
                "application/strategic-merge-patch+json"]
_RESPONSE_TYPES = ["application/json", "application/yaml",
                   "application/vnd.kubernetes.protobuf"]
_WATCH_TYPES = ["application/json;stream=watch",
                "application/vnd.kubernetes.protobuf;stream=watch"]


class _Operation:
    """One operation, written the same way into either document version."""

    def __init__(self, action: str, verb: str, kind: Kind, description: str,
                 gvk: tuple[str, str, str], params: list[str],
                 responses: dict[str, str | None], body: str | None = None,
                 watch: bool = False, suffix: str = ""):
        self.action = action
        self.verb = verb
        self.kind = kind
        self.description = description
        self.gvk = gvk
        self.params = params
        self.responses = responses  # code -> schema name (None: string)
        self.body = body
        self.watch = watch
        self.suffix = suffix


def kind_paths(kind: Kind, v3: bool) -> tuple[dict, set[str]]:
    """The path items of one kind, and the schema names they use."""
    collection, item, everywhere = _urls(kind)
    kind_gvk = (kind.group, kind.version, kind.kind)
    paths: dict[str, dict] = {}
    names: set[str] = set()

    def add(url: str, operations: list[_Operation], params: list[dict]):
        if not operations:
            return
        entry = {op.verb: _render(op, kind, url, v3, names) for op in operations}
        entry["parameters"] = params
        paths[url] = entry

    scope = _path_params(kind.namespaced, named=False, v3=v3)
    named = _path_params(kind.namespaced, named=True, v3=v3)
    add(collection, _collection_ops(kind, kind_gvk), scope)
    add(item, _item_ops(kind, kind_gvk), named)
    if kind.namespaced and "list" in kind.verbs:
        list_op = _list_op(kind, kind_gvk, all_namespaces=True)
        add(everywhere, [list_op], [_param("pretty", v3)])
    for sub in kind.subresources:
        add(f"{item}/{sub}", _subresource_ops(kind, kind_gvk, sub), named)
    return paths, names


def _urls(kind: Kind) -> tuple[str, str, str]:
    prefix = (f"/apis/{kind.group}/{kind.version}" if kind.group
              else f"/api/{kind.version}")
    everywhere = f"{prefix}/{kind.resource}"
    if kind.namespaced:
        collection = f"{prefix}/namespaces/{{namespace}}/{kind.resource}"
    else:
        collection = everywhere
    return collection, f"{collection}/{{name}}", everywhere


def _collection_ops(kind: Kind, gvk) -> list[_Operation]:
    ops = []
    if "list" in kind.verbs:
        ops.append(_list_op(kind, gvk, all_namespaces=False))
    if "create" in kind.verbs:
        ops.append(_Operation(
            "post", "post", kind, f"create a {kind.kind}", gvk, _WRITE,
            {"200": kind.kind, "201": kind.kind, "202": kind.kind},
            body=kind.kind))
    if "deletecollection" in kind.verbs:
        ops.append(_Operation(
            "deletecollection", "delete", kind,
            f"delete collection of {kind.kind}", gvk, _DELETE_COLLECTION,
            {"200": "Status"}, body="DeleteOptions", suffix="Collection"))
    return ops


def _list_op(kind: Kind, gvk, all_namespaces: bool) -> _Operation:
    return _Operation(
        "list", "get", kind, f"list or watch objects of kind {kind.kind}",
        gvk, _LIST, {"200": f"{kind.kind}List"}, watch=True,
        suffix="ForAllNamespaces" if all_namespaces else "")


def _item_ops(kind: Kind, gvk) -> list[_Operation]:
    ops = []
    if "get" in kind.verbs:
        ops.append(_Operation("get", "get", kind,
                              f"read the specified {kind.kind}", gvk, [],
                              {"200": kind.kind}))
    if "update" in kind.verbs:
        ops.append(_Operation("put", "put", kind,
                              f"replace the specified {kind.kind}", gvk,
                              _WRITE, {"200": kind.kind, "201": kind.kind},
                              body=kind.kind))
    if "patch" in kind.verbs:
        ops.append(_patch_op(kind, gvk, kind.kind, ""))
    if "delete" in kind.verbs:
        ops.append(_Operation("delete", "delete", kind,
                              f"delete a {kind.kind}", gvk, _DELETE,
                              {"200": "Status", "202": "Status"},
                              body="DeleteOptions"))
    return ops


def _patch_op(kind: Kind, gvk, schema: str, sub: str) -> _Operation:
    what = f"{sub} of the specified {kind.kind}" if sub else (
        f"the specified {kind.kind}")
    return _Operation("patch", "patch", kind, f"partially update {what}", gvk,
                      _WRITE + ["force"], {"200": schema, "201": schema},
                      body="Patch", suffix=sub.capitalize())


def _subresource_ops(kind: Kind, gvk, sub: str) -> list[_Operation]:
    title = sub.capitalize()
    if sub in ("status", "scale"):
        schema = kind.kind if sub == "status" else "Scale"
        sub_gvk = gvk if sub == "status" else ("autoscaling", "v1", "Scale")
        return [
            _Operation("get", "get", kind,
                       f"read {sub} of the specified {kind.kind}", sub_gvk, [],
                       {"200": schema}, suffix=title),
            _Operation("put", "put", kind,
                       f"replace {sub} of the specified {kind.kind}", sub_gvk,
                       _WRITE, {"200": schema, "201": schema}, body=schema,
                       suffix=title),
            _patch_op(kind, sub_gvk, schema, sub),
        ]
    if sub == "binding":
        binding = ("", "v1", "Binding")
        return [_Operation("post", "post", kind,
                           f"create binding of a {kind.kind}", binding, _WRITE,
                           {"200": "Binding", "201": "Binding",
                            "202": "Binding"},
                           body="Binding", suffix=title)]
    if sub == "finalize":
        return [_Operation("put", "put", kind,
                           f"replace finalize of the specified {kind.kind}", gvk,
                           _WRITE, {"200": kind.kind, "201": kind.kind},
                           body=kind.kind, suffix=title)]
    if sub == "log":
        return [_Operation("get", "get", kind,
                           f"read log of the specified {kind.kind}", gvk, _LOG,
                           {"200": None}, suffix=title)]
    if sub == "exec":
        # kube-apiserver's connect operations: a GET (the WebSocket upgrade)
        # and a POST (SPDY), both of PodExecOptions.
        options = ("", "v1", "PodExecOptions")
        return [_Operation("connect", verb, kind,
                           f"connect {verb.upper()} requests to exec of {kind.kind}",
                           options, _EXEC, {"200": None}, suffix=title)
                for verb in ("get", "post")]
    # TODO: pods/eviction is served but has no path here: the policy/v1
    # Eviction schema is not written yet (kubectl drain does not read it).
    return []


# Rendering an operation.

_VERB_WORDS = {"connect": "connect", "post": "create", "put": "replace", "get": "read",
               "list": "list", "patch": "patch", "delete": "delete",
               "deletecollection": "delete"}


def _operation_id(op: _Operation) -> str:
    group = op.kind.group.split(".")[0] or "core"
    scope = "Namespaced" if (op.kind.namespaced and
                             op.suffix != "ForAllNamespaces") else ""
    suffix = op.suffix
    collection = ""
    if suffix == "Collection":
        collection, suffix = "Collection", ""
    if op.action == "connect":
        collection = op.verb.capitalize()  # connectCoreV1PostNamespacedPodExec
    return (f"{_VERB_WORDS[op.action]}{group.capitalize()}"
            f"{op.kind.version.capitalize()}{collection}{scope}{op.kind.kind}"
            f"{suffix}")


def _tag(kind: Kind) -> str:
    group = kind.group.split(".")[0] or "core"
    return f"{group}_{kind.version}"


def _render(op: _Operation, kind: Kind, url: str, v3: bool,
            names: set[str]) -> dict:
    group, version, kind_name = op.gvk
    rendered: dict = {
        "tags": [_tag(kind)],
        "description": op.description,
        "operationId": _operation_id(op),
    }
    if op.params:
        rendered["parameters"] = [_param(p, v3) for p in op.params]
    if op.body:
        names.add(op.body)
        _render_body(rendered, op, v3)
    rendered["responses"] = _responses(op, v3, names)
    if not v3:
        rendered["consumes"] = _PATCH_TYPES if op.action == "patch" else ["*/*"]
        rendered["produces"] = ["*/*"] if op.action == "connect" else (
            _RESPONSE_TYPES + (_WATCH_TYPES if op.watch else []))
        rendered["schemes"] = ["https"]
    rendered["x-kubernetes-action"] = op.action
    rendered["x-kubernetes-group-version-kind"] = {
        "group": group, "kind": kind_name, "version": version}
    return rendered


def _render_body(rendered: dict, op: _Operation, v3: bool) -> None:
    schema = _schema_ref(op.body, v3)
    if not v3:
        rendered.setdefault("parameters", []).insert(
            0, {"name": "body", "in": "body", "required": op.body != "DeleteOptions",
                "schema": schema})
        return
    types = _PATCH_TYPES if op.action == "patch" else ["*/*"]
    rendered["requestBody"] = {
        "content": {t: {"schema": schema} for t in types},
        "required": op.body != "DeleteOptions",
    }


def _responses(op: _Operation, v3: bool, names: set[str]) -> dict:
    words = {"200": "OK", "201": "Created", "202": "Accepted"}
    responses = {}
    for code, schema_name in op.responses.items():
        if schema_name is None:
            schema = {"type": "string"}
        else:
            names.add(schema_name)
            schema = _schema_ref(schema_name, v3)
        if v3:
            types = _RESPONSE_TYPES + (_WATCH_TYPES if op.watch else [])
            if schema_name is None:
                types = ["*/*"]
            responses[code] = {
                "description": words[code],
                "content": {t: {"schema": schema} for t in types},
            }
        else:
            responses[code] = {"description": words[code], "schema": schema}
    responses["401"] = {"description": "Unauthorized"}
    return responses


def _schema_ref(name: str, v3: bool) -> dict:
    definition = ("io.k8s.apimachinery.pkg.apis.meta.v1.Patch" if name == "Patch"
                  else SCHEMAS[name].definition_name)
    if v3:
        return {"$ref": f"#/components/schemas/{definition}"}
    return {"$ref": f"#/definitions/{definition}"}


def _param(name: str, v3: bool, where: str = "query") -> dict:
    type_, description = _QUERY[name]
    param = {"name": name, "in": where, "description": description}
    if v3:
        param["schema"] = {"type": type_, "uniqueItems": True}
    else:
        param.update({"type": type_, "uniqueItems": True})
    return param


def _path_params(namespaced: bool, named: bool, v3: bool) -> list[dict]:
    params = []
    if named:
        params.append(_path_param("name", "the name of the object", v3))
    if namespaced:
        params.append(_path_param(
            "namespace", "the namespace the object lives in", v3))
    params.append(_param("pretty", v3))
    return params


def _path_param(name: str, description: str, v3: bool) -> dict:
    param = {"name": name, "in": "path", "required": True,
             "description": description}
    if v3:
        param["schema"] = {"type": "string", "uniqueItems": True}
    else:
        param.update({"type": "string", "uniqueItems": True})
    return param
