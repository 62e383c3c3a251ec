"""kctl rollout status|history|undo|restart|pause|resume: for Deployments.

Each reads what the deployment controller writes: the Deployment's status
and conditions, and the revision annotations of the ReplicaSets it owns.
Lines and exit codes are kubectl's.
"""

from __future__ import annotations

import copy
import math
import time

import click

from kctl import jsonio
from kctl.errors import CommandError, UsageError
from kctl.options import bool_flag, connection_options, resource_args, session
from kctl.resources import object_path, parse

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
CHANGE_CAUSE = "kubernetes.io/change-cause"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
# Annotations undo keeps from the Deployment instead of taking the
# ReplicaSet's (kubectl's annotationsToSkip).
OWN_ANNOTATIONS = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration", REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to"})

EXAMPLES = """
\b
Examples:
  kctl rollout status deployment/web
  kctl rollout history deployment/web --revision=2
  kctl rollout undo deployment/web --to-revision=1
  kctl rollout restart deployment/web
"""


@click.group(epilog=EXAMPLES)
@connection_options
def rollout():
    """Manage the rollout of a Deployment."""


def _deployments(s, args, verb: str) -> list[tuple[object, str]]:
    """(resource, name) of each Deployment the arguments name."""
    if not args:
        raise UsageError("required resource not specified")
    found = []
    for target in parse(list(args), s.discovery, verb=verb):
        resource = target.resource
        if not target.names:
            raise UsageError("resource(s) were provided, but no name was specified")
        if (resource.group, resource.kind) != ("apps", "Deployment"):
            raise CommandError(f"no {verb} has been implemented for "
                               f"{resource.kind}.{resource.group or 'core'}")
        found += [(resource, name) for name in target.names]
    return found


# status

def status_line(deployment: dict, revision: int = 0) -> tuple[str, bool]:
    """kubectl's DeploymentStatusViewer: the line to print, and whether done."""
    name = deployment["metadata"]["name"]
    if revision > 0:
        running = _revision(deployment)
        if running != revision:
            raise CommandError(f"desired revision ({revision}) is different from "
                               f"the running revision ({running})")
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    if deployment["metadata"].get("generation", 0) > status.get(
            "observedGeneration", 0):
        return "Waiting for deployment spec update to be observed...", False
    progressing = next((c for c in status.get("conditions") or []
                        if c.get("type") == "Progressing"), {})
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        raise CommandError(f'deployment "{name}" exceeded its progress deadline')
    replicas = spec.get("replicas")
    updated = status.get("updatedReplicas", 0)
    total = status.get("replicas", 0)
    available = status.get("availableReplicas", 0)
    waiting = f'Waiting for deployment "{name}" rollout to finish: '
    if replicas is not None and updated < replicas:
        return (f"{waiting}{updated} out of {replicas} new replicas have been "
                f"updated..."), False
    if total > updated:
        return f"{waiting}{total - updated} old replicas are pending termination...", \
            False
    if available < updated:
        return f"{waiting}{available} of {updated} updated replicas are available...", \
            False
    return f'deployment "{name}" successfully rolled out', True


@rollout.command(epilog="""
\b
Examples:
  kctl rollout status deployment/web
  kctl rollout status deployment/web --watch=false
  kctl rollout status deployment/web --timeout=2m
""")
@resource_args
@bool_flag("--watch", True, "Watch the status of the rollout until it's done.")
@click.option("-w", "watch_short", is_flag=True, hidden=True)
@click.option("--timeout", default="0s", show_default=True,
              help="How long to wait before giving up (0 waits forever).")
@click.option("--revision", default=0, type=int, show_default=True,
              help="Pin to a revision (0: the latest).")
@connection_options
def status(args, watch, watch_short, timeout, revision):
    """Show the status of the rollout, until it is done."""
    s = session()
    seconds = _duration(timeout, "--timeout")
    targets = _deployments(s, args, "status viewer")
    if len(targets) > 1:
        raise UsageError("rollout status is only supported on individual resources "
                         "and resource collections, but "
                         f"{len(targets)} resources were found")
    resource, name = targets[0]
    deadline = time.monotonic() + seconds if seconds else None
    _follow(s, resource, name, watch or watch_short, revision, deadline)


def _follow(s, resource, name, watch, revision, deadline) -> None:
    deployment = s.client.get(object_path(resource, s.namespace, name))
    while True:
        line, done = status_line(deployment, revision)
        s.print(line)
        if done or not watch:
            return
        deployment = _next_change(s, resource, name, deployment, deadline)


def _next_change(s, resource, name, deployment, deadline) -> dict:
    """The Deployment after its next change, as the watch reports it."""
    from kctl.client import APIError

    version = deployment["metadata"]["resourceVersion"]
    while True:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise CommandError("timed out waiting for the condition")
        query = {"watch": "true", "resourceVersion": version,
                 "fieldSelector": f"metadata.name={name}",
                 "allowWatchBookmarks": "true"}
        if remaining is not None:
            query["timeoutSeconds"] = str(max(1, math.ceil(remaining)))
        stream = s.client.stream("GET", object_path(resource, s.namespace), query)
        try:
            for raw in stream.lines():
                if not raw.strip():
                    continue
                event = jsonio.loads(raw)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        return s.client.get(object_path(resource, s.namespace, name))
                    raise APIError(obj.get("code", 500), obj)
                if kind == "DELETED":
                    raise CommandError("object has been deleted")
                version = obj["metadata"].get("resourceVersion", version)
                if kind in ("ADDED", "MODIFIED"):
                    return obj
        finally:
            stream.close()


# history

@rollout.command(epilog="""
\b
Examples:
  kctl rollout history deployment/web
  kctl rollout history deployment/web --revision=3
""")
@resource_args
@click.option("--revision", default=0, type=int,
              help="Show the pod template of this revision.")
@connection_options
def history(args, revision):
    """Show the revisions of a Deployment and what caused them."""
    s = session()
    for resource, name in _deployments(s, args, "history viewer"):
        deployment = s.client.get(object_path(resource, s.namespace, name))
        by_revision = _history(s, deployment)
        title = f"{resource.kind_name}/{name}"
        if revision:
            rs = by_revision.get(revision)
            if rs is None:
                raise CommandError("unable to find the specified revision")
            s.out.write(f"{title} with revision #{revision}\n"
                        + _template_text(rs) + "\n")
            continue
        s.out.write(f"{title} \n" + _history_table(by_revision) + "\n")


def _history(s, deployment: dict) -> dict[int, dict]:
    """The ReplicaSets this Deployment controls, by revision."""
    namespace = deployment["metadata"]["namespace"]
    listing = s.client.get(f"/apis/apps/v1/namespaces/{namespace}/replicasets")
    uid = deployment["metadata"]["uid"]
    found = {}
    for rs in listing.get("items") or []:
        refs = rs["metadata"].get("ownerReferences") or []
        if any(r.get("uid") == uid and r.get("controller") for r in refs):
            found[_revision(rs)] = rs
    return found


def _history_table(by_revision: dict[int, dict]) -> str:
    from kctl.tabwriter import align

    lines = ["REVISION\tCHANGE-CAUSE"]
    for number in sorted(by_revision):
        notes = by_revision[number]["metadata"].get("annotations") or {}
        lines.append(f"{number}\t{notes.get(CHANGE_CAUSE) or '<none>'}")
    return align("\n".join(lines)) + "\n"


def _template_text(rs: dict) -> str:
    """The revision's pod template as kubectl's history viewer prints it:
    describe's DescribePodTemplate, with the ReplicaSet's change-cause among
    the template's annotations, and raw tabs (kubectl does not align it)."""

    from kctl.describe import Writer
    from kctl.describe_workloads import pod_template

    template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
    cause = ((rs.get("metadata") or {}).get("annotations") or {}).get(CHANGE_CAUSE)
    if cause:
        meta = template.setdefault("metadata", {})
        meta["annotations"] = dict(meta.get("annotations") or {},
                                   **{CHANGE_CAUSE: cause})
    w = Writer()
    pod_template(w, template)
    return w.raw_text()


# undo

@rollout.command(epilog="""
\b
Examples:
  kctl rollout undo deployment/web
  kctl rollout undo deployment/web --to-revision=3
""")
@resource_args
@click.option("--to-revision", default=0, type=int, show_default=True,
              help="The revision to roll back to (0: the previous one).")
@connection_options
def undo(args, to_revision):
    """Roll back to a previous revision."""
    s = session()
    for resource, name in _deployments(s, args, "rollbacker"):
        path = object_path(resource, s.namespace, name)
        deployment = s.client.get(path)
        s.print(f"{resource.kind_name}/{name} "
                + _rollback(s, path, deployment, to_revision))


def _rollback(s, path: str, deployment: dict, to_revision: int) -> str:
    name = deployment["metadata"]["name"]
    if (deployment.get("spec") or {}).get("paused"):
        raise CommandError(f"you cannot rollback a paused deployment; resume it "
                           f"first with 'kubectl rollout resume deployment/{name}' "
                           f"and try again")
    rs = _revision_to_restore(_history(s, deployment), to_revision, name)
    template = copy.deepcopy(rs["spec"]["template"])
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    if _same_template(template, deployment["spec"]["template"]):
        return (f"skipped rollback (current template already matches revision "
                f"{_revision(rs)})")
    patch = [{"op": "replace", "path": "/spec/template", "value": template},
             {"op": "replace", "path": "/metadata/annotations",
              "value": _restored_annotations(deployment, rs)}]
    s.client.request("PATCH", path, body=patch,
                     content_type="application/json-patch+json")
    return "rolled back"


def _revision_to_restore(by_revision: dict[int, dict], to_revision: int,
                         name: str) -> dict:
    if to_revision > 0:
        if to_revision not in by_revision:
            raise CommandError(f"unable to find specified revision {to_revision} "
                               f"in history")
        return by_revision[to_revision]
    numbers = sorted(by_revision)
    if len(numbers) < 2:
        raise CommandError(f'no rollout history found for deployment "{name}"')
    return by_revision[numbers[-2]]


def _restored_annotations(deployment: dict, rs: dict) -> dict:
    current = deployment["metadata"].get("annotations") or {}
    restored = {k: v for k, v in current.items() if k in OWN_ANNOTATIONS}
    for key, value in (rs["metadata"].get("annotations") or {}).items():
        if key not in OWN_ANNOTATIONS:
            restored[key] = value
    return restored


def _same_template(a: dict, b: dict) -> bool:
    def clean(template):
        template = copy.deepcopy(template)
        meta = template.setdefault("metadata", {})
        (meta.get("labels") or {}).pop(HASH_LABEL, None)
        template["metadata"] = {k: v for k, v in meta.items() if v}
        return template
    return clean(a) == clean(b)


# restart

@rollout.command(epilog="""
\b
Examples:
  kctl rollout restart deployment/web
""")
@resource_args
@connection_options
def restart(args):
    """Restart a Deployment's pods by rolling out its template again."""
    s = session()
    for resource, name in _deployments(s, args, "restarter"):
        path = object_path(resource, s.namespace, name)
        deployment = s.client.get(path)
        if (deployment.get("spec") or {}).get("paused"):
            raise CommandError("can't restart paused deployment (run rollout "
                               "resume first)")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        stamp = stamp[:-2] + ":" + stamp[-2:]
        patch = {"spec": {"template": {"metadata": {"annotations": {
            RESTARTED_AT: stamp}}}}}
        s.client.request("PATCH", path, body=patch,
                         content_type="application/strategic-merge-patch+json")
        s.print(f"{resource.kind_name}/{name} restarted")


def _revision(obj: dict) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, 0))
    except ValueError:
        return 0


def _duration(text: str, flag: str) -> float:
    from kctl.config import parse_timeout

    try:
        return parse_timeout(text)
    except ValueError:
        raise UsageError(f"invalid argument {text!r} for {flag}") from None


# pause and resume

@rollout.command(epilog="""
\b
Examples:
  kctl rollout pause deployment/web
  kctl rollout pause deployments -l tier=web
""")
@resource_args
@click.option("-l", "--selector", default="", help="Pause the objects that match.")
@click.option("--all", "all_", is_flag=True, help="Pause every object of the type.")
@connection_options
def pause(args, selector, all_):
    """Stop a Deployment's rollout until it is resumed."""
    from kctl.commands.rollout_pause import set_paused

    set_paused(session(), args, selector, all_, True)


@rollout.command(epilog="""
\b
Examples:
  kctl rollout resume deployment/web
""")
@resource_args
@click.option("-l", "--selector", default="", help="Resume the objects that match.")
@connection_options
def resume(args, selector):
    """Let a paused Deployment's rollout go on."""
    from kctl.commands.rollout_pause import set_paused

    set_paused(session(), args, selector, False, False)
