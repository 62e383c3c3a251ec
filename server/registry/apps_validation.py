"""Validation of apps/v1 Deployments and ReplicaSets.

Follows ValidateDeploymentSpec, ValidateReplicaSetSpec and their helpers in
pkg/apis/apps/validation, with the messages kube-apiserver gives. Values that
are Go structs there (a LabelSelector, an IntOrString) are printed as
field.Error prints them: with ``%#v``.
"""

from __future__ import annotations

import re

from server.errors import FieldError
from server.registry.podspec import as_dict, as_list
from server.registry.workloads import validate_pod_template
from server.selectors import label_selector_from_dict
from server.validation import (
    FIELD_IMMUTABLE,
    forbidden,
    invalid,
    is_qualified_name,
    is_valid_label_value,
    not_supported,
    regex_error,
    required,
    validate_labels,
)

NONNEGATIVE = "must be greater than or equal to 0"
STRATEGY_TYPES = ("Recreate", "RollingUpdate")
_PERCENT_FMT = "[0-9]+%"
_PERCENT_RE = re.compile(r"^[0-9]+%$")
_PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%'"


# Go values as field.Error prints them.

class GoValue:
    """A value whose text in an error is Go's ``%#v`` of the original struct."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoValue) and other.text == self.text

    def __hash__(self) -> int:  # FieldError is a frozen dataclass
        return hash(self.text)


def _go_quote(text: object) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _go_strings(values: object) -> str:
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(_go_quote(v) for v in as_list(values)) + "}"


def go_string_map(labels: object) -> str:
    if not isinstance(labels, dict):
        return "map[string]string(nil)"
    items = ", ".join(f"{_go_quote(k)}:{_go_quote(labels[k])}" for k in sorted(labels))
    return "map[string]string{" + items + "}"


def go_label_selector(selector: dict) -> GoValue:
    """A metav1.LabelSelector as ``v1.LabelSelector{MatchLabels:..., ...}``."""
    expressions = selector.get("matchExpressions")
    if expressions is None:
        listed = "[]v1.LabelSelectorRequirement(nil)"
    else:
        listed = "[]v1.LabelSelectorRequirement{" + ", ".join(
            _go_requirement(as_dict(e)) for e in as_list(expressions)) + "}"
    return GoValue(f"v1.LabelSelector{{MatchLabels:{go_string_map(selector.get('matchLabels'))}, "
                   f"MatchExpressions:{listed}}}")


def _go_requirement(expr: dict) -> str:
    return (f"v1.LabelSelectorRequirement{{Key:{_go_quote(expr.get('key', ''))}, "
            f"Operator:{_go_quote(expr.get('operator', ''))}, "
            f"Values:{_go_strings(expr.get('values'))}}}")


def go_int_or_string(value: object) -> GoValue:
    """An intstr.IntOrString: Type 0 holds an int, Type 1 a string."""
    if isinstance(value, str):
        return GoValue(f'intstr.IntOrString{{Type:1, IntVal:0, StrVal:{_go_quote(value)}}}')
    number = value if isinstance(value, int) else 0
    return GoValue(f'intstr.IntOrString{{Type:0, IntVal:{number}, StrVal:""}}')


def _go_strategy(strategy: dict) -> GoValue:
    rolling = strategy.get("rollingUpdate")
    # A set pointer prints as its address in Go; any fixed text stands in.
    pointer = "nil" if rolling is None else "0xc000000000"
    return GoValue(f"apps.DeploymentStrategy{{Type:{_go_quote(strategy.get('type', ''))}, "
                   f"RollingUpdate:(*apps.RollingUpdateDeployment)({pointer})}}")


# Numbers.

def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def nonnegative(value: object, path: str) -> list[FieldError]:
    if _is_int(value) and value < 0:
        return [FieldError("Invalid value", path, value, NONNEGATIVE)]
    return []


def int_or_percent_value(value: object) -> int:
    """getIntOrPercentValue: the number of "25%" is 25; a bad string is 0."""
    if isinstance(value, str):
        return int(value[:-1]) if _PERCENT_RE.match(value) else 0
    return value if _is_int(value) else 0


# Label selectors.

def validate_label_selector(selector: dict, path: str) -> list[FieldError]:
    """ValidateLabelSelector, strict about the values (as apps kinds are)."""
    errs = validate_labels(selector.get("matchLabels"), f"{path}.matchLabels")
    for i, expr in enumerate(as_list(selector.get("matchExpressions"))):
        errs += _validate_requirement(as_dict(expr), f"{path}.matchExpressions[{i}]")
    return errs


def _validate_requirement(expr: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    operator = expr.get("operator", "")
    values = as_list(expr.get("values"))
    if operator in ("In", "NotIn"):
        if not values:
            errs.append(required(f"{path}.values", "must be specified when `operator` "
                                 "is 'In' or 'NotIn'"))
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            errs.append(forbidden(f"{path}.values", "may not be specified when "
                                  "`operator` is 'Exists' or 'DoesNotExist'"))
    else:
        errs.append(FieldError("Invalid value", f"{path}.operator", operator,
                               "not a valid selector operator"))
    key = expr.get("key", "")
    errs += invalid(f"{path}.key", key, is_qualified_name(str(key)))
    for i, value in enumerate(values):
        errs += invalid(f"{path}.values[{i}]", value, is_valid_label_value(str(value)))
    return errs


def _validate_selector_field(spec: dict, path: str) -> list[FieldError]:
    selector = spec.get("selector")
    if selector is None:
        return [required(f"{path}.selector")]
    selector = as_dict(selector)
    errs = validate_label_selector(selector, f"{path}.selector")
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        # kube-apiserver says "deployment" for replica sets too.
        errs.append(FieldError("Invalid value", f"{path}.selector",
                               go_label_selector(selector),
                               "empty selector is invalid for deployment"))
    return errs


# Templates.

def validate_template(spec: dict, path: str) -> list[FieldError]:
    """ValidatePodTemplateSpecForReplicaSet, after the selector is parsed."""
    try:
        selector = label_selector_from_dict(spec.get("selector"))
    except ValueError:
        return [FieldError("Invalid value", f"{path}.selector",
                           go_label_selector(as_dict(spec.get("selector"))),
                           "invalid label selector")]
    template = as_dict(spec.get("template"))
    template_path = f"{path}.template"
    labels = as_dict(template.get("metadata")).get("labels")
    errs: list[FieldError] = []
    # A missing selector selects nothing, so the labels never match it.
    if not selector.empty and not selector.matches(as_dict(labels)):
        errs.append(FieldError("Invalid value", f"{template_path}.metadata.labels",
                               GoValue(go_string_map(labels)),
                               "`selector` does not match template `labels`"))
    errs += validate_pod_template(template, template_path)
    pod_spec = as_dict(template.get("spec"))
    restart_policy = pod_spec.get("restartPolicy", "")
    if restart_policy != "Always":
        errs.append(not_supported(f"{template_path}.spec.restartPolicy",
                                  restart_policy, ["Always"]))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden(f"{template_path}.spec.activeDeadlineSeconds",
                              "activeDeadlineSeconds in ReplicaSet is not Supported"))
    return errs


# ReplicaSets.

def validate_replica_set_spec(spec: dict, path: str = "spec") -> list[FieldError]:
    errs = nonnegative(spec.get("replicas"), f"{path}.replicas")
    errs += nonnegative(spec.get("minReadySeconds"), f"{path}.minReadySeconds")
    errs += _validate_selector_field(spec, path)
    return errs + validate_template(spec, path)


def validate_replica_set_status(status: dict) -> list[FieldError]:
    return _validate_counts(status, ("replicas", "fullyLabeledReplicas",
                                     "readyReplicas", "availableReplicas",
                                     "observedGeneration"),
                            ("fullyLabeledReplicas", "readyReplicas",
                             "availableReplicas"))


def _validate_counts(status: dict, counts: tuple, bounded: tuple) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in counts:
        errs += nonnegative(status.get(key), f"status.{key}")
    replicas = _number(status.get("replicas"))
    for key in bounded:
        if _number(status.get(key)) > replicas:
            errs.append(FieldError("Invalid value", f"status.{key}", status[key],
                                   "cannot be greater than status.replicas"))
    if _number(status.get("availableReplicas")) > _number(status.get("readyReplicas")):
        errs.append(FieldError("Invalid value", "status.availableReplicas",
                               status["availableReplicas"],
                               "cannot be greater than readyReplicas"))
    return errs


def _number(value: object) -> int:
    return value if _is_int(value) else 0


def validate_selector_unchanged(new: dict, old: dict) -> list[FieldError]:
    """apps/v1 forbids changing the selector (the strategies' ValidateUpdate)."""
    selector = as_dict(new.get("spec")).get("selector")
    if _semantic(selector) == _semantic(as_dict(old.get("spec")).get("selector")):
        return []
    value = go_label_selector(selector) if isinstance(selector, dict) else None
    return [FieldError("Invalid value", "spec.selector", value, FIELD_IMMUTABLE)]


def _semantic(selector: object) -> object:
    # apiequality.Semantic treats empty and absent maps and lists alike.
    if not isinstance(selector, dict):
        return selector
    return {k: v for k, v in selector.items() if v}


# Deployments.

def validate_deployment_spec(spec: dict, path: str = "spec") -> list[FieldError]:
    errs = nonnegative(spec.get("replicas"), f"{path}.replicas")
    errs += _validate_selector_field(spec, path)
    errs += validate_template(spec, path)
    errs += validate_strategy(as_dict(spec.get("strategy")), f"{path}.strategy")
    min_ready = spec.get("minReadySeconds", 0)
    errs += nonnegative(min_ready, f"{path}.minReadySeconds")
    errs += nonnegative(spec.get("revisionHistoryLimit"),
                        f"{path}.revisionHistoryLimit")
    deadline = spec.get("progressDeadlineSeconds")
    if _is_int(deadline):
        errs += nonnegative(deadline, f"{path}.progressDeadlineSeconds")
        if deadline <= _number(min_ready):
            errs.append(FieldError("Invalid value", f"{path}.progressDeadlineSeconds",
                                   deadline, "must be greater than minReadySeconds"))
    return errs


def validate_strategy(strategy: dict, path: str) -> list[FieldError]:
    kind = strategy.get("type", "")
    rolling = strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            return [forbidden(f"{path}.rollingUpdate", "may not be specified when "
                              "strategy `type` is 'Recreate'")]
        return []
    if kind == "RollingUpdate":
        if rolling is None:
            return [required(f"{path}.rollingUpdate",
                             "this should be defaulted and never be nil")]
        return _validate_rolling_update(as_dict(rolling), f"{path}.rollingUpdate")
    return [not_supported(path, _go_strategy(strategy), STRATEGY_TYPES)]


def _validate_rolling_update(rolling: dict, path: str) -> list[FieldError]:
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    errs = _validate_int_or_percent(unavailable, f"{path}.maxUnavailable")
    errs += _validate_int_or_percent(surge, f"{path}.maxSurge")
    if int_or_percent_value(unavailable) == 0 and int_or_percent_value(surge) == 0:
        errs.append(FieldError("Invalid value", f"{path}.maxUnavailable",
                               go_int_or_string(unavailable),
                               "may not be 0 when `maxSurge` is 0"))
    if (isinstance(unavailable, str) and _PERCENT_RE.match(unavailable)
            and int(unavailable[:-1]) > 100):
        errs.append(FieldError("Invalid value", f"{path}.maxUnavailable",
                               go_int_or_string(unavailable),
                               "must not be greater than 100%"))
    return errs


def _validate_int_or_percent(value: object, path: str) -> list[FieldError]:
    """ValidatePositiveIntOrPercent."""
    if isinstance(value, str):
        if _PERCENT_RE.match(value):
            return []
        return [FieldError("Invalid value", path, go_int_or_string(value),
                           regex_error(_PERCENT_MSG, _PERCENT_FMT, "1%", "93%"))]
    return nonnegative(value, path)


def validate_deployment_status(status: dict) -> list[FieldError]:
    return _validate_counts(status, ("observedGeneration", "replicas",
                                     "updatedReplicas", "readyReplicas",
                                     "availableReplicas", "unavailableReplicas",
                                     "collisionCount"),
                            ("updatedReplicas", "readyReplicas", "availableReplicas"))
