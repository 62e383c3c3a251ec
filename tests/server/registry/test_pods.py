"""Pods: defaults and admission as kube-apiserver applies them, validation,
update rules and the status subresource."""

import copy

import pytest

from server.errors import BadRequest, Forbidden, Invalid
from server.registry.pods import PodKind, qos_class
from server.registry.podspec import image_pull_policy

KIND = PodKind()


def new_pod(**spec) -> dict:
    spec.setdefault("containers", [{"name": "app", "image": "nginx:1.25"}])
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"}, "spec": spec}


def created(**spec) -> dict:
    pod = new_pod(**spec)
    KIND.prepare_create(pod)
    return pod


def messages(errs) -> list[str]:
    return [str(e) for e in errs]


def create_errors(**spec) -> list[str]:
    return messages(KIND.validate(created(**spec)))


# Defaults.

def test_defaults_of_a_minimal_pod():
    pod = created()

    assert pod["spec"] == {
        "containers": [{
            "name": "app", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent",
            "resources": {}, "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        }],
        "dnsPolicy": "ClusterFirst",
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "serviceAccount": "default",
        "serviceAccountName": "default",
        "terminationGracePeriodSeconds": 30,
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300},
        ],
    }
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert KIND.validate(pod) == []


@pytest.mark.parametrize("image,policy", [
    ("nginx", "Always"),
    ("nginx:latest", "Always"),
    ("nginx:1.25", "IfNotPresent"),
    ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
    ("nginx:latest@sha256:" + "a" * 64, "Always"),
    ("localhost:5000/app", "Always"),
    ("localhost:5000/app:v1", "IfNotPresent"),
    ("registry.example.com/team/app:1", "IfNotPresent"),
], ids=["no-tag", "latest", "tag", "digest", "latest-and-digest", "port-no-tag",
        "port-tag", "registry-tag"])
def test_image_pull_policy(image, policy):
    assert image_pull_policy(image) == policy


def test_explicit_values_are_kept():
    pod = created(restartPolicy="Never", dnsPolicy="Default",
                  serviceAccountName="builder", terminationGracePeriodSeconds=5,
                  containers=[{"name": "a", "image": "busybox",
                               "imagePullPolicy": "Never"}])

    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["dnsPolicy"] == "Default"
    assert pod["spec"]["serviceAccount"] == "builder"
    assert pod["spec"]["terminationGracePeriodSeconds"] == 5
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "Never"


def test_port_protocol_defaults_to_tcp():
    pod = created(containers=[{"name": "a", "image": "x:1",
                               "ports": [{"containerPort": 80}]}])

    assert pod["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP"}]


def test_host_network_copies_container_ports_to_host_ports():
    pod = created(hostNetwork=True, containers=[
        {"name": "a", "image": "x:1", "ports": [{"containerPort": 8080}]}])

    assert pod["spec"]["containers"][0]["ports"][0]["hostPort"] == 8080


def test_probe_and_volume_defaults():
    pod = created(
        containers=[{"name": "a", "image": "x:1",
                     "livenessProbe": {"httpGet": {"port": 80}}}],
        volumes=[{"name": "cache"}, {"name": "cfg", "configMap": {"name": "c"}}])

    assert pod["spec"]["containers"][0]["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
        "failureThreshold": 3}
    assert pod["spec"]["volumes"] == [
        {"name": "cache", "emptyDir": {}},
        {"name": "cfg", "configMap": {"name": "c", "defaultMode": 420}}]


def test_requests_default_to_limits():
    pod = created(containers=[{"name": "a", "image": "x:1", "resources": {
        "limits": {"cpu": "500m", "memory": "64Mi"}, "requests": {"cpu": "100m"}}}])

    assert pod["spec"]["containers"][0]["resources"]["requests"] == {
        "cpu": "100m", "memory": "64Mi"}


def test_existing_toleration_of_not_ready_is_respected():
    mine = {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
            "effect": "NoExecute", "tolerationSeconds": 30}
    pod = created(tolerations=[mine])

    assert pod["spec"]["tolerations"] == [mine, {
        "key": "node.kubernetes.io/unreachable", "operator": "Exists",
        "effect": "NoExecute", "tolerationSeconds": 300}]


def test_toleration_of_everything_adds_none():
    pod = created(tolerations=[{"operator": "Exists"}])

    assert pod["spec"]["tolerations"] == [{"operator": "Exists"}]


def test_status_from_the_client_is_reset():
    pod = new_pod()
    pod["status"] = {"phase": "Running", "podIP": "10.1.1.1"}

    KIND.prepare_create(pod)

    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_scheduling_gates_give_a_condition():
    pod = created(schedulingGates=[{"name": "example.com/wait"}])

    assert pod["status"]["conditions"] == [{
        "type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
        "message": "Scheduling is blocked due to non-empty scheduling gates"}]


# Priority admission.

def test_priority_may_not_be_given():
    with pytest.raises(Forbidden) as err:
        created(priority=5)

    assert err.value.message == (
        'pods "web" is forbidden: the integer value of priority (5) must not be '
        "provided in pod spec; priority admission controller computed 0 from the "
        "given PriorityClass name")


def test_unknown_priority_class():
    with pytest.raises(Forbidden) as err:
        created(priorityClassName="gold")

    assert err.value.message == (
        'pods "web" is forbidden: no PriorityClass with name gold was found')


def test_system_priority_class():
    pod = created(priorityClassName="system-node-critical")

    assert pod["spec"]["priority"] == 2000001000


# QoS classes.

def container(requests=None, limits=None, name="a") -> dict:
    resources = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return {"name": name, "image": "x:1", "resources": resources}


@pytest.mark.parametrize("containers,qos", [
    ([container()], "BestEffort"),
    ([container(requests={"cpu": "0"})], "BestEffort"),
    ([container(requests={"cpu": "100m"})], "Burstable"),
    ([container(limits={"cpu": "1", "memory": "1Gi"})], "Guaranteed"),
    ([container(requests={"cpu": "1", "memory": "1Gi"},
                limits={"cpu": "1000m", "memory": "1024Mi"})], "Guaranteed"),
    ([container(requests={"cpu": "500m", "memory": "1Gi"},
                limits={"cpu": "1", "memory": "1Gi"})], "Burstable"),
    ([container(limits={"cpu": "1"})], "Burstable"),
    ([container(limits={"cpu": "1", "memory": "1Gi"}), container(name="b")],
     "Burstable"),
    ([container(requests={"ephemeral-storage": "1Gi"})], "BestEffort"),
], ids=["nothing", "zero", "requests-only", "limits-only", "equal-units",
        "requests-below-limits", "cpu-limit-only", "one-without", "other-resource"])
def test_qos_class(containers, qos):
    pod = created(containers=containers)

    assert pod["status"]["qosClass"] == qos
    assert qos_class(pod["spec"]) == qos


# Validation.

def test_at_least_one_container():
    assert create_errors(containers=[]) == ["spec.containers: Required value"]


def test_container_name_and_image_required():
    assert create_errors(containers=[{}]) == [
        "spec.containers[0].name: Required value",
        "spec.containers[0].image: Required value"]


def test_container_names_unique_across_init_and_app_containers():
    errors = create_errors(
        containers=[{"name": "a", "image": "x:1"}],
        initContainers=[{"name": "a", "image": "x:1"}])

    assert errors == ['spec.initContainers[0].name: Duplicate value: "a"']


def test_restart_policy_enum():
    assert create_errors(restartPolicy="Sometimes") == [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
        '"Always", "OnFailure", "Never"']


def test_dns_policy_enum():
    assert create_errors(dnsPolicy="Google") == [
        'spec.dnsPolicy: Unsupported value: "Google": supported values: '
        '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"']


def test_container_ports():
    errors = create_errors(containers=[{"name": "a", "image": "x:1", "ports": [
        {"containerPort": 70000}, {"containerPort": 80, "protocol": "HTTP"},
        {"containerPort": 81, "name": "Web_1"}]}])

    assert errors == [
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: "
        "must be between 1 and 65535, inclusive",
        'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": '
        'supported values: "SCTP", "TCP", "UDP"',
        'spec.containers[0].ports[2].name: Invalid value: "Web_1": must contain '
        "only alpha-numeric characters (a-z, 0-9), and hyphens (-)"]


def test_env_var_names():
    errors = create_errors(containers=[{"name": "a", "image": "x:1", "env": [
        {"name": "A=B", "value": "1"}, {"value": "2"}]}])

    assert errors == [
        'spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment '
        "variable name must consist only of printable ASCII characters other than '='",
        "spec.containers[0].env[1].name: Required value",
        'spec.containers[0].env[1].name: Invalid value: "": environment variable '
        "name must be non-empty"]


def test_requests_may_not_exceed_limits():
    errors = create_errors(containers=[container(
        requests={"cpu": "2"}, limits={"cpu": "1"})])

    assert errors == [
        'spec.containers[0].resources.requests: Invalid value: "2": must be less '
        "than or equal to cpu limit of 1"]


def test_quantities_in_messages_are_canonical():
    errors = create_errors(containers=[container(
        requests={"memory": "2048Mi"}, limits={"memory": "1.5Gi"})])

    assert errors == [
        'spec.containers[0].resources.requests: Invalid value: "2Gi": must be less '
        "than or equal to memory limit of 1536Mi"]


def test_bad_quantity_fails_like_decoding():
    with pytest.raises(BadRequest) as err:
        created(containers=[container(requests={"memory": "lots"})])

    assert err.value.message == (
        'Pod in version "v1" cannot be handled as a Pod: quantities must match the '
        "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def test_volume_mounts_must_name_a_volume():
    errors = create_errors(containers=[{
        "name": "a", "image": "x:1",
        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}])

    assert errors == ['spec.containers[0].volumeMounts[0].name: Not found: "data"']


def test_invalid_message_as_a_whole():
    pod = created(containers=[{"name": "a"}], restartPolicy="Sometimes")

    assert Invalid("Pod", "web", KIND.validate(pod)).message == (
        'Pod "web" is invalid: [spec.containers[0].image: Required value, '
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
        '"Always", "OnFailure", "Never"]')


# Updates.

def update_errors(change) -> list[str]:
    old = created(activeDeadlineSeconds=60)
    new = copy.deepcopy(old)
    change(new["spec"])
    KIND.prepare_update(new, old)
    return messages(KIND.validate_update(new, old))


def test_image_may_change():
    def change(spec):
        spec["containers"][0]["image"] = "nginx:1.26"

    assert update_errors(change) == []


def test_deadline_may_be_lowered_not_raised():
    assert update_errors(lambda s: s.update(activeDeadlineSeconds=30)) == []
    assert update_errors(lambda s: s.update(activeDeadlineSeconds=90)) == [
        "spec.activeDeadlineSeconds: Invalid value: 90: must be less than or equal "
        "to previous value"]


def test_tolerations_may_only_be_added():
    added = {"key": "example.com/x", "operator": "Exists"}
    assert update_errors(lambda s: s["tolerations"].append(added)) == []
    assert update_errors(lambda s: s["tolerations"].pop()) == [
        "spec.tolerations: Forbidden: existing toleration can not be modified "
        "except its tolerationSeconds"]


def test_other_spec_fields_are_immutable():
    errors = update_errors(lambda s: s.update(restartPolicy="Never"))

    assert len(errors) == 1
    assert errors[0].startswith(
        "spec: Forbidden: pod updates may not change fields other than "
        "`spec.containers[*].image`,`spec.initContainers[*].image`,"
        "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
        "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to "
        "be set to 1 if it was previously negative)\n")
    assert '- spec.restartPolicy: "Always"' in errors[0]
    assert '+ spec.restartPolicy: "Never"' in errors[0]


def test_containers_may_not_be_added():
    errors = update_errors(lambda s: s["containers"].append(
        {"name": "b", "image": "x:1"}))

    assert errors == [
        "spec.containers: Forbidden: pod updates may not add or remove containers"]


def test_resubmitted_manifest_keeps_its_defaults():
    old = created()
    new = new_pod()
    new["spec"].update(serviceAccountName="default",
                       tolerations=copy.deepcopy(old["spec"]["tolerations"]),
                       priority=0, preemptionPolicy="PreemptLowerPriority")
    new["metadata"] = copy.deepcopy(old["metadata"])

    KIND.prepare_update(new, old)

    assert KIND.validate_update(new, old) == []


# The status subresource.

def test_status_update_keeps_owner_references_and_qos_class():
    old = created()
    old["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "RC",
                                           "name": "r", "uid": "u"}]
    new = copy.deepcopy(old)
    new["metadata"].pop("ownerReferences")
    new["status"] = {"phase": "Running", "podIP": "10.244.0.5"}

    KIND.prepare_status_update(new, old)

    assert new["metadata"]["ownerReferences"] == old["metadata"]["ownerReferences"]
    assert new["status"] == {"phase": "Running", "qosClass": "BestEffort",
                             "podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}]}
    assert KIND.validate_status_update(new, old) == []


def test_status_update_checks_pod_ips():
    old = created()
    new = copy.deepcopy(old)
    new["status"]["podIPs"] = [{"ip": "not-an-ip"}]

    assert messages(KIND.validate_status_update(new, old)) == [
        'status.podIPs[0].ip: Invalid value: "not-an-ip": must be a valid IP '
        "address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]


# Field selectors.

def test_field_values_cover_every_selectable_field():
    pod = created(nodeName="node1")
    pod["status"].update(podIPs=[{"ip": "10.1.0.7"}], nominatedNodeName="")

    values = KIND.field_values(pod)

    assert set(KIND.selectable_fields) <= set(values)
    assert values == {
        "metadata.name": "web", "metadata.namespace": "default",
        "spec.nodeName": "node1", "spec.restartPolicy": "Always",
        "spec.schedulerName": "default-scheduler",
        "spec.serviceAccountName": "default", "spec.hostNetwork": "false",
        "status.phase": "Pending", "status.podIP": "10.1.0.7",
        "status.nominatedNodeName": ""}


def test_discovery_attributes():
    assert (KIND.kind, KIND.resource, KIND.singular) == ("Pod", "pods", "pod")
    assert KIND.short_names == ("po",) and KIND.categories == ("all",)
    assert KIND.namespaced and not KIND.has_generation
    assert {"status", "binding", "log"} <= set(KIND.subresources)
