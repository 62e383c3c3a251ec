"""The pod spec: its defaults and validation, shared by pods and pod templates.

Defaults follow pkg/apis/core/v1/defaults.go (SetDefaults_PodSpec,
SetDefaults_Container, ...); what only a Pod gets (requests from limits,
enableServiceLinks, admission plugins) lives in :mod:`server.registry.pods`.
Validation follows ValidatePodSpec in pkg/apis/core/validation.
"""

from __future__ import annotations

from server.errors import BadRequest, FieldError
from server.quantity import canonical_quantity
from server.validation import (
    PROTOCOLS,
    forbidden,
    inclusive_range_error,
    invalid,
    is_dns1123_label,
    is_env_var_name,
    is_qualified_name,
    is_valid_label_value,
    name_is_dns_subdomain,
    not_supported,
    parse_quantity,
    required,
    validate_labels,
    validate_port_number,
)

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
MAX_INT32 = 2**31 - 1

# The volume sources of core/v1 VolumeSource: a volume names exactly one.
VOLUME_SOURCES = (
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore",
    "gitRepo", "secret", "nfs", "iscsi", "glusterfs", "persistentVolumeClaim",
    "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc",
    "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk",
    "photonPersistentDisk", "projected", "portworxVolume", "scaleIO",
    "storageos", "csi", "ephemeral", "image",
)
_DEFAULT_MODE_SOURCES = ("secret", "configMap", "downwardAPI", "projected")
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def as_list(value: object) -> list:
    return value if isinstance(value, list) else []


def as_dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def all_containers(spec: dict) -> list[dict]:
    """Init containers then app containers, the dicts themselves."""
    return [c for c in as_list(spec.get("initContainers")) + as_list(
        spec.get("containers")) if isinstance(c, dict)]


# Defaults.

def default_pod_spec(spec: dict) -> None:
    """SetDefaults_PodSpec and the defaults of everything inside a pod spec."""
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    if not spec.get("schedulerName"):
        spec["schedulerName"] = "default-scheduler"
    # The v1 field serviceAccount is a deprecated alias kept in step.
    if spec.get("serviceAccount") and not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    for container in all_containers(spec):
        default_container(container)
    for volume in as_list(spec.get("volumes")):
        if isinstance(volume, dict):
            _default_volume(volume)


def default_container(container: dict) -> None:
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = image_pull_policy(container.get("image", ""))
    if not container.get("terminationMessagePath"):
        container["terminationMessagePath"] = "/dev/termination-log"
    if not container.get("terminationMessagePolicy"):
        container["terminationMessagePolicy"] = "File"
    if container.get("resources") is None:
        container["resources"] = {}
    for port in as_list(container.get("ports")):
        if isinstance(port, dict) and not port.get("protocol"):
            port["protocol"] = "TCP"
    for env in as_list(container.get("env")):
        field_ref = as_dict(as_dict(env).get("valueFrom")).get("fieldRef")
        if isinstance(field_ref, dict) and not field_ref.get("apiVersion"):
            field_ref["apiVersion"] = "v1"
    for probe in (container.get(name) for name in _PROBES):
        if isinstance(probe, dict):
            _default_probe(probe)
    for handler in as_dict(container.get("lifecycle")).values():
        _default_http_get(as_dict(handler).get("httpGet"))


def image_pull_policy(image: str) -> str:
    """Always for ":latest" or no tag at all; a digest counts as a tag."""
    if not isinstance(image, str) or not _is_reference(image):
        # kube-apiserver ignores the parse error here; validation reports it.
        return "IfNotPresent"
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if not tag and not digest:
        tag = "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _is_reference(image: str) -> bool:
    # Enough of the docker reference grammar to tell a broken image apart:
    # no blanks, and a repository path in lower case (a registry host may not be).
    if not image or any(c.isspace() for c in image):
        return False
    name = image.partition("@")[0]
    first, _, rest = name.partition("/")
    has_host = rest and ("." in first or ":" in first or first == "localhost")
    repository = rest if has_host else name
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    return repository == repository.lower()


def _default_probe(probe: dict) -> None:
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    _default_http_get(probe.get("httpGet"))


def _default_http_get(action: object) -> None:
    if isinstance(action, dict):
        if not action.get("path"):
            action["path"] = "/"
        if not action.get("scheme"):
            action["scheme"] = "HTTP"


def _default_volume(volume: dict) -> None:
    # SetDefaults_Volume: a volume without a source is an emptyDir.
    if not any(volume.get(source) is not None for source in VOLUME_SOURCES):
        volume["emptyDir"] = {}
    for source in _DEFAULT_MODE_SOURCES:
        if isinstance(volume.get(source), dict):
            volume[source].setdefault("defaultMode", 420)
    if isinstance(volume.get("hostPath"), dict):
        volume["hostPath"].setdefault("type", "")


# Validation.

def validate_pod_spec(spec: dict, path: str = "spec") -> list[FieldError]:
    errs: list[FieldError] = []
    volumes = _validate_volumes(as_list(spec.get("volumes")), f"{path}.volumes")
    errs += volumes[1]
    errs += _validate_containers(spec, volumes[0], path)
    errs += _validate_enum(spec.get("restartPolicy"), f"{path}.restartPolicy",
                           RESTART_POLICIES)
    errs += _validate_enum(spec.get("dnsPolicy"), f"{path}.dnsPolicy",
                           DNS_POLICIES)
    errs += validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector")
    errs += _validate_names(spec, path)
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and not _int_in(deadline, 1, MAX_INT32):
        errs.append(FieldError("Invalid value", f"{path}.activeDeadlineSeconds",
                               deadline, inclusive_range_error(1, MAX_INT32)))
    errs += validate_tolerations(as_list(spec.get("tolerations")),
                                 f"{path}.tolerations")
    policy = spec.get("preemptionPolicy")
    if policy is not None:
        errs += _validate_enum(policy, f"{path}.preemptionPolicy",
                               ("Never", "PreemptLowerPriority"))
    return errs


def _int_in(value: object, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _validate_enum(value: object, path: str, values: tuple) -> list[FieldError]:
    if not value:
        return [required(path)]
    if value not in values:
        return [not_supported(path, value, values)]
    return []


def _validate_names(spec: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in ("serviceAccountName", "nodeName"):
        if spec.get(key):
            errs += invalid(f"{path}.{key}", spec[key],
                            name_is_dns_subdomain(spec[key]))
    for key in ("hostname", "subdomain"):
        if spec.get(key):
            errs += invalid(f"{path}.{key}", spec[key], is_dns1123_label(spec[key]))
    return errs


def _validate_volumes(volumes: list, path: str) -> tuple[set, list[FieldError]]:
    names: set[str] = set()
    errs: list[FieldError] = []
    for i, volume in enumerate(volumes):
        volume = as_dict(volume)
        name = volume.get("name", "")
        sources = [s for s in VOLUME_SOURCES if volume.get(s) is not None]
        if not sources:
            errs.append(required(f"{path}[{i}]", "must specify a volume type"))
        elif len(sources) > 1:
            errs.append(forbidden(f"{path}[{i}].{sources[1]}",
                                  "may not specify more than 1 volume type"))
        if not name:
            errs.append(required(f"{path}[{i}].name"))
        else:
            errs += invalid(f"{path}[{i}].name", name, is_dns1123_label(name))
        if name in names:
            errs.append(FieldError("Duplicate value", f"{path}[{i}].name", name))
        names.add(name)
    return names, errs


def _validate_containers(spec: dict, volumes: set, path: str) -> list[FieldError]:
    containers = as_list(spec.get("containers"))
    if not containers:
        return [required(f"{path}.containers")]
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, container in enumerate(containers):
        errs += _validate_container(as_dict(container), volumes,
                                    f"{path}.containers[{i}]", names)
        if as_dict(container).get("restartPolicy") is not None:
            errs.append(forbidden(f"{path}.containers[{i}].restartPolicy",
                                  "may not be set for non-init containers"))
    for i, container in enumerate(as_list(spec.get("initContainers"))):
        errs += _validate_container(as_dict(container), volumes,
                                    f"{path}.initContainers[{i}]", names)
        errs += _validate_init_only(as_dict(container),
                                    f"{path}.initContainers[{i}]")
    return errs


def _validate_container(container: dict, volumes: set, path: str,
                        names: set) -> list[FieldError]:
    """One container; ``names`` collects names across app and init containers."""
    errs: list[FieldError] = []
    name = container.get("name", "")
    if not name:
        errs.append(required(f"{path}.name"))
    else:
        errs += invalid(f"{path}.name", name, is_dns1123_label(name))
    errs += _validate_enum(container.get("imagePullPolicy"),
                           f"{path}.imagePullPolicy", PULL_POLICIES)
    errs += validate_container_ports(as_list(container.get("ports")),
                                     f"{path}.ports")
    errs += _validate_env(as_list(container.get("env")), f"{path}.env")
    errs += _validate_volume_mounts(as_list(container.get("volumeMounts")),
                                    volumes, f"{path}.volumeMounts")
    errs += validate_resources(as_dict(container.get("resources")),
                               f"{path}.resources")
    errs += _validate_termination_message_policy(
        container.get("terminationMessagePolicy"),
        f"{path}.terminationMessagePolicy")
    if name and name in names:
        errs.append(FieldError("Duplicate value", f"{path}.name", name))
    elif name:
        names.add(name)
    if not container.get("image"):
        errs.append(required(f"{path}.image"))
    return errs


def _validate_init_only(container: dict, path: str) -> list[FieldError]:
    policy = container.get("restartPolicy")
    if policy is not None:
        if policy != "Always":
            return [not_supported(f"{path}.restartPolicy", policy, ["Always"])]
        return []
    errs = []
    for key in ("lifecycle", "livenessProbe", "startupProbe"):
        if container.get(key) is not None:
            errs.append(forbidden(
                f"{path}.{key}",
                "may not be set for init containers without restartPolicy=Always"))
    if container.get("readinessProbe") is not None:
        errs.append(forbidden(f"{path}.readinessProbe",
                              "may not be set for init containers"))
    return errs


def _validate_termination_message_policy(policy: object, path: str) -> list[FieldError]:
    if not policy:
        return [required(path, "must be 'File' or 'FallbackToLogsOnError'")]
    if policy not in TERMINATION_MESSAGE_POLICIES:
        return [not_supported(path, policy, TERMINATION_MESSAGE_POLICIES)]
    return []


def validate_container_ports(ports: list, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        port = as_dict(port)
        at = f"{path}[{i}]"
        name = port.get("name", "")
        if name:
            messages = is_valid_port_name(name)
            errs += invalid(f"{at}.name", name, messages)
            if not messages and name in names:
                errs.append(FieldError("Duplicate value", f"{at}.name", name))
            names.add(name)
        if not port.get("containerPort"):
            errs.append(required(f"{at}.containerPort"))
        else:
            errs += validate_port_number(port["containerPort"], f"{at}.containerPort")
        if port.get("hostPort"):
            errs += validate_port_number(port["hostPort"], f"{at}.hostPort")
        errs += _validate_enum(port.get("protocol"), f"{at}.protocol", PROTOCOLS)
    return errs


def is_valid_port_name(name: str) -> list[str]:
    """An IANA_SVC_NAME, as validation.IsValidPortName checks it."""
    errs = []
    if len(name) > 15:
        errs.append("must be no more than 15 characters")
    if not all(c in "-abcdefghijklmnopqrstuvwxyz0123456789" for c in name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), "
                    "and hyphens (-)")
    if not any("a" <= c <= "z" for c in name):
        errs.append("must contain at least one letter (a-z)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if name.startswith("-") or name.endswith("-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def _validate_env(env: list, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, var in enumerate(env):
        var = as_dict(var)
        name = var.get("name", "")
        if not name:
            errs.append(required(f"{path}[{i}].name"))
        errs += invalid(f"{path}[{i}].name", name, is_env_var_name(name))
        if var.get("value") and var.get("valueFrom") is not None:
            errs.append(FieldError(
                "Invalid value", f"{path}[{i}].valueFrom", "",
                "may not be specified when `value` is not empty"))
    return errs


def _validate_volume_mounts(mounts: list, volumes: set, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    mount_paths: set[str] = set()
    for i, mount in enumerate(mounts):
        mount = as_dict(mount)
        name = mount.get("name", "")
        mount_path = mount.get("mountPath", "")
        if not name:
            errs.append(required(f"{path}[{i}].name"))
        if name not in volumes:
            errs.append(FieldError("Not found", f"{path}[{i}].name", name))
        if not mount_path:
            errs.append(required(f"{path}[{i}].mountPath"))
        if mount_path in mount_paths:
            errs.append(FieldError("Invalid value", f"{path}[{i}].mountPath",
                                   mount_path, "must be unique"))
        mount_paths.add(mount_path)
    return errs


def validate_resources(resources: dict, path: str) -> list[FieldError]:
    """Limits and requests: syntax, sign, and requests <= limits."""
    errs: list[FieldError] = []
    limits = as_dict(resources.get("limits"))
    requests = as_dict(resources.get("requests"))
    parsed_limits = {}
    for name, value in limits.items():
        errs += _validate_resource_entry(name, value, f"{path}.limits[{name}]")
        parsed_limits[name] = _quantity_or_none(value)
    for name, value in requests.items():
        errs += _validate_resource_entry(name, value, f"{path}.requests[{name}]")
        request, limit = _quantity_or_none(value), parsed_limits.get(name)
        if request is not None and limit is not None and request > limit:
            errs.append(FieldError(
                "Invalid value", f"{path}.requests", _canonical(value),
                f"must be less than or equal to {name} limit of "
                f"{_canonical(limits[name])}"))
    return errs


def _canonical(value: object) -> str:
    # Kubernetes prints quantities in their canonical form ("0.5" as "500m").
    try:
        return canonical_quantity(str(value))
    except ValueError:
        return str(value)


def _quantity_or_none(value: object):
    try:
        return parse_quantity(value)
    except ValueError:
        return None


def _validate_resource_entry(name: str, value: object, path: str) -> list[FieldError]:
    errs = invalid(path, name, _resource_name_errors(name))
    quantity = _quantity_or_none(value)
    if quantity is None:
        # kube-apiserver fails decoding; see pods.check_quantities.
        return errs
    if quantity < 0:
        errs.append(FieldError("Invalid value", path, str(value),
                               "must be greater than or equal to 0"))
    if name not in ("cpu", "memory") and "hugepages-" not in name \
            and quantity != quantity.to_integral_value():
        errs.append(FieldError("Invalid value", path, str(value),
                               "must be an integer"))
    return errs


def _resource_name_errors(name: str) -> list[str]:
    errs = is_qualified_name(name)
    if not errs and "/" not in name and name not in (
            "cpu", "memory", "ephemeral-storage") \
            and not name.startswith("hugepages-"):
        # validateContainerResourceName: bare names must be standard ones.
        errs = ["must be a standard resource for containers"]
    return errs


def validate_tolerations(tolerations: list, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, toleration in enumerate(tolerations):
        errs += _validate_toleration(as_dict(toleration), f"{path}[{i}]")
    return errs


def _validate_toleration(toleration: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    key = toleration.get("key", "")
    operator = toleration.get("operator", "")
    effect = toleration.get("effect", "")
    value = toleration.get("value", "")
    if key:
        errs += invalid(f"{path}.key", key, is_qualified_name(key))
    if not key and operator != "Exists":
        errs.append(FieldError(
            "Invalid value", f"{path}.operator", operator,
            'operator must be Exists when `key` is empty, which means "match '
            'all values and all keys"'))
    if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
        errs.append(FieldError(
            "Invalid value", f"{path}.effect", effect,
            "effect must be 'NoExecute' when `tolerationSeconds` is set"))
    if operator in ("Equal", ""):
        errs += invalid(f"{path}.operator", value, is_valid_label_value(value))
    elif operator == "Exists":
        if value:
            errs.append(FieldError("Invalid value", f"{path}.operator", toleration,
                                   "value must be empty when `operator` is 'Exists'"))
    else:
        errs.append(not_supported(f"{path}.operator", operator, ("Equal", "Exists")))
    if effect and effect not in TAINT_EFFECTS:
        errs.append(not_supported(f"{path}.effect", effect, TAINT_EFFECTS))
    return errs


def check_quantities(spec: dict, kind: str) -> None:
    """Raise BadRequest for a quantity that does not parse.

    kube-apiserver fails such a body while decoding it, before any
    validation, so the answer is a 400 and not a 422.
    """
    for container in all_containers(spec):
        resources = as_dict(container.get("resources"))
        for group in ("limits", "requests"):
            for value in as_dict(resources.get(group)).values():
                try:
                    parse_quantity(value)
                except ValueError as err:
                    raise BadRequest(f'{kind} in version "v1" cannot be handled '
                                     f"as a {kind}: {err}") from None
