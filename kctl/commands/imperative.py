"""kctl create namespace|configmap|secret generic|deployment|service clusterip,
and kctl run: objects built from flags, as kubectl builds them.

Each builder returns the object kubectl sends for the same command line
(checked against ``kubectl ... --dry-run=client -o json`` in the tests), so
the server stores the same thing whichever client made it.
"""

from __future__ import annotations

import base64
import os
import re

import click

from kctl.commands.create import (dry_run_option, print_result, validate_option,
                                  write_query)
from kctl.errors import CommandError
from kctl.options import connection_options, output_option, session

RESTART_POLICIES = ("Always", "OnFailure", "Never")


def _one_name(names: tuple[str, ...], command: str) -> str:
    if len(names) != 1:
        raise CommandError(f"exactly one NAME is required, got {len(names)}\n"
                           f"See 'kctl {command} -h' for help and examples")
    return names[0]


def _send(obj: dict, resource: str, kind_name: str, dry_run: str, validate: str,
          output: str, namespaced: bool = True, group: str = "") -> None:
    """POST ``obj`` (or only print it, for --dry-run=client)."""
    s = session()
    if output not in ("", "json", "yaml", "name"):
        raise CommandError(f'unable to match a printer suitable for the output '
                           f'format "{output}", allowed formats are: json,name,yaml')
    if namespaced and dry_run != "client":
        obj["metadata"]["namespace"] = s.namespace
    if dry_run == "client":
        if namespaced and s.overrides.namespace:
            obj["metadata"]["namespace"] = s.namespace
        print_result(s, output, obj, kind_name, "created", dry_run)
        return
    base = f"/apis/{group}" if group else "/api/v1"
    path = f"{base}/namespaces/{s.namespace}/{resource}" if namespaced else \
        f"{base}/{resource}"
    answer = s.client.request("POST", path, write_query(dry_run, validate),
                              body=obj).json()
    print_result(s, output, answer, kind_name, "created", dry_run)


def _write_options(func):
    for decorator in (connection_options, output_option("json|yaml|name"),
                      validate_option, dry_run_option):
        func = decorator(func)
    return func


def _source_options(func):
    """--from-literal, --from-file and --from-env-file: the data of a config
    map or a secret."""
    for decorator in (
            click.option("--from-env-file", "env_files", multiple=True,
                         metavar="PATH", help="KEY=VALUE lines of a file."),
            click.option("--from-file", "files", multiple=True,
                         metavar="[KEY=]PATH", help="A file (its name is the key "
                         "unless KEY= is given), or a directory's files."),
            click.option("--from-literal", "literals", multiple=True,
                         metavar="KEY=VALUE",
                         help="A key and its value (repeat for more).")):
        func = decorator(func)
    return func


_tcp_option = click.option("--tcp", multiple=True, metavar="PORT[:TARGET]",
                           help="A port and its target port (repeat for more).")


# --- builders ---

def _meta(name: str, labels: dict | None = None) -> dict:
    meta: dict = {"name": name, "creationTimestamp": None}
    if labels:
        meta["labels"] = labels
    return meta


def namespace_object(name: str) -> dict:
    return {"kind": "Namespace", "apiVersion": "v1", "metadata": _meta(name),
            "spec": {}, "status": {}}


def _key_value(text: str, what: str) -> tuple[str, str]:
    key, eq, value = text.partition("=")
    if not eq or not key:
        raise CommandError(f"invalid {what} source {text}, expected key=value")
    return key, value


def _env_file_pairs(path: str) -> list[tuple[str, str]]:
    """KEY=VALUE lines of an env file; blank lines and # comments skipped."""
    pairs = []
    for number, line in enumerate(_read(path).decode("utf-8", "replace")
                                  .splitlines(), 1):
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        if not eq:
            value = os.environ.get(key, "")
        if not re.fullmatch(r"[-._a-zA-Z][-._a-zA-Z0-9]*", key):
            raise CommandError(f'"{key}" is not a valid key name: a valid '
                               "environment variable name must consist of "
                               "alphabetic characters, digits, '_', '-', or '.', "
                               "and must not start with a digit")
        pairs.append((key, value))
    return pairs


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"error reading {path}: "
                           f"{(exc.strerror or str(exc)).lower()}") from None


def _file_sources(sources: tuple[str, ...]) -> list[tuple[str, bytes]]:
    """(key, content) of each --from-file: [KEY=]PATH, a directory's files."""
    found = []
    for source in sources:
        key, eq, path = source.partition("=")
        if not eq:
            key, path = "", source
        elif not key or not path:
            raise CommandError(f"key names or file paths cannot be empty: {source}")
        if os.path.isdir(path):
            if key:
                raise CommandError(f"cannot give a key name for a directory path "
                                   f"({source})")
            for entry in sorted(os.listdir(path)):
                full = os.path.join(path, entry)
                if os.path.isfile(full):
                    found.append((entry, _read(full)))
            continue
        found.append((key or os.path.basename(path), _read(path)))
    return found


def _check_key(key: str) -> None:
    if not re.fullmatch(r"[-._a-zA-Z0-9]+", key) or len(key) > 253:
        raise CommandError(f'"{key}" is not a valid key name for a ConfigMap or '
                           "Secret: a valid config key must consist of "
                           "alphanumeric characters, '-', '_' or '.' (e.g. "
                           "'key.name',  or 'KEY_NAME',  or 'key-name', regex used "
                           "for validation is '[-._a-zA-Z0-9]+')")


def configmap_object(name: str, literals=(), files=(), env_files=()) -> dict:
    data: dict = {}
    binary: dict = {}

    def add(key: str, value: bytes | str) -> None:
        _check_key(key)
        if key in data or key in binary:
            raise CommandError(f'cannot add key "{key}", another key by that name '
                               f'already exists in Data for ConfigMap "{name}"')
        if isinstance(value, bytes):
            try:
                data[key] = value.decode("utf-8")
            except UnicodeDecodeError:
                binary[key] = base64.b64encode(value).decode()
        else:
            data[key] = value

    for literal in literals:
        add(*_key_value(literal, "literal"))
    for key, content in _file_sources(files):
        add(key, content)
    for path in env_files:
        for key, value in _env_file_pairs(path):
            add(key, value)
    obj = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": _meta(name)}
    if data:
        obj["data"] = data
    if binary:
        obj["binaryData"] = binary
    return obj


def secret_object(name: str, literals=(), files=(), env_files=(),
                  secret_type: str = "") -> dict:
    data: dict = {}

    def add(key: str, value: bytes) -> None:
        _check_key(key)
        if key in data:
            raise CommandError(f'cannot add key {key}, another key by that name '
                               "already exists")
        data[key] = base64.b64encode(value).decode()

    for literal in literals:
        key, value = _key_value(literal, "literal")
        add(key, value.encode())
    for key, content in _file_sources(files):
        add(key, content)
    for path in env_files:
        for key, value in _env_file_pairs(path):
            add(key, value.encode())
    obj = {"kind": "Secret", "apiVersion": "v1", "metadata": _meta(name)}
    if data:
        obj["data"] = data
    if secret_type:
        obj["type"] = secret_type
    return obj


def container_name(image: str) -> str:
    """kubectl's container name for an image: the last path part without tag
    or digest; with "_" or "." in it, those become "-" and a random suffix
    keeps names made so apart."""
    base = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    if "_" in base or "." in base:
        base = base.replace("_", "-").replace(".", "-") + "-" + _suffix()
    return base


def _suffix() -> str:
    import random

    # The alphabet of Kubernetes' random name suffixes: no vowels, no 0/1/3.
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))


def deployment_object(name: str, images: tuple[str, ...], replicas: int,
                      port: int | None, command: tuple[str, ...]) -> dict:
    labels = {"app": name}
    containers = []
    for image in images:
        container: dict = {"name": container_name(image), "image": image}
        if command:
            container["command"] = list(command)
        if port is not None and port >= 0:
            container["ports"] = [{"containerPort": port}]
        container["resources"] = {}
        containers.append(container)
    return {
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": _meta(name, dict(labels)),
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"creationTimestamp": None,
                                           "labels": dict(labels)},
                              "spec": {"containers": containers}},
                 "strategy": {}},
        "status": {}}


def _port_number(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text):
        raise CommandError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    return int(text)


def service_object(name: str, tcp: tuple[str, ...], cluster_ip: str = "",
                   service_type: str = "ClusterIP", node_port: int = 0) -> dict:
    ports = []
    for spec in tcp:
        port_text, _, target_text = spec.partition(":")
        port = _port_number(port_text)
        target: int | str = port
        if target_text:
            target = int(target_text) if target_text.isdigit() else target_text
        entry = {"name": spec.replace(":", "-"), "protocol": "TCP", "port": port,
                 "targetPort": target}
        if node_port:
            entry["nodePort"] = node_port
        ports.append(entry)
    spec: dict = {"ports": ports, "selector": {"app": name}, "type": service_type}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return {"kind": "Service", "apiVersion": "v1",
            "metadata": _meta(name, {"app": name}), "spec": spec,
            "status": {"loadBalancer": {}}}


def pairs(text: str, what: str) -> dict:
    """``a=b,c=d`` as a map; kubectl's line for a part without "=" names
    ``what`` (label, selector)."""
    found = {}
    for part in filter(None, text.split(",")):
        key, eq, value = part.partition("=")
        if not eq or not key:
            raise CommandError(f"invalid {what} spec: {part}")
        found[key] = value
    return found


def pod_object(name: str, image: str, args: tuple[str, ...], command: bool,
               labels: str, env: tuple[str, ...], port: int | None,
               restart: str, pull_policy: str) -> dict:
    container: dict = {"name": name, "image": image}
    if args:
        container["command" if command else "args"] = list(args)
    if port is not None and port >= 0:
        container["ports"] = [{"containerPort": port}]
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in
                            (_key_value(e, "env") for e in env)]
    if pull_policy:
        container["imagePullPolicy"] = pull_policy
    container["resources"] = {}
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": _meta(name, pairs(labels, "label") if labels else {"run": name}),
            "spec": {"containers": [container], "restartPolicy": restart,
                     "dnsPolicy": "ClusterFirst"},
            "status": {}}


# --- commands ---

@click.command("namespace")
@click.argument("names", nargs=-1, metavar="NAME")
@_write_options
def create_namespace(names, dry_run, validate, output):
    """Create a namespace with the given name."""
    name = _one_name(names, "create namespace")
    _send(namespace_object(name), "namespaces", "namespace", dry_run, validate,
          output, namespaced=False)


@click.command("configmap")
@click.argument("names", nargs=-1, metavar="NAME")
@_source_options
@_write_options
def create_configmap(names, literals, files, env_files, dry_run, validate, output):
    """Create a config map from literals, files or env files."""
    name = _one_name(names, "create configmap")
    _send(configmap_object(name, literals, files, env_files), "configmaps",
          "configmap", dry_run, validate, output)


@click.group("secret")
def create_secret():
    """Create a secret."""


@create_secret.command("generic")
@click.argument("names", nargs=-1, metavar="NAME")
@_source_options
@click.option("--type", "secret_type", default="", help="The secret's type.")
@_write_options
def create_secret_generic(names, literals, files, env_files, secret_type, dry_run,
                          validate, output):
    """Create a secret from literals, files or env files."""
    name = _one_name(names, "create secret generic")
    _send(secret_object(name, literals, files, env_files, secret_type), "secrets",
          "secret", dry_run, validate, output)


@click.command("deployment")
@click.argument("names", nargs=-1, metavar="NAME [-- COMMAND [ARGS...]]")
@click.option("--image", "images", multiple=True, required=True,
              help="The image of a container (repeat for more containers).")
@click.option("-r", "--replicas", default=1, type=int, show_default=True,
              help="The number of pods.")
@click.option("--port", default=-1, type=int, help="The port the container "
              "exposes.")
@_write_options
def create_deployment(names, images, replicas, port, dry_run, validate, output):
    """Create a deployment with the given name."""
    name, command = _name_and_command(names, "create deployment")
    if len(images) > 1 and command:
        raise CommandError("cannot specify multiple --image options and command")
    _send(deployment_object(name, images, replicas, port, command), "deployments",
          "deployment.apps", dry_run, validate, output, group="apps/v1")


def _name_and_command(words: tuple[str, ...], command: str):
    # click hands over what follows "--" as more arguments.
    if not words:
        _one_name(words, command)
    return words[0], tuple(words[1:])


@click.group("service")
def create_service():
    """Create a service."""


@create_service.command("clusterip")
@click.argument("names", nargs=-1, metavar="NAME")
@_tcp_option
@click.option("--clusterip", "cluster_ip", default="",
              help='The cluster IP to ask for ("None" for a headless service).')
@_write_options
def create_service_clusterip(names, tcp, cluster_ip, dry_run, validate, output):
    """Create a ClusterIP service."""
    name = _one_name(names, "create service clusterip")
    _send(service_object(name, tcp, cluster_ip), "services", "service", dry_run,
          validate, output)


@create_service.command("nodeport")
@click.argument("names", nargs=-1, metavar="NAME")
@_tcp_option
@click.option("--node-port", default=0, type=int,
              help="The port on every node (default: one is allocated).")
@_write_options
def create_service_nodeport(names, tcp, node_port, dry_run, validate, output):
    """Create a NodePort service."""
    name = _one_name(names, "create service nodeport")
    _send(service_object(name, tcp, service_type="NodePort", node_port=node_port),
          "services", "service", dry_run, validate, output)


@create_service.command("loadbalancer")
@click.argument("names", nargs=-1, metavar="NAME")
@_tcp_option
@_write_options
def create_service_loadbalancer(names, tcp, dry_run, validate, output):
    """Create a LoadBalancer service."""
    name = _one_name(names, "create service loadbalancer")
    _send(service_object(name, tcp, service_type="LoadBalancer"), "services",
          "service", dry_run, validate, output)


@create_secret.command("tls")
@click.argument("names", nargs=-1, metavar="NAME")
@click.option("--cert", default="", help="The PEM certificate file.")
@click.option("--key", default="", help="The PEM private key file.")
@_write_options
def create_secret_tls(names, cert, key, dry_run, validate, output):
    """Create a TLS secret from a certificate and its key."""
    name = _one_name(names, "create secret tls")
    if not cert or not key:
        raise CommandError("key and cert must be specified")
    data = {"tls.crt": base64.b64encode(_read(cert)).decode(),
            "tls.key": base64.b64encode(_read(key)).decode()}
    obj = {"kind": "Secret", "apiVersion": "v1", "metadata": _meta(name),
           "data": data, "type": "kubernetes.io/tls"}
    _send(obj, "secrets", "secret", dry_run, validate, output)


DOCKER_HUB = "https://index.docker.io/v1/"


def docker_config(server: str, username: str, password: str, email: str) -> str:
    """A .dockerconfigjson as kubectl writes it (compact, its key order)."""
    import json

    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    entry = {"username": username, "password": password}
    if email:
        entry["email"] = email
    entry["auth"] = auth
    return json.dumps({"auths": {server: entry}}, separators=(",", ":"))


@create_secret.command("docker-registry")
@click.argument("names", nargs=-1, metavar="NAME")
@click.option("--docker-server", default=DOCKER_HUB, show_default=True,
              help="The registry.")
@click.option("--docker-username", default="", help="The registry user.")
@click.option("--docker-password", default="", help="The registry password.")
@click.option("--docker-email", default="", help="The user's email.")
@_write_options
def create_secret_docker_registry(names, docker_server, docker_username,
                                  docker_password, docker_email, dry_run,
                                  validate, output):
    """Create a secret for pulling images from a registry."""
    name = _one_name(names, "create secret docker-registry")
    if not docker_username or not docker_password:
        raise CommandError("either --from-file or the combination of "
                           "--docker-username, --docker-password and "
                           "--docker-server is required")
    config = docker_config(docker_server, docker_username, docker_password,
                           docker_email)
    obj = {"kind": "Secret", "apiVersion": "v1", "metadata": _meta(name),
           "data": {".dockerconfigjson": base64.b64encode(config.encode()).decode()},
           "type": "kubernetes.io/dockerconfigjson"}
    _send(obj, "secrets", "secret", dry_run, validate, output)


SUBCOMMANDS = {
    "namespace": create_namespace, "ns": create_namespace,
    "configmap": create_configmap, "cm": create_configmap,
    "secret": create_secret,
    "deployment": create_deployment, "deploy": create_deployment,
    "service": create_service, "svc": create_service,
}

RUN_EXAMPLES = """
\b
Examples:
  kctl run web --image=python:3 -- python3 -m http.server 8000
  kctl run once --image=busybox --restart=Never --command -- echo hello
"""


@click.command(epilog=RUN_EXAMPLES)
@click.argument("words", nargs=-1, metavar="NAME [-- ARGS...]")
@click.option("--image", required=True, help="The container's image.")
@click.option("--command", is_flag=True,
              help="The words after -- are the command, not its arguments.")
@click.option("-l", "--labels", default="", help="Labels (a=b,c=d); "
              "default run=NAME.")
@click.option("--env", multiple=True, metavar="KEY=VALUE",
              help="An environment variable (repeat for more).")
@click.option("--port", default=-1, type=int, help="The port the container "
              "exposes.")
@click.option("--restart", default="Always", help="Always, OnFailure or Never.")
@click.option("--image-pull-policy", default="", help="The image pull policy.")
@_write_options
def run(words, image, command, labels, env, port, restart, image_pull_policy,
        dry_run, validate, output):
    """Create and run a pod with one container."""
    name, args = _name_and_command(words, "run")
    if restart not in RESTART_POLICIES:
        raise CommandError(f"invalid restart policy: {restart}\n"
                           "See 'kctl run -h' for help and examples")
    obj = pod_object(name, image, args, command, labels, env, port, restart,
                     image_pull_policy)
    _send(obj, "pods", "pod", dry_run, validate, output)
