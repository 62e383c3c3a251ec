"""Deployments and ReplicaSets (apps/v1): defaults, validation, columns."""

import copy

import pytest

from server.registry.apps import DeploymentKind, ReplicaSetKind, kinds

DEPLOYMENT = DeploymentKind()
REPLICA_SET = ReplicaSetKind()


def workload(**spec) -> dict:
    spec.setdefault("selector", {"matchLabels": {"app": "web"}})
    spec.setdefault("template", {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}})
    return {"metadata": {"name": "web", "namespace": "default"}, "spec": spec}


def created(kind, **spec) -> dict:
    obj = workload(**spec)
    kind.prepare_create(obj)
    return obj


def messages(errs) -> list[str]:
    return [str(e) for e in errs]


def test_deployment_defaults():
    obj = created(DEPLOYMENT)

    spec = obj["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {
        "maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert obj["status"] == {}
    assert DEPLOYMENT.validate(obj) == []


def test_deployment_keeps_given_values():
    obj = created(DEPLOYMENT, replicas=0, revisionHistoryLimit=0,
                  strategy={"rollingUpdate": {"maxSurge": 2}})

    assert obj["spec"]["replicas"] == 0
    assert obj["spec"]["revisionHistoryLimit"] == 0
    assert obj["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 2,
                                                        "maxUnavailable": "25%"}


def test_recreate_gets_no_rolling_update():
    obj = created(DEPLOYMENT, strategy={"type": "Recreate"})

    assert obj["spec"]["strategy"] == {"type": "Recreate"}
    assert DEPLOYMENT.validate(obj) == []


def test_replica_set_defaults_and_template():
    obj = created(REPLICA_SET)

    assert obj["spec"]["replicas"] == 1
    assert obj["status"] == {"replicas": 0}
    template_spec = obj["spec"]["template"]["spec"]
    assert template_spec["restartPolicy"] == "Always"
    assert template_spec["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    # apps/v1 does not default the selector or labels from the template.
    assert "labels" not in obj["metadata"]
    assert REPLICA_SET.validate(obj) == []


@pytest.mark.parametrize("kind", [DEPLOYMENT, REPLICA_SET],
                         ids=["deployment", "replicaset"])
def test_selector_is_required(kind):
    obj = created(kind)
    del obj["spec"]["selector"]

    # A missing selector selects nothing, so the template cannot match it.
    assert messages(kind.validate(obj)) == [
        "spec.selector: Required value",
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":'
        '"web"}: `selector` does not match template `labels`']


@pytest.mark.parametrize("kind", [DEPLOYMENT, REPLICA_SET],
                         ids=["deployment", "replicaset"])
def test_empty_selector_is_invalid(kind):
    obj = created(kind, selector={})

    assert messages(kind.validate(obj)) == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]"
        "string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: "
        "empty selector is invalid for deployment"]


def test_selector_must_match_template_labels():
    obj = created(DEPLOYMENT, selector={"matchExpressions": [
        {"key": "app", "operator": "In", "values": ["db"]}]})

    assert messages(DEPLOYMENT.validate(obj)) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":'
        '"web"}: `selector` does not match template `labels`']


def test_selector_expressions_are_validated():
    obj = created(REPLICA_SET, selector={"matchLabels": {"app": "web"},
                                         "matchExpressions": [
        {"key": "tier", "operator": "Exists", "values": ["x"]},
        {"key": "tier", "operator": "In"}]})

    assert messages(REPLICA_SET.validate(obj))[:2] == [
        "spec.selector.matchExpressions[0].values: Forbidden: may not be specified "
        "when `operator` is 'Exists' or 'DoesNotExist'",
        "spec.selector.matchExpressions[1].values: Required value: must be "
        "specified when `operator` is 'In' or 'NotIn'"]


@pytest.mark.parametrize("kind", [DEPLOYMENT, REPLICA_SET],
                         ids=["deployment", "replicaset"])
def test_negative_replicas(kind):
    obj = created(kind, replicas=-1)

    assert messages(kind.validate(obj)) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"]


def test_template_rules_of_replica_sets():
    obj = created(DEPLOYMENT)
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    obj["spec"]["template"]["spec"]["activeDeadlineSeconds"] = 5

    assert messages(DEPLOYMENT.validate(obj)) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported '
        'values: "Always"',
        "spec.template.spec.activeDeadlineSeconds: Forbidden: "
        "activeDeadlineSeconds in ReplicaSet is not Supported"]


def test_template_pod_spec_is_validated():
    obj = created(REPLICA_SET)
    obj["spec"]["template"]["spec"]["containers"] = []

    assert messages(REPLICA_SET.validate(obj)) == [
        "spec.template.spec.containers: Required value"]


@pytest.mark.parametrize("rolling, expected", [
    ({"maxSurge": 0, "maxUnavailable": 0},
     ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.'
      'IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` '
      'is 0']),
    ({"maxSurge": "x", "maxUnavailable": "110%"},
     ['spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString'
      '{Type:1, IntVal:0, StrVal:"x"}: a valid percent string must be a numeric '
      "string followed by an ending '%' (e.g. '1%',  or '93%', regex used for "
      "validation is '[0-9]+%')",
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.'
      'IntOrString{Type:1, IntVal:0, StrVal:"110%"}: must not be greater than '
      '100%']),
    ({"maxSurge": -1, "maxUnavailable": 1},
     ["spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater "
      "than or equal to 0"]),
], ids=["both-zero", "bad-percent", "negative"])
def test_rolling_update_limits(rolling, expected):
    obj = created(DEPLOYMENT, strategy={"rollingUpdate": rolling})

    assert messages(DEPLOYMENT.validate(obj)) == expected


def test_recreate_forbids_rolling_update_and_types_are_checked():
    recreate = created(DEPLOYMENT, strategy={"type": "Recreate",
                                             "rollingUpdate": {}})
    unknown = created(DEPLOYMENT, strategy={"type": "Blue"})

    assert messages(DEPLOYMENT.validate(recreate)) == [
        "spec.strategy.rollingUpdate: Forbidden: may not be specified when "
        "strategy `type` is 'Recreate'"]
    assert messages(DEPLOYMENT.validate(unknown)) == [
        'spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"Blue", '
        "RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "
        '"Recreate", "RollingUpdate"']


def test_progress_deadline_beyond_min_ready():
    obj = created(DEPLOYMENT, minReadySeconds=10, progressDeadlineSeconds=10,
                  revisionHistoryLimit=-1)

    assert messages(DEPLOYMENT.validate(obj)) == [
        "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or "
        "equal to 0",
        "spec.progressDeadlineSeconds: Invalid value: 10: must be greater than "
        "minReadySeconds"]


@pytest.mark.parametrize("kind", [DEPLOYMENT, REPLICA_SET],
                         ids=["deployment", "replicaset"])
def test_selector_is_immutable(kind):
    old = created(kind)
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "x"}}
    new["spec"]["template"]["metadata"]["labels"]["tier"] = "x"
    kind.prepare_update(new, old)

    assert messages(kind.validate_update(new, old)) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]'
        'string{"app":"web", "tier":"x"}, MatchExpressions:[]v1.'
        "LabelSelectorRequirement(nil)}: field is immutable"]


def test_selector_with_empty_expressions_is_unchanged():
    old = created(REPLICA_SET)
    new = copy.deepcopy(old)
    new["spec"]["selector"]["matchExpressions"] = []

    assert REPLICA_SET.validate_update(new, old) == []


def test_annotation_change_is_a_new_deployment_generation():
    old = created(DEPLOYMENT)
    old["metadata"]["generation"] = 4
    new = copy.deepcopy(old)
    new["metadata"]["annotations"] = {"note": "x"}

    DEPLOYMENT.prepare_update(new, old)

    assert new["metadata"]["generation"] == 5


def test_status_updates_are_validated():
    deployment = created(DEPLOYMENT)
    deployment["status"] = {"collisionCount": 2}
    new_deployment = copy.deepcopy(deployment)
    new_deployment["status"] = {"replicas": 1, "updatedReplicas": 2,
                                "collisionCount": 1}
    replica_set = created(REPLICA_SET)
    new_replica_set = copy.deepcopy(replica_set)
    new_replica_set["status"] = {"replicas": 2, "readyReplicas": 1,
                                 "availableReplicas": 2}

    assert messages(DEPLOYMENT.validate_status_update(new_deployment, deployment)) == [
        "status.updatedReplicas: Invalid value: 2: cannot be greater than "
        "status.replicas",
        "status.collisionCount: Invalid value: 1: cannot be decremented"]
    assert messages(REPLICA_SET.validate_status_update(new_replica_set,
                                                       replica_set)) == [
        "status.availableReplicas: Invalid value: 2: cannot be greater than "
        "readyReplicas"]


def test_deployment_row_and_columns():
    obj = created(DEPLOYMENT, replicas=3)
    obj["status"] = {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 1,
                     "availableReplicas": 2}
    obj["metadata"]["creationTimestamp"] = "2024-05-01T11:00:00Z"

    cells = [c.cell(obj) for c in DEPLOYMENT.columns()]

    assert cells == ["web", "2/3", 1, 2, "2024-05-01T11:00:00Z", "app",
                     "nginx:1.25", "app=web"]
    assert [(c.name, c.type, c.priority) for c in DEPLOYMENT.columns()] == [
        ("Name", "string", 0), ("Ready", "string", 0), ("Up-to-date", "string", 0),
        ("Available", "string", 0), ("Age", "string", 0),
        ("Containers", "string", 1), ("Images", "string", 1),
        ("Selector", "string", 1)]


def test_replica_set_row_and_columns():
    obj = created(REPLICA_SET, replicas=3, selector={
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "NotIn",
                              "values": ["db"]}]})
    obj["status"] = {"replicas": 2, "readyReplicas": 1}
    obj["metadata"]["creationTimestamp"] = "2024-05-01T11:00:00Z"

    cells = [c.cell(obj) for c in REPLICA_SET.columns()]

    assert cells == ["web", 3, 2, 1, "2024-05-01T11:00:00Z", "app", "nginx:1.25",
                     "app=web,tier notin (db)"]
    assert [(c.name, c.type, c.priority) for c in REPLICA_SET.columns()] == [
        ("Name", "string", 0), ("Desired", "integer", 0), ("Current", "integer", 0),
        ("Ready", "integer", 0), ("Age", "string", 0), ("Containers", "string", 1),
        ("Images", "string", 1), ("Selector", "string", 1)]


def test_discovery_and_fields():
    assert [k.kind for k in kinds()] == ["Deployment", "ReplicaSet"]
    assert (DEPLOYMENT.api_version, DEPLOYMENT.short_names) == ("apps/v1",
                                                                ("deploy",))
    assert (REPLICA_SET.short_names, REPLICA_SET.categories) == (("rs",), ("all",))
    assert set(DEPLOYMENT.subresources) == {"status", "scale"}
    assert DEPLOYMENT.has_generation and REPLICA_SET.has_generation
    assert REPLICA_SET.field_values(created(REPLICA_SET))["status.replicas"] == "0"
