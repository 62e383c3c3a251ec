"""kctl cordon, uncordon and drain: take a node out of scheduling, and empty it.

The words are kubectl's (k8s.io/kubectl/pkg/drain): which pods drain refuses
without --force, --ignore-daemonsets or --delete-emptydir-data, the warnings
for those it deletes anyway, and the lines it prints while it evicts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import quote

import click

from kctl.client import APIError, NotFound
from kctl.commands.create import dry_run_option, suffix
from kctl.errors import AlreadyReported, UsageError
from kctl.options import connection_options, session

STRATEGIC = "application/strategic-merge-patch+json"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"

DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
# kubectl's constant repeats "cannot delete", which its error prefix adds again.
UNMANAGED_FATAL = ("cannot delete Pods that declare no controller "
                   "(use --force to override)")
UNMANAGED_WARNING = "deleting Pods that declare no controller"

CORDON_EXAMPLES = """
\b
Examples:
  # Mark node "foo" as unschedulable
  kctl cordon foo
"""

UNCORDON_EXAMPLES = """
\b
Examples:
  # Mark node "foo" as schedulable
  kctl uncordon foo
"""

DRAIN_EXAMPLES = """
\b
Examples:
  # Drain node "foo", even if there are pods not managed by a controller
  kctl drain foo --force
  # As above, but give up after 5 minutes, with 15 seconds for each pod
  kctl drain foo --grace-period=15 --timeout=5m
  # Only show which pods would be evicted, asking the server
  kctl drain foo --dry-run=server
"""


def node_path(name: str) -> str:
    return f"/api/v1/nodes/{quote(name)}"


def pod_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{quote(namespace)}/pods/{quote(name)}"


def set_unschedulable(s, names: tuple[str, ...], selector: str, wanted: bool,
                      dry_run: str = "none") -> None:
    """Cordon (``wanted``) or uncordon each node, printing kubectl's line."""
    verb = "cordoned" if wanted else "uncordoned"
    for name in _node_names(s, names, selector):
        node = s.client.get(node_path(name))
        if bool((node.get("spec") or {}).get("unschedulable")) == wanted:
            s.print(f"node/{name} already {verb}{suffix(dry_run)}")
            continue
        if dry_run != "client":
            s.client.request("PATCH", node_path(name), _dry_run_query(dry_run),
                             body={"spec": {"unschedulable": True if wanted
                                            else None}},
                             content_type=STRATEGIC)
        s.print(f"node/{name} {verb}{suffix(dry_run)}")


def _dry_run_query(dry_run: str) -> dict | None:
    return {"dryRun": "All"} if dry_run == "server" else None


def _node_names(s, names: tuple[str, ...], selector: str) -> list[str]:
    if names:
        return list(names)
    if not selector:
        raise UsageError("at least one node name or --selector is required")
    items = s.client.get("/api/v1/nodes", {"labelSelector": selector})["items"]
    return [item["metadata"]["name"] for item in items]


@click.command(epilog=CORDON_EXAMPLES)
@click.argument("names", nargs=-1)
@click.option("-l", "--selector", default="", help="Cordon every node that matches.")
@dry_run_option
@connection_options
def cordon(names, selector, dry_run):
    """Mark node as unschedulable."""
    set_unschedulable(session(), names, selector, True, dry_run)


@click.command(epilog=UNCORDON_EXAMPLES)
@click.argument("names", nargs=-1)
@click.option("-l", "--selector", default="", help="Uncordon every node that matches.")
@dry_run_option
@connection_options
def uncordon(names, selector, dry_run):
    """Mark node as schedulable."""
    set_unschedulable(session(), names, selector, False, dry_run)


# -- drain ----------------------------------------------------------------------

@dataclass
class DrainOptions:
    force: bool = False
    ignore_daemonsets: bool = False
    delete_emptydir_data: bool = False
    grace_period: int = -1
    timeout: float = 0.0
    disable_eviction: bool = False
    dry_run: str = "none"


@dataclass
class PodList:
    """The pods of a node, sorted into kubectl's outcomes."""

    delete: list[dict] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def error_messages(self) -> list[str]:
        return [f"cannot delete {message}: {', '.join(pods)}"
                for message, pods in self.errors.items()]


def _controller(pod: dict) -> dict | None:
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def _finished(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def classify(s, pod: dict, options: DrainOptions) -> tuple[bool, str, str]:
    """(delete?, "warning" or "error" or "", message) for one pod, checked in
    kubectl's order: DaemonSet, mirror pod, local storage, no controller."""
    meta = pod["metadata"]
    ref = _controller(pod)
    if ref is not None and ref.get("kind") == "DaemonSet" and not _finished(pod):
        try:
            s.client.get(f"/apis/apps/v1/namespaces/{quote(meta['namespace'])}/"
                         f"daemonsets/{quote(ref.get('name', ''))}")
        except NotFound as err:
            if not options.force:
                return False, "error", str(err)
            return True, "", ""  # an orphan of a deleted DaemonSet
        else:
            if not options.ignore_daemonsets:
                return False, "error", DAEMONSET_FATAL
            return False, "warning", DAEMONSET_WARNING
    if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
        return False, "", ""
    if _finished(pod):
        return True, "", ""
    volumes = (pod.get("spec") or {}).get("volumes") or []
    if any("emptyDir" in volume for volume in volumes) \
            and not options.delete_emptydir_data:
        return False, "error", LOCAL_STORAGE_FATAL
    # kubectl keeps the status of the last filter a pod passes, so its "deleting
    # Pods with local storage" warning never shows; neither does it here.
    if ref is None:
        if not options.force:
            return False, "error", UNMANAGED_FATAL
        return True, "warning", UNMANAGED_WARNING
    return True, "", ""


def pods_for_deletion(s, node: str, options: DrainOptions) -> PodList:
    pods = s.client.get("/api/v1/pods", {"fieldSelector": f"spec.nodeName={node}"})
    result = PodList()
    for pod in pods.get("items") or []:
        delete, kind, message = classify(s, pod, options)
        name = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        if kind == "error":
            result.errors.setdefault(message, []).append(name)
            continue
        if kind == "warning":
            result.warnings.setdefault(message, []).append(name)
        if delete:
            result.delete.append(pod)
    return result


class DrainFailed(Exception):
    def __init__(self, messages: list[str]):
        super().__init__(messages[0] if len(messages) == 1
                         else "[" + ", ".join(messages) + "]")
        self.messages = messages


def drain_node(s, node: str, options: DrainOptions) -> None:
    pods = pods_for_deletion(s, node, options)
    if pods.errors:
        raise DrainFailed(pods.error_messages())
    for message, names in pods.warnings.items():
        s.warn(f"Warning: {message}: {', '.join(names)}")
    if options.dry_run == "client":
        for pod in pods.delete:
            meta = pod["metadata"]
            s.print(f"evicting pod {meta['namespace']}/{meta['name']} (dry run)")
        return

    deadline = time.monotonic() + options.timeout if options.timeout else None
    for pod in pods.delete:
        _remove(s, pod, options)
    if options.dry_run == "server":
        # Nothing goes away. kubectl 1.32 waits for it all the same after
        # --disable-eviction deletes, until --timeout; kctl does not.
        return
    _wait_gone(s, pods.delete, options, deadline)


def _remove(s, pod: dict, options: DrainOptions) -> None:
    meta = pod["metadata"]
    delete_options = {}
    if options.grace_period >= 0:
        delete_options["gracePeriodSeconds"] = options.grace_period
    if options.dry_run == "server":
        delete_options["dryRun"] = ["All"]
    path = pod_path(meta["namespace"], meta["name"])
    try:
        if options.disable_eviction:
            s.client.request("DELETE", path, body={
                "apiVersion": "v1", "kind": "DeleteOptions", **delete_options})
            return
        s.print(f"evicting pod {meta['namespace']}/{meta['name']}"
                f"{suffix(options.dry_run)}")
        # TODO: a 429 (a PodDisruptionBudget refusing) would be retried every 5 s
        # as kubectl does; the server serves no budgets, so evictions never wait.
        s.client.request("POST", path + "/eviction", body={
            "apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
            "deleteOptions": delete_options})
    except NotFound:
        pass


def _wait_gone(s, pods: list[dict], options: DrainOptions,
               deadline: float | None) -> None:
    verb = "deleted" if options.disable_eviction else "evicted"
    pending = list(pods)
    delay = 0.05
    while pending:
        for pod in list(pending):
            meta = pod["metadata"]
            try:
                current = s.client.get(pod_path(meta["namespace"], meta["name"]))
                gone = current["metadata"].get("uid") != meta.get("uid")
            except NotFound:
                gone = True
            if gone:
                s.print(f"pod/{meta['name']} {verb}")
                pending.remove(pod)
        if not pending:
            return
        if deadline is not None and time.monotonic() >= deadline:
            meta = pending[0]["metadata"]
            raise DrainFailed([
                f"error when waiting for pod \"{meta['name']}\" in namespace "
                f"\"{meta['namespace']}\" to terminate: global timeout reached: "
                f"{_duration(options.timeout)}"])
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def _duration(seconds: float) -> str:
    """Go's time.Duration text for whole and fractional seconds."""
    minutes, rest = divmod(seconds, 60)
    rest_text = f"{rest:g}s"
    return f"{int(minutes)}m{rest_text}" if minutes else rest_text


@click.command(epilog=DRAIN_EXAMPLES)
@click.argument("names", nargs=-1)
@click.option("-l", "--selector", default="", help="Drain every node that matches.")
@click.option("--force", is_flag=True,
              help="Also delete pods that declare no controller.")
@click.option("--ignore-daemonsets", is_flag=True,
              help="Ignore DaemonSet-managed pods.")
@click.option("--delete-emptydir-data", is_flag=True,
              help="Also delete pods using emptyDir (their data is lost).")
@click.option("--grace-period", default=-1, show_default=True, type=int,
              help="Seconds each pod gets to terminate; negative: the pod's own.")
@click.option("--timeout", default="0s", show_default=True,
              help="Give up after this long; 0 waits forever.")
@click.option("--disable-eviction", is_flag=True,
              help="Delete pods instead of evicting them (bypasses disruption "
                   "budgets).")
@dry_run_option
@connection_options
def drain(names, selector, force, ignore_daemonsets, delete_emptydir_data,
          grace_period, timeout, disable_eviction, dry_run):
    """Drain node in preparation for maintenance."""
    s = session()
    if not names and not selector:
        raise UsageError("USAGE: drain NODE [flags]")
    options = DrainOptions(force, ignore_daemonsets, delete_emptydir_data, grace_period,
                           _seconds(timeout), disable_eviction, dry_run)

    nodes = _node_names(s, names, selector)
    set_unschedulable(s, tuple(nodes), "", True, dry_run)
    failed: list[tuple[str, DrainFailed]] = []
    for node in nodes:
        try:
            drain_node(s, node, options)
            s.print(f"node/{node} drained{suffix(dry_run)}")
        except (DrainFailed, APIError) as err:
            s.warn(f"error: unable to drain node \"{node}\" due to error: {err}, "
                   f"continuing command...")
            failed.append((node, err))
    if failed:
        s.warn("There are pending nodes to be drained:")
        for node, _ in failed:
            s.warn(f" {node}")
        last = failed[-1][1]
        for message in getattr(last, "messages", [str(last)]):
            s.warn(message)
        raise AlreadyReported()


def _seconds(text: str) -> float:
    from kctl.config import parse_timeout

    try:
        return parse_timeout(text)
    except ValueError:
        raise UsageError(f"invalid argument {text!r} for --timeout") from None
