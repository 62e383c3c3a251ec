"""ReplicationControllers."""

import copy

from server.registry.workloads import ReplicationControllerKind

KIND = ReplicationControllerKind()


def rc(**spec) -> dict:
    spec.setdefault("template", {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}})
    return {"metadata": {"name": "web", "namespace": "default"}, "spec": spec}


def created(**spec) -> dict:
    obj = rc(**spec)
    KIND.prepare_create(obj)
    return obj


def messages(errs) -> list[str]:
    return [str(e) for e in errs]


def test_defaults():
    obj = created()

    assert obj["spec"]["replicas"] == 1
    assert obj["spec"]["selector"] == {"app": "web"}
    assert obj["metadata"]["labels"] == {"app": "web"}
    assert obj["status"] == {"replicas": 0}
    assert KIND.validate(obj) == []


def test_template_gets_pod_spec_defaults_but_not_pod_ones():
    template_spec = created()["spec"]["template"]["spec"]

    assert template_spec["restartPolicy"] == "Always"
    assert template_spec["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    # Admission plugins and SetDefaults_Pod act on pods, not on templates.
    for key in ("enableServiceLinks", "tolerations", "priority",
                "serviceAccountName"):
        assert key not in template_spec


def test_selector_must_match_template_labels():
    obj = created(selector={"app": "db"})

    assert messages(KIND.validate(obj)) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":'
        '"web"}: `selector` does not match template `labels`']


def test_template_restart_policy_must_be_always():
    obj = created()
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"

    assert messages(KIND.validate(obj)) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported '
        'values: "Always"']


def test_template_pod_spec_is_validated():
    obj = created()
    obj["spec"]["template"]["spec"]["containers"] = []

    assert messages(KIND.validate(obj)) == [
        "spec.template.spec.containers: Required value"]


def test_negative_replicas():
    obj = created(replicas=-1)

    assert messages(KIND.validate(obj)) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"]


def test_status_update_validation():
    old = created()
    new = copy.deepcopy(old)
    new["status"] = {"replicas": 1, "readyReplicas": 2}

    assert messages(KIND.validate_status_update(new, old)) == [
        "status.readyReplicas: Invalid value: 2: cannot be greater than "
        "status.replicas"]


def test_row_and_columns():
    obj = created(replicas=3)
    obj["status"] = {"replicas": 2, "readyReplicas": 1}
    obj["metadata"]["creationTimestamp"] = "2024-05-01T11:00:00Z"

    cells = [c.cell(obj) for c in KIND.columns()]

    assert cells == ["web", 3, 2, 1, "2024-05-01T11:00:00Z", "app", "nginx:1.25",
                     "app=web"]
    assert [(c.name, c.type, c.priority) for c in KIND.columns()] == [
        ("Name", "string", 0), ("Desired", "integer", 0), ("Current", "integer", 0),
        ("Ready", "integer", 0), ("Age", "string", 0), ("Containers", "string", 1),
        ("Images", "string", 1), ("Selector", "string", 1)]


def test_discovery_and_fields():
    assert (KIND.short_names, KIND.categories) == (("rc",), ("all",))
    assert set(KIND.subresources) == {"status", "scale"} and KIND.has_generation
    assert KIND.field_values(created())["status.replicas"] == "0"
