"""kctl logs: containers' logs, streamed through the server from the node.

Which pods and containers are read is in kctl.commands.logs_pods.
"""

from __future__ import annotations

import click

from kctl.commands import logs_pods
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
  kctl logs deployment/web --all-containers
  kctl logs -l app=web --prefix -f --max-log-requests 10
"""


@click.command(epilog=EXAMPLES)
@click.argument("args", nargs=-1, metavar="(POD | TYPE/NAME) [CONTAINER]")
@click.option("-c", "--container", default="", help="The container's name.")
@click.option("-f", "--follow", is_flag=True, help="Keep streaming new lines.")
@click.option("--tail", default=-1, type=int, help="Only the last N lines "
              "(default: all, or 10 with a selector).")
@click.option("-p", "--previous", is_flag=True,
              help="The log of the previous, terminated instance.")
@click.option("--timestamps", is_flag=True, help="Prefix each line with its time.")
@click.option("--since", default="", help="Only lines newer than this (5s, 2m, 3h).")
@click.option("--since-time", default="", help="Only lines after this RFC3339 time.")
@click.option("--limit-bytes", default=0, type=int, help="Stop after N bytes.")
@click.option("-l", "--selector", default="", help="The pods whose labels match.")
@click.option("--all-containers", is_flag=True,
              help="Every container of the pods, init containers first.")
@click.option("--prefix", is_flag=True,
              help="Begin each line with [pod/NAME/CONTAINER].")
@click.option("--max-log-requests", default=5, type=int, show_default=True,
              help="With -l and -f, at most this many logs at once.")
@connection_options
def logs(args, container, follow, tail, previous, timestamps, since,
         since_time, limit_bytes, selector, all_containers, prefix,
         max_log_requests):
    """Print the logs for a container in a pod."""
    s = session()
    if selector and args:
        raise CommandError("only a selector (-l) or a POD name is allowed\n"
                           "See 'kctl logs -h' for help and examples")
    if not selector and not 1 <= len(args) <= 2:
        raise CommandError(USAGE)
    if args and not args[0]:
        from kctl.resources import NO_RESOURCES

        raise CommandError(NO_RESOURCES)
    if since and since_time:
        raise UsageError("at most one of `sinceTime` or `sinceSeconds` may be "
                         "specified")
    container = container or (args[1] if len(args) == 2 else "")
    if selector and tail == -1:
        tail = 10  # kubectl's default for a selector
    query = {"follow": "true" if follow else None,
             "tailLines": tail if tail >= 0 else None,
             "previous": "true" if previous else None,
             "timestamps": "true" if timestamps else None,
             "sinceSeconds": _since_seconds(since) if since else None,
             "sinceTime": since_time or None,
             "limitBytes": limit_bytes or None}

    streams = _streams(s, args, selector, container, all_containers)
    if follow and len(streams) > max_log_requests:
        raise CommandError(
            f"you are attempting to follow {len(streams)} log streams, but maximum "
            f"allowed concurrency is {max_log_requests}, use --max-log-requests to "
            f"increase the limit")
    writer = LineWriter(s.out)
    if follow and len(streams) > 1:
        _follow_all(s, streams, query, prefix, writer)
        return
    for pod_path, pod, name in streams:
        _copy(s, pod_path, pod, name, query, prefix, writer)


def _streams(s, args, selector, container, all_containers):
    """(pod path, pod name, container) of each log to read, in kubectl's order."""
    pods_resource = s.discovery.find("pods")
    if selector:
        listing = s.client.get(object_path(pods_resource, s.namespace),
                               {"labelSelector": selector})
        pods = listing.get("items") or []
        if not pods:
            s.warn(f"No resources found in {s.namespace} namespace.")
    else:
        pods = [_named_pod(s, args[0], pods_resource)]
    streams = []
    for pod in pods:
        name = pod["metadata"]["name"]
        path = object_path(pods_resource, s.namespace, name)
        if all_containers:
            names = logs_pods.containers(pod, True)
        elif container:
            _check_container(pod, name, container)
            names = [container]
        else:
            names = [_default_container(s, pod)]
        streams += [(path, name, c) for c in names]
    return streams


def _named_pod(s, arg: str, pods_resource) -> dict:
    kind, slash, name = arg.partition("/")
    if not slash:
        return s.client.get(object_path(pods_resource, s.namespace, arg))
    resource = s.discovery.find(kind)
    if resource == pods_resource:
        return s.client.get(object_path(pods_resource, s.namespace, name))
    return logs_pods.pod_for_workload(s, resource, name)


def _copy(s, pod_path, pod, container, query, prefix, writer) -> None:
    stream = s.client.stream("GET", pod_path + "/log",
                             {**query, "container": container}, accept="*/*")
    tag = f"[pod/{pod}/{container}] ".encode() if prefix else b""
    try:
        for chunk in stream.chunks():
            writer.write(chunk, tag)
        writer.end(tag)
    finally:
        stream.close()


def _follow_all(s, streams, query, prefix, writer) -> None:
    """Several logs followed at once, as kubectl's parallel consumer: each in
    its own thread, whole lines written one at a time."""
    import threading

    failures = []

    def consume(stream):
        try:
            _copy(s, *stream, query, prefix, writer)
        except Exception as exc:  # reported once the others are done
            failures.append(exc)

    threads = [threading.Thread(target=consume, args=(stream,), daemon=True)
               for stream in streams]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


class LineWriter:
    """Writes log bytes to stdout; with a tag, line by line, each line tagged,
    under a lock so that followed logs do not interleave inside a line."""

    def __init__(self, out):
        import threading

        self._out = out
        self._binary = getattr(out, "buffer", None)
        self._lock = threading.Lock()
        self._partial: dict[bytes, bytes] = {}

    def write(self, chunk: bytes, tag: bytes) -> None:
        if tag:
            lines = (self._partial.pop(tag, b"") + chunk).split(b"\n")
            self._partial[tag] = lines.pop()
            chunk = b"".join(tag + line + b"\n" for line in lines)
        if chunk:
            self._emit(chunk)

    def end(self, tag: bytes) -> None:
        rest = self._partial.pop(tag, b"")
        if rest:
            self._emit(tag + rest)

    def _emit(self, data: bytes) -> None:
        with self._lock:
            if self._binary is not None:
                self._binary.write(data)
                self._binary.flush()
            else:
                self._out.write(data.decode("utf-8", "replace"))
                self._out.flush()


def _default_container(s, pod: dict) -> str:
    return default_container(s, pod)


def default_container(s, pod: dict, quiet: bool = False) -> str:
    """As kubectl's FindOrDefaultContainerByName: the annotated default when
    the pod has it, else the first container, said on stderr when the pod has
    more than one container of any sort."""
    spec = pod.get("spec") or {}
    names = [c.get("name", "") for c in spec.get("containers") or []]
    annotated = ((pod.get("metadata") or {}).get("annotations") or {}).get(
        DEFAULT_CONTAINER)
    if annotated:
        if annotated in names:
            return annotated
        if not quiet:
            s.warn(f'Default container name "{annotated}" not found in pod '
                   f'{pod["metadata"].get("name", "")}')
    if not names:
        return ""
    init = [c.get("name", "") for c in spec.get("initContainers") or []]
    ephemeral = [c.get("name", "") for c in spec.get("ephemeralContainers") or []]
    if (len(names) > 1 or init or ephemeral) and not quiet:
        listed = names + [f"{n} (init)" for n in init] + [
            f"{n} (ephem)" for n in ephemeral]
        s.warn(f'Defaulted container "{names[0]}" out of: {", ".join(listed)}')
    return names[0]


def _check_container(pod: dict, name: str, container: str) -> None:
    """kubectl refuses a container the pod does not have before asking."""
    if container not in logs_pods.containers(pod, True):
        raise CommandError(f"container {container} is not valid for pod {name}")


def _since_seconds(text: str) -> int:
    from kctl.config import parse_timeout

    try:
        seconds = parse_timeout(text)
    except ValueError:
        raise UsageError(f"invalid argument {text!r} for --since") from None
    return max(1, int(seconds + 0.999))
