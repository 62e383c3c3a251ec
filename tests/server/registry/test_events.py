"""Events of core/v1."""

from server.registry.events import EventKind

KIND = EventKind()


def event(**fields) -> dict:
    obj = {"metadata": {"name": "web.17c", "namespace": "default"},
           "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web",
                              "uid": "u1", "apiVersion": "v1",
                              "fieldPath": "spec.containers{app}"},
           "reason": "Pulled", "message": "Pulled image \"nginx\" \n",
           "type": "Normal", "source": {"component": "kubelet", "host": "node1"},
           "firstTimestamp": "2024-05-01T11:00:00Z",
           "lastTimestamp": "2024-05-01T11:05:00Z", "count": 3}
    obj.update(fields)
    return obj


def test_columns_and_row():
    columns = KIND.columns()

    assert [(c.name, c.priority) for c in columns] == [
        ("Last Seen", 0), ("Type", 0), ("Reason", 0), ("Object", 0),
        ("Subobject", 1), ("Source", 1), ("Message", 0), ("First Seen", 1),
        ("Count", 1), ("Name", 1)]
    assert columns[0].age and columns[7].age
    assert [c.cell(event()) for c in columns] == [
        "2024-05-01T11:05:00Z", "Normal", "Pulled", "pod/web",
        "spec.containers{app}", "kubelet, node1", 'Pulled image "nginx"',
        "2024-05-01T11:00:00Z", 3, "web.17c"]


def test_new_style_event_cells():
    obj = event(lastTimestamp=None, firstTimestamp=None, count=None, source={},
                eventTime="2024-05-01T11:00:00.000000Z",
                reportingComponent="kctl-scheduler", reportingInstance="host")
    columns = KIND.columns()

    assert columns[0].cell(obj) == "2024-05-01T11:00:00.000000Z"
    assert columns[5].cell(obj) == "kctl-scheduler, host"
    assert columns[8].cell(obj) == 1


def test_field_values_cover_every_selectable_field():
    values = KIND.field_values(event())

    assert set(KIND.selectable_fields) <= set(values)
    assert values["involvedObject.name"] == "web"
    assert values["source"] == "kubelet"
    assert values["reportingComponent"] == ""


def test_namespace_must_match_involved_object():
    obj = event()
    obj["involvedObject"]["namespace"] = "other"

    assert [str(e) for e in KIND.validate(obj)] == [
        'involvedObject.namespace: Invalid value: "other": does not match '
        "event.namespace"]


def test_new_style_event_needs_reporting_fields():
    obj = event(eventTime="2024-05-01T11:00:00.000000Z")

    errs = KIND.validate(obj)

    # An empty reportingComponent is also no qualified name, as in Kubernetes.
    assert [(e.type, e.field) for e in errs] == [
        ("Required value", "reportingComponent"),
        ("Invalid value", "reportingComponent"),
        ("Invalid value", "reportingComponent"),
        ("Required value", "reportingInstance"),
        ("Required value", "action")]
    assert errs[1].detail == "name part must be non-empty"


def test_discovery():
    assert (KIND.resource, KIND.singular, KIND.short_names) == (
        "events", "event", ("ev",))
