"""Services: defaults, clusterIP allocation, validation and printing."""

import copy
import ipaddress

import pytest

from server.errors import InternalError, Invalid
from server.registry.services import ServiceKind


def service(name="web", **spec) -> dict:
    spec.setdefault("selector", {"app": name})
    spec.setdefault("ports", [{"port": 80}])
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "default"}, "spec": spec}


def messages(errs) -> list[str]:
    return [str(e) for e in errs]


# Create: defaults and allocation.

def test_defaults_and_allocation():
    kind = ServiceKind("10.0.0.0/24")
    svc = service()

    kind.prepare_create(svc)

    ip = svc["spec"]["clusterIP"]
    assert svc["spec"] == {
        "selector": {"app": "web"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "type": "ClusterIP", "sessionAffinity": "None",
        "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack", "clusterIP": ip, "clusterIPs": [ip]}
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.0.0.0/24")
    assert svc["status"] == {"loadBalancer": {}}
    assert kind.validate(svc) == []


def test_two_services_get_different_ips():
    kind = ServiceKind("10.0.0.0/24")
    a, b = service("a"), service("b")

    kind.prepare_create(a)
    kind.prepare_create(b)

    assert a["spec"]["clusterIP"] != b["spec"]["clusterIP"]


def test_requested_ip_is_honoured():
    kind = ServiceKind("10.0.0.0/24")
    svc = service(clusterIP="10.0.0.5")

    kind.prepare_create(svc)

    assert svc["spec"]["clusterIPs"] == ["10.0.0.5"]


def test_requested_ip_in_use():
    kind = ServiceKind("10.0.0.0/24")
    kind.prepare_create(service("a", clusterIP="10.0.0.5"))

    with pytest.raises(Invalid) as err:
        kind.prepare_create(service("b", clusterIP="10.0.0.5"))

    assert err.value.message == (
        'Service "b" is invalid: spec.clusterIPs: Invalid value: '
        '[]string{"10.0.0.5"}: failed to allocate IP 10.0.0.5: provided IP is '
        "already allocated")


def test_requested_ip_out_of_range():
    kind = ServiceKind("10.0.0.0/24")

    with pytest.raises(Invalid) as err:
        kind.prepare_create(service(clusterIP="192.168.1.1"))

    assert err.value.message == (
        'Service "web" is invalid: spec.clusterIPs: Invalid value: '
        '[]string{"192.168.1.1"}: failed to allocate IP 192.168.1.1: the provided '
        "IP (192.168.1.1) is not in the valid range. The range of valid IPs is "
        "10.0.0.0/24")


def test_requested_ip_that_is_no_ip():
    with pytest.raises(Invalid) as err:
        ServiceKind().prepare_create(service(clusterIP="ten"))

    assert messages(err.value.errors) == [
        'spec.clusterIPs[0]: Invalid value: "ten": must be a valid IP address, '
        "(e.g. 10.9.8.7 or 2001:db8::ffff)"]


def test_full_range_is_an_internal_error():
    # A /30 has two IPs, and the first is the kubernetes service's.
    kind = ServiceKind("10.0.0.0/30")
    kind.prepare_create(service("a"))

    with pytest.raises(InternalError) as err:
        kind.prepare_create(service("b"))

    assert err.value.message == (
        "Internal error occurred: failed to allocate a serviceIP: range is full")


def test_release_gives_the_ip_back():
    kind = ServiceKind("10.0.0.0/30")
    a = service("a")
    kind.prepare_create(a)

    kind.release(a)
    b = service("b")
    kind.prepare_create(b)

    assert b["spec"]["clusterIP"] == a["spec"]["clusterIP"] == "10.0.0.2"


def test_only_the_kubernetes_service_may_have_the_first_ip():
    kind = ServiceKind("10.0.0.0/24")

    with pytest.raises(Invalid) as err:
        kind.prepare_create(service("web", clusterIP="10.0.0.1"))
    api = service("kubernetes", clusterIP="10.0.0.1")
    kind.prepare_create(api)

    assert messages(err.value.errors) == [
        'spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to '
        "allocate IP 10.0.0.1: provided IP is already allocated"]
    assert api["spec"]["clusterIPs"] == ["10.0.0.1"]


def test_restore_keeps_a_stored_service_on_the_first_ip():
    # A service stored before the kubernetes service existed keeps its IP;
    # the kubernetes service cannot then be made, as in kube-apiserver.
    kind = ServiceKind("10.0.0.0/24")
    kind.restore(service("old", clusterIP="10.0.0.1", clusterIPs=["10.0.0.1"]))

    with pytest.raises(Invalid):
        kind.prepare_create(service("kubernetes", clusterIP="10.0.0.1"))


def test_restore_reserves_a_stored_service_ip():
    kind = ServiceKind("10.0.0.0/24")
    kind.restore({"spec": {"clusterIP": "10.0.0.7", "clusterIPs": ["10.0.0.7"]}})

    with pytest.raises(Invalid):
        kind.prepare_create(service(clusterIP="10.0.0.7"))


def test_headless_service():
    kind = ServiceKind()
    svc = service(clusterIP="None")

    kind.prepare_create(svc)

    assert svc["spec"]["clusterIPs"] == ["None"]
    assert svc["spec"]["ipFamilyPolicy"] == "SingleStack"
    assert kind.validate(svc) == []
    assert kind.allocator.free == 253


def test_headless_service_without_selector():
    svc = service(clusterIP="None", selector={})

    ServiceKind().prepare_create(svc)

    assert svc["spec"]["ipFamilyPolicy"] == "RequireDualStack"
    assert svc["spec"]["ipFamilies"] == ["IPv4"]


def test_external_name_service():
    kind = ServiceKind()
    svc = service(type="ExternalName", externalName="db.example.com.", ports=[])
    svc["spec"].pop("selector")

    kind.prepare_create(svc)

    assert "clusterIP" not in svc["spec"] and "ipFamilies" not in svc["spec"]
    assert kind.validate(svc) == []
    assert ServiceKind().columns()[3].cell(svc) == "db.example.com."


def test_dual_stack_is_refused():
    with pytest.raises(Invalid) as err:
        ServiceKind().prepare_create(service(ipFamilyPolicy="RequireDualStack"))

    assert messages(err.value.errors) == [
        'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is '
        "not configured for dual-stack services"]


# Validation.

def test_name_is_a_dns1035_label():
    kind = ServiceKind()
    svc = service("1web")
    kind.prepare_create(svc)

    assert messages(kind.validate(svc)) == [
        'metadata.name: Invalid value: "1web": a DNS-1035 label must consist of '
        "lower case alphanumeric characters or '-', start with an alphabetic "
        "character, and end with an alphanumeric character (e.g. 'my-name',  or "
        "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]


@pytest.mark.parametrize("ports,expected", [
    ([], ["spec.ports: Required value"]),
    ([{"port": 0}], ["spec.ports[0].port: Invalid value: 0: must be between 1 and "
                     "65535, inclusive",
                     "spec.ports[0].targetPort: Invalid value: 0: must be between 1 "
                     "and 65535, inclusive"]),
    ([{"port": 80, "protocol": "HTTP"}],
     ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: '
      '"SCTP", "TCP", "UDP"']),
    ([{"port": 80, "name": "http"}, {"port": 443}],
     ["spec.ports[1].name: Required value"]),
], ids=["none", "zero", "protocol", "unnamed"])
def test_port_validation(ports, expected):
    kind = ServiceKind()
    svc = service(ports=ports)
    kind.prepare_create(svc)

    assert messages(kind.validate(svc)) == expected


def test_same_port_and_protocol_twice():
    kind = ServiceKind()
    svc = service(ports=[{"port": 80, "name": "a"}, {"port": 80, "name": "b"},
                         {"port": 80, "name": "c", "protocol": "UDP"}])
    kind.prepare_create(svc)

    errs = kind.validate(svc)

    assert [(e.type, e.field) for e in errs] == [("Duplicate value", "spec.ports[1]")]


def test_node_port_on_cluster_ip_service():
    kind = ServiceKind()
    svc = service(ports=[{"port": 80, "nodePort": 30080}])
    kind.prepare_create(svc)

    assert messages(kind.validate(svc)) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is "
        "'ClusterIP'"]


# Update.

def test_resubmitted_service_keeps_its_ip():
    kind = ServiceKind()
    old = service()
    kind.prepare_create(old)
    new = service()
    new["metadata"] = copy.deepcopy(old["metadata"])

    kind.prepare_update(new, old)

    assert new["spec"]["clusterIP"] == old["spec"]["clusterIP"]
    assert kind.validate_update(new, old) == []


def test_cluster_ip_may_not_change():
    kind = ServiceKind("10.0.0.0/24")
    old = service(clusterIP="10.0.0.5")
    kind.prepare_create(old)
    new = copy.deepcopy(old)
    new["spec"].update(clusterIP="10.0.0.6", clusterIPs=["10.0.0.6"])

    kind.prepare_update(new, old)

    assert messages(kind.validate_update(new, old)) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.0.0.6"}: may not change '
        "once set"]


def updated(kind: ServiceKind, old: dict, **spec) -> dict:
    """``old`` changed as a merge patch of ``spec`` would, then prepared."""
    new = copy.deepcopy(old)
    for key, value in spec.items():
        if value is None:
            new["spec"].pop(key, None)
        else:
            new["spec"][key] = value
    kind.prepare_update(new, old)
    return new


def test_changing_only_cluster_ip_moves_cluster_ips_and_is_refused():
    # kubectl patch svc --type=merge -p '{"spec":{"clusterIP":"10.0.0.99"}}'
    kind = ServiceKind("10.0.0.0/24")
    old = service(clusterIP="10.0.0.5")
    kind.prepare_create(old)

    new = updated(kind, old, clusterIP="10.0.0.99")

    assert new["spec"]["clusterIPs"] == ["10.0.0.99"]
    assert messages(kind.validate_update(new, old)) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.0.0.99"}: may not change '
        "once set"]


def test_clearing_cluster_ip_keeps_the_allocated_one():
    kind = ServiceKind("10.0.0.0/24")
    old = service(clusterIP="10.0.0.5")
    kind.prepare_create(old)

    new = updated(kind, old, clusterIP=None)

    assert new["spec"]["clusterIPs"] == ["10.0.0.5"]
    assert kind.validate_update(new, old) == []


def test_cluster_ip_may_not_become_none():
    kind = ServiceKind("10.0.0.0/24")
    old = service(clusterIP="10.0.0.5")
    kind.prepare_create(old)

    new = updated(kind, old, clusterIP="None")

    assert messages(kind.validate_update(new, old)) == [
        'spec.clusterIPs[0]: Invalid value: []string{"None"}: may not change '
        "once set"]


def test_to_external_name_drops_the_ip_and_gives_it_back_once_stored():
    kind = ServiceKind("10.0.0.0/24")
    old = service(clusterIP="10.0.0.5")
    kind.prepare_create(old)

    new = updated(kind, old, type="ExternalName", externalName="example.com")
    finish = kind.begin_update(new, old)

    assert "clusterIP" not in new["spec"] and "ipFamilies" not in new["spec"]
    assert kind.validate_update(new, old) == []
    assert kind.allocator.free == 252
    finish(True)
    assert kind.allocator.free == 253


def test_from_external_name_allocates_and_a_failed_update_gives_it_back():
    kind = ServiceKind("10.0.0.0/24")
    old = service(type="ExternalName", externalName="example.com")
    kind.prepare_create(old)

    new = updated(kind, old, type="ClusterIP", externalName=None)
    finish = kind.begin_update(new, old)

    assert new["spec"]["clusterIPs"] == [new["spec"]["clusterIP"]]
    assert new["spec"]["ipFamilyPolicy"] == "SingleStack"
    assert kind.validate_update(new, old) == []
    assert kind.allocator.free == 252
    finish(False)
    assert kind.allocator.free == 253


def test_node_ports_are_allocated_per_port_number():
    kind = ServiceKind()
    svc = service(type="NodePort", ports=[
        {"port": 53, "name": "dns"}, {"port": 53, "name": "dns-udp",
                                      "protocol": "UDP"}, {"port": 80, "name": "web"}])

    kind.prepare_create(svc)

    numbers = [p["nodePort"] for p in svc["spec"]["ports"]]
    assert numbers[0] == numbers[1] != numbers[2]
    assert all(30000 <= n <= 32767 for n in numbers)
    assert kind.validate(svc) == []


@pytest.mark.parametrize("node_port,expected", [
    (31000, "spec.ports[0].nodePort: Invalid value: 31000: provided port is already "
            "allocated"),
    (80, "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the "
         "valid range. The range of valid ports is 30000-32767"),
], ids=["taken", "out-of-range"])
def test_requested_node_port_refused(node_port, expected):
    kind = ServiceKind()
    kind.prepare_create(service("first", type="NodePort",
                                ports=[{"port": 80, "nodePort": 31000}]))
    svc = service(type="NodePort", ports=[{"port": 80, "nodePort": node_port}])

    with pytest.raises(Invalid) as raised:
        kind.prepare_create(svc)

    assert messages(raised.value.errors) == [expected]
    assert kind.allocator.free == 252  # the second service's IP went back


def test_load_balancer_may_go_without_node_ports():
    kind = ServiceKind()
    svc = service(type="LoadBalancer", allocateLoadBalancerNodePorts=False)

    kind.prepare_create(svc)

    assert "nodePort" not in svc["spec"]["ports"][0]


def test_node_port_to_cluster_ip_gives_the_ports_back():
    kind = ServiceKind()
    old = service(type="NodePort", ports=[{"port": 80, "nodePort": 31000}])
    kind.prepare_create(old)

    new = updated(kind, old, type="ClusterIP")
    kind.begin_update(new, old)(True)

    assert new["spec"]["ports"] == [{"port": 80, "protocol": "TCP",
                                     "targetPort": 80}]
    assert "externalTrafficPolicy" not in new["spec"]
    assert kind.validate_update(new, old) == []
    kind.prepare_create(service("again", type="NodePort",
                                ports=[{"port": 80, "nodePort": 31000}]))


def test_resubmitted_node_port_service_keeps_its_ports():
    kind = ServiceKind()
    old = service(type="NodePort")
    kind.prepare_create(old)
    new = service(type="NodePort")
    new["metadata"] = copy.deepcopy(old["metadata"])

    kind.prepare_update(new, old)
    kind.begin_update(new, old)(True)

    assert new["spec"]["ports"] == old["spec"]["ports"]
    assert kind.allocations.ports.holds(old["spec"]["ports"][0]["nodePort"])


def test_cluster_ip_to_node_port_allocates_and_a_taken_port_is_refused():
    kind = ServiceKind()
    kind.prepare_create(service("first", type="NodePort",
                                ports=[{"port": 80, "nodePort": 31000}]))
    old = service()
    kind.prepare_create(old)

    taken = updated(kind, old, type="NodePort",
                    ports=[{"port": 80, "nodePort": 31000}])
    with pytest.raises(Invalid):
        kind.begin_update(taken, old)
    fresh = updated(kind, old, type="NodePort")
    kind.begin_update(fresh, old)(True)

    assert 30000 <= fresh["spec"]["ports"][0]["nodePort"] <= 32767


def test_restore_takes_back_node_ports():
    stored = service(type="NodePort", clusterIP="10.0.0.7",
                     ports=[{"port": 80, "nodePort": 31000}])
    ServiceKind().prepare_create(stored)
    kind = ServiceKind()

    kind.restore(stored)

    assert kind.allocations.ports.holds(31000)
    with pytest.raises(Invalid):
        kind.prepare_create(service("b", type="NodePort",
                                    ports=[{"port": 80, "nodePort": 31000}]))


def test_headless_node_port_is_refused():
    kind = ServiceKind()
    svc = service(type="NodePort", clusterIP="None")
    kind.prepare_create(svc)

    assert "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' " \
        "for NodePort services" in messages(kind.validate(svc))


# Printing and field selectors.

def test_row():
    kind = ServiceKind("10.0.0.0/24")
    svc = service(clusterIP="10.0.0.9",
                  ports=[{"port": 80}, {"port": 53, "protocol": "UDP",
                                        "name": "dns"}])
    svc["spec"]["ports"][0]["name"] = "http"
    kind.prepare_create(svc)
    svc["metadata"]["creationTimestamp"] = "2024-05-01T11:00:00Z"

    cells = [column.cell(svc) for column in kind.columns()]

    assert cells == ["web", "ClusterIP", "10.0.0.9", "<none>", "80/TCP,53/UDP",
                     "2024-05-01T11:00:00Z", "app=web"]


def test_load_balancer_without_ingress_is_pending():
    svc = service(type="LoadBalancer")
    svc["spec"]["ports"][0]["nodePort"] = 30080

    assert ServiceKind().columns()[3].cell(svc) == "<pending>"
    assert ServiceKind().columns()[4].cell(svc) == "80:30080/"


def test_column_definitions():
    columns = ServiceKind().columns()

    assert [(c.name, c.priority) for c in columns] == [
        ("Name", 0), ("Type", 0), ("Cluster-IP", 0), ("External-IP", 0),
        ("Port(s)", 0), ("Age", 0), ("Selector", 1)]


def test_field_values():
    kind = ServiceKind()
    svc = service(clusterIP="10.0.0.3")
    kind.prepare_create(svc)

    assert kind.field_values(svc) == {
        "metadata.name": "web", "metadata.namespace": "default",
        "spec.clusterIP": "10.0.0.3", "spec.type": "ClusterIP"}
