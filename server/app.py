"""The API server as an aiohttp application: routes, middleware, lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

import orjson
from aiohttp import web

from server import bootstrap, discovery, handlers, objects
from server.auth import TokenAuthenticator
from server.cache import Cache
from server.events import expire_events
from server.errors import (APIError, BadRequest, InternalError, MethodNotAllowed,
                           NotFound)
from server.registry import RegistryOptions, default_registry
from server.resources import Resources
from server.request import API, YAML, wants_yaml
from server.store import open_store
from server.store.sqlite import ensure_data_dir
from server.streams import Streams

log = logging.getLogger(__name__)

# Paths anyone may read, as kube-apiserver's system:public-info-viewer role.
PUBLIC_PATHS = ("/livez", "/readyz", "/healthz", "/version")


@dataclass
class ServerOptions:
    data_dir: str
    address: str = "127.0.0.1"
    port: int = 8080
    token_file: str | None = None
    tls_cert_file: str | None = None
    tls_private_key_file: str | None = None
    service_cluster_ip_range: str = "10.0.0.0/24"
    service_node_port_range: str = "30000-32767"
    watch_bookmark_interval: float = 60.0
    keep_revisions: int = 1000
    keep_seconds: float = 300.0
    compact_interval: float = 30.0
    event_ttl: float = 3600.0


class APIServer:
    """The server's state: registry, store, cache and the verbs over them."""

    def __init__(self, options: ServerOptions):
        self.options = options
        self.registry = default_registry(
            RegistryOptions(options.service_cluster_ip_range,
                            options.service_node_port_range))
        self.db_path = ensure_data_dir(options.data_dir)
        self.store = open_store(
            "sqlite", path=self.db_path, keep_revisions=options.keep_revisions,
            keep_seconds=options.keep_seconds,
            compact_interval=options.compact_interval)
        self.cache = Cache(self.store, self.registry)
        self.resources = Resources(self.registry, self.store, self.cache)
        self.snapshots: OrderedDict = OrderedDict()
        self.documents: dict[str, bytes] = {}
        self.authenticator = (TokenAuthenticator.from_file(options.token_file)
                              if options.token_file else None)
        self.streams = Streams()
        self._tasks: set[asyncio.Task] = set()
        self.ready = False

    async def start(self) -> None:
        await self.store.start()
        await self.cache.start()
        services = self.registry.get("", "v1", "services")
        for entry in self.cache.resource(services).entries.values():
            services.restore(entry.object())
        await bootstrap.ensure_system_namespaces(self.resources)
        where = (self.options.address, self.options.port)
        await bootstrap.ensure_kubernetes_service(self.resources, *where)
        self._background(bootstrap.keep_kubernetes_service(self.resources, *where))
        self._background(expire_events(self.resources, self.options.event_ttl))
        self.ready = True

    def stop_watches(self) -> None:
        """The first step of a stop: watches, log follows and exec relays end,
        so that only the requests that do finish are left for aiohttp to wait
        for."""
        self.ready = False
        self.cache.close_watches()
        self.streams.close()

    async def stop(self) -> None:
        """The last step, once no handler runs: nothing waits on the cache."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.cache.stop()
        await self.store.close()
        log.info("store closed at revision %d", self.store.current_revision())

    def _background(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


@web.middleware
async def errors(request: web.Request, handler) -> web.StreamResponse:
    """Render every failure as a Kubernetes Status, in one place."""
    try:
        return await handler(request)
    except APIError as error:
        if error.code == 504:
            # A resourceVersion the cache did not reach in time: the client's
            # to retry, not the server's fault.
            log.warning("%s %s: %s", request.method, request.path, error.message)
        elif error.code >= 500:
            log.error("%s %s: %s", request.method, request.path, error.message)
        return _status_response(error)
    except web.HTTPNotFound:
        return _status_response(
            NotFound("the server could not find the requested resource"))
    except web.HTTPMethodNotAllowed:
        return _status_response(MethodNotAllowed(
            "the server does not allow this method on the requested resource"))
    except web.HTTPRequestEntityTooLarge:
        return _status_response(objects._too_large())
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except RecursionError:
        # Only a body nested deeper than the decoders recurse gets here (JSON,
        # YAML and patches all recurse); Go's decoders refuse such bodies too.
        log.warning("%s %s: body nested too deeply", request.method, request.path)
        return _status_response(BadRequest("the request body is nested too "
                                           "deeply to decode"))
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return _status_response(InternalError("an error on the server has "
                                              "prevented the request from "
                                              "succeeding"))


def _status_response(error: APIError) -> web.Response:
    response = web.Response(body=orjson.dumps(error.status()), status=error.code,
                            content_type="application/json")
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="kctl"'
    return response


@web.middleware
async def yaml_answers(request: web.Request, handler) -> web.StreamResponse:
    """A JSON answer re-encoded as YAML for a client that asks for YAML, as
    kube-apiserver's serializer writes it (sorted keys, go-yaml quoting).
    Watch streams stay JSON."""
    response = await handler(request)
    if (type(response) is web.Response
            and response.content_type == "application/json"
            and response.body and wants_yaml(request)):
        from kctl import yamlio

        text = yamlio.dump(orjson.loads(response.body))
        response.body = text.encode()
        response.content_type = YAML
    return response


@web.middleware
async def authenticate(request: web.Request, handler) -> web.StreamResponse:
    authenticator = request.app[API].authenticator
    if authenticator is not None and request.path not in PUBLIC_PATHS:
        request["user"] = authenticator.authenticate(
            request.headers.get("Authorization", ""))
    return await handler(request)


@web.middleware
async def trace(request: web.Request, handler) -> web.StreamResponse:
    response = await handler(request)
    log.debug("%s %s %d", request.method, request.path_qs, response.status)
    return response


def _json(body: dict | None) -> web.Response:
    if body is None:
        raise NotFound("the server could not find the requested resource")
    return web.Response(body=orjson.dumps(body), content_type="application/json")


async def version(request: web.Request) -> web.Response:
    return _json(discovery.version_info())


async def health(request: web.Request) -> web.Response:
    if not request.app[API].ready:
        return web.Response(text="not ready", status=503)
    return web.Response(text="ok")


async def api_versions(request: web.Request) -> web.Response:
    return _json(discovery.api_versions(request.host))


async def core_resources(request: web.Request) -> web.Response:
    return _json(discovery.api_resource_list(request.app[API].registry, "", "v1"))


async def api_groups(request: web.Request) -> web.Response:
    return _json(discovery.api_group_list(request.app[API].registry))


async def api_group(request: web.Request) -> web.Response:
    registry = request.app[API].registry
    return _json(discovery.api_group(registry, request.match_info["group"]))


async def group_resources(request: web.Request) -> web.Response:
    info = request.match_info
    return _json(discovery.api_resource_list(request.app[API].registry,
                                             info["group"], info["version"]))


def build_app(api: APIServer) -> web.Application:
    app = web.Application(middlewares=[yaml_answers, errors, authenticate, trace],
                          client_max_size=objects.MAX_BODY)
    app[API] = api
    add = app.router.add_route
    for path in ("/livez", "/readyz", "/healthz"):
        add("GET", path, health)
    # kube-apiserver answers these with a trailing slash too, and the Python
    # client asks for /version/.
    for path, handler in (("/version", version), ("/api", api_versions),
                          ("/api/v1", core_resources), ("/apis", api_groups),
                          ("/apis/{group}", api_group),
                          ("/apis/{group}/{version}", group_resources)):
        add("GET", path, handler)
        add("GET", path + "/", handler)
    add("*", "/api/v1/{path:.+}", handlers.core_resource)
    add("*", "/apis/{group}/{version}/{path:.+}", handlers.group_resource)
    _add_openapi(app)

    async def start(app: web.Application) -> None:
        await api.start()

    async def shutdown(app: web.Application) -> None:
        api.stop_watches()

    async def cleanup(app: web.Application) -> None:
        await api.stop()

    app.on_startup.append(start)
    app.on_shutdown.append(shutdown)
    app.on_cleanup.append(cleanup)
    return app


def _add_openapi(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/openapi/v2", openapi_v2)
    add("GET", "/openapi/v3", openapi_v3_index)
    add("GET", "/openapi/v3/{path:.+}", openapi_v3)


def _cached_json(request: web.Request, key: str, build) -> web.Response:
    """OpenAPI documents never change while the server runs: encode once."""
    cache = request.app[API].documents
    if key not in cache:
        cache[key] = orjson.dumps(build())
    return web.Response(body=cache[key], content_type="application/json")


async def openapi_v2(request: web.Request) -> web.Response:
    from server import openapi

    registry = request.app[API].registry
    if _wants_protobuf(request.headers.get("Accept", "")):
        from server import openapi_v2_proto

        return web.Response(body=openapi.openapi_v2_protobuf(registry),
                            headers={"Content-Type": openapi_v2_proto.CONTENT_TYPE})
    return _cached_json(request, "v2", lambda: openapi.openapi_v2(registry))


def _wants_protobuf(accept: str) -> bool:
    """kubectl asks for /openapi/v2 as gnostic protobuf and cannot read JSON."""
    from server.openapi_v2_proto import ACCEPTED_TYPES

    types = [part.split(";", 1)[0].strip() for part in accept.split(",")]
    return any(t in ACCEPTED_TYPES for t in types)


async def openapi_v3_index(request: web.Request) -> web.Response:
    from server import openapi

    registry = request.app[API].registry
    return _cached_json(request, "v3", lambda: openapi.openapi_v3_index(registry))


async def openapi_v3(request: web.Request) -> web.Response:
    from server import openapi

    registry = request.app[API].registry
    path = request.match_info["path"].split("/")
    if path == ["api", "v1"]:
        group, version = "", "v1"
    elif len(path) == 3 and path[0] == "apis":
        group, version = path[1], path[2]
    else:
        raise NotFound("the server could not find the requested resource")
    if version not in registry.group_versions().get(group, []):
        raise NotFound("the server could not find the requested resource")
    return _cached_json(
        request, "/".join(path),
        lambda: openapi.openapi_v3_document(registry, group, version))


