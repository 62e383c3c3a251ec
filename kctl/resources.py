"""Resource arguments as kubectl reads them, and paths to the objects they name.

``pods``, ``pod a b``, ``pods/a services/b``, ``pods,services``, ``all``,
``deployments.apps``: each becomes a :class:`Target`, a discovered resource
with the names asked for (none means all of them).
"""

from __future__ import annotations

from kctl.record import field, record

from kctl.client import resource_path
from kctl.discovery import Discovery, Resource
from kctl.errors import CommandError, UsageError

# kubectl's words when delete, edit, wait or patch get no object at all
# (k8s.io/cli-runtime resource.Builder); each example line is indented three.
NO_RESOURCES = (
    "You must provide one or more resources by argument or filename.\n"
    "Example resource specifications include:\n"
    "   '-f rsrc.yaml'\n"
    "   '--filename=rsrc.json'\n"
    "   '<resource> <name>'\n"
    "   '<resource>'")
# ... and when they get a selector (or delete's --all) without a type.
SELECTOR_WITHOUT_TYPE = "at least one resource must be specified to use a selector"


@record
class Target:
    resource: Resource
    names: list[str] = field(default_factory=list)


def parse(args: list[str], discovery: Discovery, verb: str = "get") -> list[Target]:
    if not args:
        raise CommandError(
            f"You must specify the type of resource to {verb}. Use \"kctl "
            f"api-resources\" for a complete list of supported resources.")
    if any(a == "" for a in args[1:]):
        # An empty name would address the whole collection: kubectl refuses
        # it before asking anything.
        raise CommandError("resource name may not be empty")
    if any("/" in a for a in args):
        return _slash_forms(args, discovery)
    types, names = args[0], args[1:]
    targets = []
    for text in types.split(","):
        if not text:
            continue
        for resource in _expand(text, discovery):
            targets.append(Target(resource, list(names)))
    return targets


def _slash_forms(args: list[str], discovery: Discovery) -> list[Target]:
    targets: list[Target] = []
    for arg in args:
        type_text, slash, name = arg.partition("/")
        if not slash:
            raise UsageError(
                "there is no need to specify a resource type as a separate "
                "argument when passing arguments in resource/name form (e.g. "
                "'kctl get resource/<resource_name>' instead of 'kctl get "
                "resource resource/<resource_name>'")
        if not name:
            raise UsageError(f"arguments in resource/name form must have a single "
                             f"resource and name: {arg!r}")
        resource = discovery.find(type_text)
        if targets and targets[-1].resource == resource:
            targets[-1].names.append(name)
        else:
            targets.append(Target(resource, [name]))
    return targets


def _expand(text: str, discovery: Discovery) -> list[Resource]:
    # "all" is a category the server marks on its resources; kubectl expands
    # it from discovery the same way.
    if text == "all":
        return discovery.category("all")
    return [discovery.find(text)]


def namespace_for(resource: Resource, namespace: str | None) -> str | None:
    return namespace if resource.namespaced else None


def object_path(resource: Resource, namespace: str | None, name: str | None = None,
                subresource: str | None = None) -> str:
    return resource_path(resource.group_version, resource.name,
                         namespace_for(resource, namespace), name, subresource)


def object_resource(obj: dict, discovery: Discovery) -> Resource:
    return discovery.by_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
