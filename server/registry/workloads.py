"""ReplicationControllers: a selector, a replica count and a pod template."""

from __future__ import annotations

from server.errors import FieldError
from server.registry.base import Column, Kind, age_column, name_column
from server.registry.podspec import (
    as_dict,
    as_list,
    check_quantities,
    default_pod_spec,
    validate_pod_spec,
)
from server.registry.printing import (
    CONTAINER_IMAGES_DOC,
    CONTAINER_NAMES_DOC,
    container_cells,
    format_labels,
)
from server.validation import (
    GoStringMap,
    forbidden,
    name_is_dns_subdomain,
    not_supported,
    required,
    validate_annotations,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)

NONNEGATIVE = "must be greater than or equal to 0"

_DESIRED_DOC = (
    "Replicas is the number of desired replicas. This is a pointer to "
    "distinguish between explicit zero and unspecified. Defaults to 1. More "
    "info: https://kubernetes.io/docs/concepts/workloads/controllers/"
    "replicationcontroller#what-is-a-replicationcontroller"
)
_CURRENT_DOC = (
    "Replicas is the most recently observed number of replicas. More info: "
    "https://kubernetes.io/docs/concepts/workloads/controllers/"
    "replicationcontroller#what-is-a-replicationcontroller"
)
_READY_DOC = "The number of ready replicas for this replication controller."
_SELECTOR_DOC = (
    "Selector is a label query over pods that should match the Replicas count. "
    "If Selector is empty, it is defaulted to the labels present on the Pod "
    "template. Label keys and values that must match in order to be controlled "
    "by this replication controller, if empty defaulted to labels on Pod "
    "template. More info: https://kubernetes.io/docs/concepts/overview/"
    "working-with-objects/labels/#label-selectors"
)


class ReplicationControllerKind(Kind):
    kind = "ReplicationController"
    resource = "replicationcontrollers"
    singular = "replicationcontroller"
    short_names = ("rc",)
    categories = ("all",)
    subresources = ("status", "scale")
    has_generation = True
    selectable_fields = ("status.replicas",)

    def prepare_create(self, obj: dict) -> None:
        self._default(obj)
        obj["status"] = {"replicas": 0}

    def prepare_update(self, obj: dict, old: dict) -> None:
        self._default(obj)

    def _default(self, obj: dict) -> None:
        spec = obj.setdefault("spec", {})
        template = spec.get("template")
        if isinstance(template, dict):
            template_spec = template.setdefault("spec", {})
            check_quantities(template_spec, self.kind)
            default_pod_spec(template_spec)
        default_replication_controller(obj)

    def validate(self, obj: dict) -> list[FieldError]:
        errs = validate_object_meta(obj, namespaced=True,
                                    name_validator=name_is_dns_subdomain)
        return errs + validate_rc_spec(as_dict(obj.get("spec")))

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        return errs + validate_rc_spec(as_dict(obj.get("spec")))

    def validate_status_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        return errs + validate_rc_status(as_dict(obj.get("status")))

    def field_values(self, obj: dict) -> dict[str, str]:
        values = super().field_values(obj)
        values["status.replicas"] = str(as_dict(obj.get("status")).get("replicas", 0))
        return values

    def columns(self) -> list[Column]:
        spec, status = _spec, _status
        return [
            name_column(),
            Column("Desired", lambda o: spec(o).get("replicas", 0), type="integer",
                   description=_DESIRED_DOC),
            Column("Current", lambda o: status(o).get("replicas", 0),
                   type="integer", description=_CURRENT_DOC),
            Column("Ready", lambda o: status(o).get("readyReplicas", 0),
                   type="integer", description=_READY_DOC),
            age_column(),
            Column("Containers", lambda o: container_cells(_containers(o))[0],
                   priority=1, description=CONTAINER_NAMES_DOC),
            Column("Images", lambda o: container_cells(_containers(o))[1],
                   priority=1, description=CONTAINER_IMAGES_DOC),
            Column("Selector", lambda o: format_labels(spec(o).get("selector")),
                   priority=1, description=_SELECTOR_DOC),
        ]


def _spec(obj: dict) -> dict:
    return as_dict(obj.get("spec"))


def _status(obj: dict) -> dict:
    return as_dict(obj.get("status"))


def _containers(obj: dict) -> list:
    template = as_dict(_spec(obj).get("template"))
    return as_list(as_dict(template.get("spec")).get("containers"))


def default_replication_controller(obj: dict) -> None:
    """SetDefaults_ReplicationController: selector and labels from the template."""
    spec = obj.setdefault("spec", {})
    template = as_dict(spec.get("template"))
    labels = as_dict(template.get("metadata")).get("labels")
    if isinstance(labels, dict):
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = obj.setdefault("metadata", {})
        if not meta.get("labels"):
            meta["labels"] = dict(labels)
    if spec.get("replicas") is None:
        spec["replicas"] = 1


def validate_rc_spec(spec: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    errs += _nonnegative(spec.get("minReadySeconds", 0), "spec.minReadySeconds")
    selector = as_dict(spec.get("selector"))
    if not selector:
        errs.append(required("spec.selector"))
    errs += _nonnegative(spec.get("replicas", 0), "spec.replicas")
    errs += validate_template_for_rc(spec.get("template"), selector)
    return errs


def validate_template_for_rc(template: object, selector: dict) -> list[FieldError]:
    if not isinstance(template, dict):
        return [required("spec.template")]
    errs: list[FieldError] = []
    meta = as_dict(template.get("metadata"))
    labels = as_dict(meta.get("labels"))
    if selector and any(labels.get(k) != v for k, v in selector.items()):
        errs.append(FieldError("Invalid value", "spec.template.metadata.labels",
                               GoStringMap(labels),
                               "`selector` does not match template `labels`"))
    errs += validate_pod_template(template, "spec.template")
    pod_spec = as_dict(template.get("spec"))
    restart_policy = pod_spec.get("restartPolicy")
    if restart_policy and restart_policy != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy",
                                  restart_policy, ["Always"]))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in ReplicationController is not Supported"))
    return errs


def validate_pod_template(template: dict, path: str) -> list[FieldError]:
    """ValidatePodTemplateSpec: the template's labels, annotations and pod spec."""
    meta = as_dict(template.get("metadata"))
    # The template's metadata is embedded, so its path has no "metadata".
    errs = validate_labels(meta.get("labels"), f"{path}.labels")
    errs += validate_annotations(meta.get("annotations"), f"{path}.annotations")
    pod_spec = as_dict(template.get("spec"))
    errs += validate_pod_spec(pod_spec, f"{path}.spec")
    if as_list(pod_spec.get("ephemeralContainers")):
        errs.append(forbidden(f"{path}.spec.ephemeralContainers",
                              "ephemeral containers not allowed in pod template"))
    return errs


def validate_rc_status(status: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in ("replicas", "fullyLabeledReplicas", "readyReplicas",
                "availableReplicas", "observedGeneration"):
        errs += _nonnegative(status.get(key, 0), f"status.{key}")
    replicas = status.get("replicas", 0)
    for key in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
        if _number(status.get(key, 0)) > _number(replicas):
            errs.append(FieldError("Invalid value", f"status.{key}", status[key],
                                   "cannot be greater than status.replicas"))
    if _number(status.get("availableReplicas", 0)) > \
            _number(status.get("readyReplicas", 0)):
        errs.append(FieldError("Invalid value", "status.availableReplicas",
                               status["availableReplicas"],
                               "cannot be greater than readyReplicas"))
    return errs


def _number(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _nonnegative(value: object, path: str) -> list[FieldError]:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [FieldError("Invalid value", path, value, NONNEGATIVE)]
    return []
