"""kctl logs: a container's log, streamed through the server from the node."""

from __future__ import annotations

import click

from kctl.errors import CommandError, UsageError
from kctl.options import connection_options, session
from kctl.resources import object_path

DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"

# kubectl's words for a line without a pod, or with more than a pod and a
# container.
USAGE = ("expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
         "POD or TYPE/NAME is a required argument for the logs command\n"
         "See 'kctl logs -h' for help and examples")

EXAMPLES = """
\b
Examples:
  kctl logs nginx
  kctl logs nginx -c sidecar --tail 20
  kctl logs -f pod/nginx --since 5m --timestamps
"""


@click.command(epilog=EXAMPLES)
@click.argument("args", nargs=-1, metavar="POD [CONTAINER]")
@click.option("-c", "--container", default="", help="The container's name.")
@click.option("-f", "--follow", is_flag=True, help="Keep streaming new lines.")
@click.option("--tail", default=-1, type=int, help="Only the last N lines.")
@click.option("-p", "--previous", is_flag=True,
              help="The log of the previous, terminated instance.")
@click.option("--timestamps", is_flag=True, help="Prefix each line with its time.")
@click.option("--since", default="", help="Only lines newer than this (5s, 2m, 3h).")
@click.option("--since-time", default="", help="Only lines after this RFC3339 time.")
@click.option("--limit-bytes", default=0, type=int, help="Stop after N bytes.")
@connection_options
def logs(args, container, follow, tail, previous, timestamps, since,
         since_time, limit_bytes):
    """Print the logs for a container in a pod."""
    s = session()
    if not 1 <= len(args) <= 2:
        raise CommandError(USAGE)
    name = _pod_name(args[0])
    container = container or (args[1] if len(args) == 2 else "")
    if since and since_time:
        raise UsageError("at most one of `sinceTime` or `sinceSeconds` may be "
                         "specified")
    pod_path = object_path(s.discovery.find("pods"), s.namespace, name)
    if not container:
        container = _default_container(s, pod_path)
    else:
        _check_container(s, pod_path, name, container)
    query = {"container": container, "follow": "true" if follow else None,
             "tailLines": tail if tail >= 0 else None,
             "previous": "true" if previous else None,
             "timestamps": "true" if timestamps else None,
             "sinceSeconds": _since_seconds(since) if since else None,
             "sinceTime": since_time or None,
             "limitBytes": limit_bytes or None}
    stream = s.client.stream("GET", pod_path + "/log", query, accept="*/*")
    try:
        out = getattr(s.out, "buffer", None)
        for chunk in stream.chunks():
            if out is not None:
                out.write(chunk)
                out.flush()
            else:
                s.out.write(chunk.decode("utf-8", "replace"))
    finally:
        stream.close()


def _pod_name(arg: str) -> str:
    kind, slash, name = arg.partition("/")
    if not slash:
        return arg
    if kind not in ("pod", "pods", "po"):
        raise UsageError(f"cannot get the logs of {kind}: only pods are supported")
    return name


def _default_container(s, pod_path: str) -> str:
    """As kubectl: the annotated default, else the first, said on stderr."""
    pod = s.client.get(pod_path)
    names = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    if len(names) <= 1:
        return names[0] if names else ""
    annotated = (pod["metadata"].get("annotations") or {}).get(DEFAULT_CONTAINER)
    chosen = annotated if annotated in names else names[0]
    s.warn(f'Defaulted container "{chosen}" out of: {", ".join(names)}')
    return chosen


def _check_container(s, pod_path: str, pod: str, container: str) -> None:
    """kubectl refuses a container the pod does not have before asking."""
    spec = s.client.get(pod_path).get("spec") or {}
    names = {c.get("name") for key in ("containers", "initContainers",
                                       "ephemeralContainers")
             for c in spec.get(key) or []}
    if container not in names:
        raise CommandError(f"container {container} is not valid for pod {pod}")


def _since_seconds(text: str) -> int:
    from kctl.config import parse_timeout

    try:
        seconds = parse_timeout(text)
    except ValueError:
        raise UsageError(f"invalid argument {text!r} for --since") from None
    return max(1, int(seconds + 0.999))
