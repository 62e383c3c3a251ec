"""The kinds of the apps/v1 group: Deployments and ReplicaSets.

Defaults follow pkg/apis/apps/v1/defaults.go, the update rules the REST
strategies in pkg/registry/apps, the columns kube-apiserver's printers.
Validation lives in :mod:`server.registry.apps_validation`.
"""

from __future__ import annotations

from server.errors import FieldError
from server.registry.apps_validation import (
    validate_deployment_spec,
    validate_deployment_status,
    validate_replica_set_spec,
    validate_replica_set_status,
    validate_selector_unchanged,
)
from server.registry.base import Column, Kind, age_column, name_column
from server.registry.podspec import as_dict, as_list, check_quantities, default_pod_spec
from server.registry.printing import (
    CONTAINER_IMAGES_DOC,
    CONTAINER_NAMES_DOC,
    container_cells,
)
from server.selectors import label_selector_from_dict
from server.validation import (
    name_is_dns_subdomain,
    validate_object_meta,
    validate_object_meta_update,
)

# The column descriptions are the extensions/v1beta1 field docs, which the
# printers of kube-apiserver still cite.
_SELECTOR_DOC = {
    "Deployment": "Label selector for pods. Existing ReplicaSets whose pods are "
    "selected by this will be the ones affected by this deployment.",
    "ReplicaSet": "Selector is a label query over pods that should match the "
    "replica count. If the selector is empty, it is defaulted to the labels "
    "present on the pod template. Label keys and values that must match in order "
    "to be controlled by this replica set. More info: https://kubernetes.io/docs/"
    "concepts/overview/working-with-objects/labels/#label-selectors",
}
_UPDATED_DOC = ("Total number of non-terminated pods targeted by this deployment "
                "that have the desired template spec.")
_AVAILABLE_DOC = ("Total number of available pods (ready for at least "
                  "minReadySeconds) targeted by this deployment.")
_DESIRED_DOC = (
    "Replicas is the number of desired replicas. This is a pointer to distinguish "
    "between explicit zero and unspecified. Defaults to 1. More info: "
    "https://kubernetes.io/docs/concepts/workloads/controllers/"
    "replicationcontroller/#what-is-a-replicationcontroller"
)
_CURRENT_DOC = (
    "Replicas is the most recently observed number of replicas. More info: "
    "https://kubernetes.io/docs/concepts/workloads/controllers/"
    "replicationcontroller/#what-is-a-replicationcontroller"
)
_READY_DOC = ("readyReplicas is the number of pods targeted by this ReplicaSet "
              "with a Ready Condition.")


class _Workload(Kind):
    """What Deployments and ReplicaSets share: a selector over a pod template."""

    group = "apps"
    version = "v1"
    categories = ("all",)
    subresources = ("status", "scale")
    has_generation = True

    def prepare_create(self, obj: dict) -> None:
        self._default(obj)

    def prepare_update(self, obj: dict, old: dict) -> None:
        self._default(obj)

    def _default(self, obj: dict) -> None:
        spec = obj.setdefault("spec", {})
        template = spec.get("template")
        if isinstance(template, dict):
            template_spec = template.setdefault("spec", {})
            check_quantities(template_spec, self.kind)
            default_pod_spec(template_spec)
        if spec.get("replicas") is None:
            spec["replicas"] = 1

    def validate(self, obj: dict) -> list[FieldError]:
        errs = validate_object_meta(obj, namespaced=True,
                                    name_validator=name_is_dns_subdomain)
        return errs + self.validate_spec(as_dict(obj.get("spec")))

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        errs += self.validate_spec(as_dict(obj.get("spec")))
        return errs + validate_selector_unchanged(obj, old)

    def validate_spec(self, spec: dict) -> list[FieldError]:
        raise NotImplementedError

    def _wide_columns(self) -> list[Column]:
        return [
            Column("Containers", lambda o: container_cells(_containers(o))[0],
                   priority=1, description=CONTAINER_NAMES_DOC),
            Column("Images", lambda o: container_cells(_containers(o))[1],
                   priority=1, description=CONTAINER_IMAGES_DOC),
            Column("Selector", selector_cell, priority=1,
                   description=_SELECTOR_DOC[self.kind]),
        ]


class DeploymentKind(_Workload):
    kind = "Deployment"
    resource = "deployments"
    singular = "deployment"
    short_names = ("deploy",)
    status_metadata = ("annotations",)

    def prepare_create(self, obj: dict) -> None:
        super().prepare_create(obj)
        obj["status"] = {}

    def prepare_update(self, obj: dict, old: dict) -> None:
        super().prepare_update(obj, old)
        # The deployment strategy counts an annotation change as a new
        # generation too: rollbacks and pauses used to travel in annotations.
        meta, old_meta = obj["metadata"], old["metadata"]
        if meta.get("annotations") != old_meta.get("annotations"):
            meta["generation"] = old_meta.get("generation", 0) + 1

    def _default(self, obj: dict) -> None:
        super()._default(obj)
        default_deployment(obj["spec"])

    def validate_spec(self, spec: dict) -> list[FieldError]:
        return validate_deployment_spec(spec)

    def validate_status_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        status = as_dict(obj.get("status"))
        errs += validate_deployment_status(status)
        return errs + _collision_count_kept(status, as_dict(old.get("status")))

    def columns(self) -> list[Column]:
        return [
            name_column(),
            Column("Ready", ready_cell,
                   description="Number of the pod with ready state"),
            Column("Up-to-date", lambda o: _status(o).get("updatedReplicas", 0),
                   description=_UPDATED_DOC),
            Column("Available", lambda o: _status(o).get("availableReplicas", 0),
                   description=_AVAILABLE_DOC),
            age_column(),
            *self._wide_columns(),
        ]


class ReplicaSetKind(_Workload):
    kind = "ReplicaSet"
    resource = "replicasets"
    singular = "replicaset"
    short_names = ("rs",)
    status_metadata = ("labels", "annotations")
    selectable_fields = ("status.replicas",)

    def prepare_create(self, obj: dict) -> None:
        super().prepare_create(obj)
        obj["status"] = {"replicas": 0}

    def validate_spec(self, spec: dict) -> list[FieldError]:
        return validate_replica_set_spec(spec)

    def validate_status_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        return errs + validate_replica_set_status(as_dict(obj.get("status")))

    def field_values(self, obj: dict) -> dict[str, str]:
        values = super().field_values(obj)
        values["status.replicas"] = str(_status(obj).get("replicas", 0))
        return values

    def columns(self) -> list[Column]:
        return [
            name_column(),
            Column("Desired", lambda o: _spec(o).get("replicas", 0), type="integer",
                   description=_DESIRED_DOC),
            Column("Current", lambda o: _status(o).get("replicas", 0),
                   type="integer", description=_CURRENT_DOC),
            Column("Ready", lambda o: _status(o).get("readyReplicas", 0),
                   type="integer", description=_READY_DOC),
            age_column(),
            *self._wide_columns(),
        ]


def kinds() -> list[Kind]:
    return [DeploymentKind(), ReplicaSetKind()]


def default_deployment(spec: dict) -> None:
    """SetDefaults_Deployment, beyond the replicas every workload gets."""
    strategy = spec.get("strategy")
    if not isinstance(strategy, dict):
        strategy = spec["strategy"] = {}
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            rolling = strategy["rollingUpdate"] = {}
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
        for key in ("maxUnavailable", "maxSurge"):
            if rolling[key] is None:
                rolling[key] = "25%"
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600


def _collision_count_kept(status: dict, old_status: dict) -> list[FieldError]:
    old_count = old_status.get("collisionCount")
    count = status.get("collisionCount")
    if old_count is not None and (count is None or count < old_count):
        return [FieldError("Invalid value", "status.collisionCount", count or 0,
                           "cannot be decremented")]
    return []


# Table cells.

def _spec(obj: dict) -> dict:
    return as_dict(obj.get("spec"))


def _status(obj: dict) -> dict:
    return as_dict(obj.get("status"))


def _containers(obj: dict) -> list:
    template = as_dict(_spec(obj).get("template"))
    return as_list(as_dict(template.get("spec")).get("containers"))


def ready_cell(obj: dict) -> str:
    """printDeployment's READY: ready pods over desired ones."""
    return f"{_status(obj).get('readyReplicas', 0)}/{_spec(obj).get('replicas', 0)}"


def selector_cell(obj: dict) -> str:
    try:
        return str(label_selector_from_dict(_spec(obj).get("selector")))
    except ValueError:
        return "<invalid>"
