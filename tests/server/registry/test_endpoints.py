"""Endpoints."""

from server.registry.endpoints import EndpointsKind


def messages(errs) -> list[str]:
    return [str(e) for e in errs]


def endpoints(*subsets) -> dict:
    return {"metadata": {"name": "web", "namespace": "default"},
            "subsets": list(subsets)}


def test_endpoints_cell():
    cell = EndpointsKind().columns()[1].cell

    assert cell(endpoints()) == "<none>"
    assert cell(endpoints({"addresses": [{"ip": "10.1.0.1"}, {"ip": "10.1.0.2"}],
                           "ports": [{"port": 80}]})) == "10.1.0.1:80,10.1.0.2:80"
    many = {"addresses": [{"ip": f"10.1.0.{i}"} for i in range(1, 6)],
            "ports": [{"port": 8080}]}
    assert cell(endpoints(many)) == (
        "10.1.0.1:8080,10.1.0.2:8080,10.1.0.3:8080 + 2 more...")
    assert cell(endpoints({"addresses": [{"ip": "10.1.0.1"}]})) == "10.1.0.1"


def test_endpoints_validation():
    kind = EndpointsKind()
    obj = endpoints({"addresses": [{"ip": "nope"}], "ports": [{"port": 80}]})
    kind.prepare_create(obj)

    assert obj["subsets"][0]["ports"] == [{"port": 80, "protocol": "TCP"}]
    assert messages(kind.validate(obj)) == [
        'subsets[0].addresses[0].ip: Invalid value: "nope": must be a valid IP '
        "address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
    assert (kind.resource, kind.singular, kind.short_names) == (
        "endpoints", "endpoints", ("ep",))
