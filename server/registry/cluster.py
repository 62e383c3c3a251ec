"""The cluster-scoped kinds of core/v1: Namespace and Node."""

from __future__ import annotations

from server.errors import FieldError
from server.registry.base import Column, Kind, age_column, name_column
from server.registry.podspec import TAINT_EFFECTS, as_dict, as_list
from server.validation import (
    invalid,
    is_qualified_name,
    is_valid_label_value,
    name_is_dns_label,
    name_is_dns_subdomain,
    not_supported,
    parse_quantity,
    required,
    validate_object_meta,
    validate_object_meta_update,
)

# The label kube-apiserver keeps equal to a namespace's name.
LABEL_METADATA_NAME = "kubernetes.io/metadata.name"
FINALIZER_KUBERNETES = "kubernetes"
_STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")

NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
NODE_ROLE_LABEL = "kubernetes.io/role"

_ADDRESSES_DOC = (
    "List of addresses reachable to the node. Queried from cloud provider, if "
    "available. More info: "
    "https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This "
    "field is declared as mergeable, but the merge key is not sufficiently "
    "unique, which can cause data corruption when it is merged. Callers should "
    "instead use a full-replacement patch. See https://pr.k8s.io/79391 for an "
    "example. Consumers should assume that addresses can change during the "
    "lifetime of a Node. However, there are some exceptions where this may not "
    "be possible, such as Pods that inherit a Node's address in its own status "
    "or consumers of the downward API (status.hostIP)."
)


class NamespaceKind(Kind):
    kind = "Namespace"
    resource = "namespaces"
    singular = "namespace"
    short_names = ("ns",)
    namespaced = False
    # Namespaces are deleted one at a time: no deletecollection.
    verbs = ("create", "delete", "get", "list", "patch", "update", "watch")
    # finalize: the namespace controller's PUT of spec.finalizers alone.
    subresources = ("status", "finalize")
    selectable_fields = ("status.phase", "name")

    def prepare_create(self, obj: dict) -> None:
        obj["status"] = {"phase": "Active"}
        spec = obj.setdefault("spec", {})
        finalizers = as_list(spec.get("finalizers"))
        if FINALIZER_KUBERNETES not in finalizers:
            # Required on create only: it is removed over the namespace's life.
            spec["finalizers"] = finalizers + [FINALIZER_KUBERNETES]
        _label_with_name(obj)

    def prepare_update(self, obj: dict, old: dict) -> None:
        obj.setdefault("spec", {})["finalizers"] = as_dict(
            old.get("spec")).get("finalizers")
        obj["status"] = old.get("status")
        _label_with_name(obj)

    def prepare_status_update(self, obj: dict, old: dict) -> None:
        _label_with_name(obj)

    def validate(self, obj: dict) -> list[FieldError]:
        errs = validate_object_meta(obj, namespaced=False,
                                    name_validator=name_is_dns_label)
        for name in as_list(as_dict(obj.get("spec")).get("finalizers")):
            errs += _validate_kube_finalizer(name, "spec.finalizers")
        return errs

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        return validate_object_meta_update(obj, old)

    def validate_status_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        phase = as_dict(obj.get("status")).get("phase", "")
        # The path is "status.Phase" in kube-apiserver's message too.
        if not obj.get("metadata", {}).get("deletionTimestamp"):
            if phase != "Active":
                errs.append(FieldError(
                    "Invalid value", "status.Phase", phase,
                    "may only be 'Active' if `deletionTimestamp` is empty"))
        elif phase != "Terminating":
            errs.append(FieldError(
                "Invalid value", "status.Phase", phase,
                "may only be 'Terminating' if `deletionTimestamp` is not empty"))
        return errs

    def field_values(self, obj: dict) -> dict[str, str]:
        values = super().field_values(obj)
        values["status.phase"] = as_dict(obj.get("status")).get("phase", "")
        # "name" is the legacy alias kube-apiserver still accepts.
        values["name"] = values["metadata.name"]
        return values

    def columns(self) -> list[Column]:
        return [
            name_column(),
            Column("Status", lambda o: as_dict(o.get("status")).get("phase", ""),
                   description="The status of the namespace"),
            age_column(),
        ]


def _label_with_name(obj: dict) -> None:
    meta = obj.setdefault("metadata", {})
    if meta.get("name"):
        labels = meta.get("labels")
        if not isinstance(labels, dict):
            labels = meta["labels"] = {}
        labels[LABEL_METADATA_NAME] = meta["name"]


def _validate_kube_finalizer(name: str, path: str) -> list[FieldError]:
    errs = invalid(path, name, is_qualified_name(name))
    if "/" not in name and name not in _STANDARD_FINALIZERS:
        errs.append(FieldError(
            "Invalid value", path, name,
            "name is neither a standard finalizer name nor is it fully qualified"))
    return errs


class NodeKind(Kind):
    kind = "Node"
    resource = "nodes"
    singular = "node"
    short_names = ("no",)
    namespaced = False
    subresources = ("status",)
    selectable_fields = ("spec.unschedulable",)

    def prepare_create(self, obj: dict) -> None:
        # A kubelet registers its node with a status: it is kept on create.
        _default_allocatable(obj)

    def prepare_update(self, obj: dict, old: dict) -> None:
        _default_allocatable(obj)

    def prepare_status_update(self, obj: dict, old: dict) -> None:
        _default_allocatable(obj)

    def validate(self, obj: dict) -> list[FieldError]:
        errs = validate_object_meta(obj, namespaced=False,
                                    name_validator=name_is_dns_subdomain)
        errs += _validate_taints(obj)
        errs += _validate_node_resources(obj)
        return errs

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        errs += _validate_node_resources(obj)
        errs += _validate_unique_addresses(obj)
        errs += _validate_spec_update(obj, old)
        errs += _validate_taints(obj)
        return errs

    def validate_status_update(self, obj: dict, old: dict) -> list[FieldError]:
        return self.validate_update(obj, old)

    def field_values(self, obj: dict) -> dict[str, str]:
        values = super().field_values(obj)
        unschedulable = as_dict(obj.get("spec")).get("unschedulable") is True
        values["spec.unschedulable"] = "true" if unschedulable else "false"
        return values

    def columns(self) -> list[Column]:
        info = _node_info
        return [
            name_column(),
            Column("Status", node_status, description="The status of the node"),
            Column("Roles", node_roles, description="The roles of the node"),
            age_column(),
            Column("Version", lambda o: info(o).get("kubeletVersion", ""),
                   description="Kubelet Version reported by the node."),
            Column("Internal-IP", lambda o: _node_address(o, "InternalIP"),
                   priority=1, description=_ADDRESSES_DOC),
            Column("External-IP", lambda o: _node_address(o, "ExternalIP"),
                   priority=1, description=_ADDRESSES_DOC),
            Column("OS-Image", lambda o: _or_unknown(info(o).get("osImage")),
                   priority=1,
                   description="OS Image reported by the node from "
                   "/etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
            Column("Kernel-Version",
                   lambda o: _or_unknown(info(o).get("kernelVersion")), priority=1,
                   description="Kernel Version reported by the node from "
                   "'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
            Column("Container-Runtime",
                   lambda o: _or_unknown(info(o).get("containerRuntimeVersion")),
                   priority=1,
                   description="ContainerRuntime Version reported by the node "
                   "through runtime remote API (e.g. containerd://1.4.2)."),
        ]


def _default_allocatable(obj: dict) -> None:
    # SetDefaults_NodeStatus: allocatable defaults to capacity.
    status = obj.get("status")
    if isinstance(status, dict) and status.get("allocatable") is None \
            and isinstance(status.get("capacity"), dict):
        status["allocatable"] = dict(status["capacity"])


def _validate_taints(obj: dict) -> list[FieldError]:
    # kube-apiserver reports taints under "metadata.taints"; so do we.
    errs: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(as_list(as_dict(obj.get("spec")).get("taints"))):
        taint = as_dict(taint)
        path = f"metadata.taints[{i}]"
        key, value, effect = (taint.get("key", ""), taint.get("value", ""),
                              taint.get("effect", ""))
        errs += invalid(f"{path}.key", key, is_qualified_name(key))
        messages = is_valid_label_value(value)
        if messages:
            errs.append(FieldError("Invalid value", f"{path}.value", value,
                                   ";".join(messages)))
        if not effect:
            errs.append(required(f"{path}.effect"))
        elif effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{path}.effect", effect, TAINT_EFFECTS))
        if (key, effect) in seen:
            errs.append(FieldError("Duplicate value", path, taint,
                                   "taints must be unique by key and effect pair"))
        seen.add((key, effect))
    return errs


def _validate_node_resources(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    status = as_dict(obj.get("status"))
    for field in ("capacity", "allocatable"):
        for name, value in as_dict(status.get(field)).items():
            try:
                negative = parse_quantity(value) < 0
            except ValueError:
                negative = False
            if negative:
                errs.append(FieldError("Invalid value", f"status.{field}.{name}",
                                       str(value),
                                       "must be greater than or equal to 0"))
    return errs


def _validate_unique_addresses(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: list[dict] = []
    addresses = as_list(as_dict(obj.get("status")).get("addresses"))
    for i, address in enumerate(addresses):
        if address in seen:
            errs.append(FieldError("Duplicate value", f"status.addresses[{i}]",
                                   address))
        seen.append(address)
    return errs


def _validate_spec_update(obj: dict, old: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    spec, old_spec = as_dict(obj.get("spec")), as_dict(old.get("spec"))
    old_cidrs = as_list(old_spec.get("podCIDRs"))
    if old_cidrs and old_cidrs != as_list(spec.get("podCIDRs")):
        errs.append(FieldError("Forbidden", "spec.podCIDRs", None,
                               'may not change podCIDR except from "" to valid'))
    old_provider = old_spec.get("providerID", "")
    if old_provider and old_provider != spec.get("providerID", ""):
        errs.append(FieldError("Forbidden", "spec.providerID", None,
                               "may not update providerID once set"))
    return errs


def _node_info(obj: dict) -> dict:
    return as_dict(as_dict(obj.get("status")).get("nodeInfo"))


def _or_unknown(text: object) -> str:
    return text if isinstance(text, str) and text else "<unknown>"


def node_status(obj: dict) -> str:
    """Ready / NotReady / Unknown, plus ",SchedulingDisabled" when cordoned."""
    conditions = as_list(as_dict(obj.get("status")).get("conditions"))
    ready = [c for c in conditions if as_dict(c).get("type") == "Ready"]
    if ready:
        status = ["Ready" if ready[-1].get("status") == "True" else "NotReady"]
    else:
        status = ["Unknown"]
    if as_dict(obj.get("spec")).get("unschedulable") is True:
        status.append("SchedulingDisabled")
    return ",".join(status)


def node_roles(obj: dict) -> str:
    """The roles from node-role.kubernetes.io/<role> and kubernetes.io/role."""
    roles = set()
    for key, value in as_dict(obj.get("metadata", {}).get("labels")).items():
        if key.startswith(NODE_ROLE_PREFIX) and key[len(NODE_ROLE_PREFIX):]:
            roles.add(key[len(NODE_ROLE_PREFIX):])
        elif key == NODE_ROLE_LABEL and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(obj: dict, kind: str) -> str:
    for address in as_list(as_dict(obj.get("status")).get("addresses")):
        if as_dict(address).get("type") == kind:
            return address.get("address", "")
    return "<none>"
