"""EndpointSlices."""

import pytest

from server.registry.discovery import EndpointSliceKind

KIND = EndpointSliceKind()


def endpoint_slice(address_type="IPv4", endpoints=(), ports=(), **meta) -> dict:
    return {"metadata": {"name": "web-abc12", "namespace": "default", **meta},
            "addressType": address_type,
            "endpoints": [dict(e) for e in endpoints],
            "ports": [dict(p) for p in ports]}


def messages(errs) -> list[str]:
    return [str(e) for e in errs]


def test_group_and_names():
    assert KIND.api_version == "discovery.k8s.io/v1"
    assert (KIND.resource, KIND.singular, KIND.short_names) == (
        "endpointslices", "endpointslice", ())
    assert KIND.namespaced and KIND.has_generation and not KIND.subresources


def test_defaults_port_name_and_protocol_and_drops_topology():
    obj = endpoint_slice(endpoints=[{"addresses": ["10.1.0.1"],
                                     "deprecatedTopology": {"a": "b"}}],
                         ports=[{"port": 80}, {"name": "dns", "protocol": "UDP"}])

    KIND.prepare_create(obj)

    assert obj["ports"] == [{"port": 80, "name": "", "protocol": "TCP"},
                            {"name": "dns", "protocol": "UDP"}]
    assert obj["endpoints"] == [{"addresses": ["10.1.0.1"]}]


def test_valid_slice():
    obj = endpoint_slice(
        endpoints=[{"addresses": ["10.1.0.1"], "nodeName": "node1",
                    "hostname": "web-0", "conditions": {"ready": True},
                    "hints": {"forZones": [{"name": "zone-a"}]}}],
        ports=[{"name": "http", "port": 80, "protocol": "TCP",
                "appProtocol": "kubernetes.io/h2c"}],
        labels={"kubernetes.io/service-name": "web"})

    assert KIND.validate(obj) == []


@pytest.mark.parametrize("address_type,expected", [
    ("", ["addressType: Required value"]),
    ("IP", ['addressType: Unsupported value: "IP": supported values: "FQDN", '
            '"IPv4", "IPv6"']),
], ids=["missing", "unsupported"])
def test_address_type(address_type, expected):
    assert messages(KIND.validate(endpoint_slice(address_type))) == expected


@pytest.mark.parametrize("address_type,address,expected", [
    ("IPv4", "10.1.0.1", []),
    ("IPv4", "127.0.0.1", []),  # loopback is allowed: kctl's pods use it
    ("IPv4", "nope", ['"nope": must be a valid IPv4 address',
                      '"nope": must be a valid IP address']),
    ("IPv4", "fd00::1", ['"fd00::1": must be a valid IPv4 address']),
    ("IPv4", "0.0.0.0", ['"0.0.0.0": may not be unspecified (0.0.0.0)']),
    ("IPv4", "169.254.1.1", ['"169.254.1.1": may not be in the link-local range '
                             "(169.254.0.0/16, fe80::/10)"]),
    ("IPv4", "224.0.0.5", ['"224.0.0.5": may not be in the link-local multicast '
                           "range (224.0.0.0/24, ff02::/10)"]),
    ("IPv6", "fd00::1", []),
    ("IPv6", "10.1.0.1", ['"10.1.0.1": must be a valid IPv6 address']),
    ("FQDN", "web.example.com.", []),
    ("FQDN", "web", ['"web": should be a domain with at least two segments '
                     "separated by dots"]),
    ("FQDN", "Web.example.com", [
        '"Web.example.com": a lowercase RFC 1123 subdomain must consist of lower '
        "case alphanumeric characters, '-' or '.', and must start and end with "
        "an alphanumeric character (e.g. 'example.com', regex used for "
        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
        "[a-z0-9])?)*')"]),
], ids=["ipv4", "loopback", "not-ip", "ipv6-in-ipv4", "unspecified",
        "link-local", "link-local-multicast", "ipv6", "ipv4-in-ipv6", "fqdn",
        "one-label", "upper-case"])
def test_addresses_follow_the_address_type(address_type, address, expected):
    obj = endpoint_slice(address_type, endpoints=[{"addresses": [address]}])

    assert messages(KIND.validate(obj)) == [
        f"endpoints[0].addresses[0]: Invalid value: {m}" for m in expected]


def test_address_count():
    obj = endpoint_slice(endpoints=[
        {"addresses": []},
        {"addresses": [f"10.1.0.{i}" for i in range(1, 102)]}])

    assert messages(KIND.validate(obj)) == [
        "endpoints[0].addresses: Required value: must contain at least 1 address",
        "endpoints[1].addresses: Too many: 101: must have at most 100 items"]


def test_endpoint_fields():
    obj = endpoint_slice(endpoints=[{
        "addresses": ["10.1.0.1"], "nodeName": "Node_1", "hostname": "web.0",
        "hints": {"forZones": [{"name": "a"}, {"name": "a"}, {"name": "-b"}]}}])

    assert messages(KIND.validate(obj)) == [
        'endpoints[0].nodeName: Invalid value: "Node_1": a lowercase RFC 1123 '
        "subdomain must consist of lower case alphanumeric characters, '-' or "
        "'.', and must start and end with an alphanumeric character (e.g. "
        "'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*"
        "[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        'endpoints[0].hostname: Invalid value: "web.0": must not contain dots',
        'endpoints[0].hints.forZones[1].name: Duplicate value: "a"',
        'endpoints[0].hints.forZones[2].name: Invalid value: "-b": a valid label '
        "must be an empty string or consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character (e.g. "
        "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]


def test_ports():
    obj = endpoint_slice(ports=[
        {"name": "http", "port": 80, "protocol": "TCP"},
        {"name": "http", "port": 81, "protocol": "ICMP"},
        {"name": "Web", "port": 82},
        {"name": "", "protocol": "TCP", "appProtocol": "not valid"}])

    assert messages(KIND.validate(obj)) == [
        'ports[1].name: Duplicate value: "http"',
        'ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", '
        '"TCP", "UDP"',
        'ports[2].name: Invalid value: "Web": a lowercase RFC 1123 label must '
        "consist of lower case alphanumeric characters or '-', and must start "
        "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        "ports[2].protocol: Required value",
        'ports[3].appProtocol: Invalid value: "not valid": name part must consist '
        "of alphanumeric characters, '-', '_' or '.', and must start and end "
        "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
        "'123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]


def test_service_name_label_is_a_label_value():
    obj = endpoint_slice(labels={"kubernetes.io/service-name": "web!"})

    assert messages(KIND.validate(obj))[0].startswith(
        'metadata.labels: Invalid value: "web!": a valid label must be')


def test_address_type_is_immutable_and_old_endpoints_are_not_checked_again():
    old = endpoint_slice(endpoints=[{"addresses": ["10.1.0.1"]}])
    new = endpoint_slice("IPv6", endpoints=[{"addresses": ["10.1.0.1"]}])

    assert messages(KIND.validate_update(new, old)) == [
        'addressType: Invalid value: "IPv6": field is immutable']


TABLE_CASES = [
    ([], [], "<unset>", "<unset>"),
    ([{"port": 80}], [{"addresses": ["10.1.0.1"]}], "80", "10.1.0.1"),
    ([{"name": "http"}, {}], [{"addresses": ["10.1.0.1", "10.1.0.2"]}],
     "http,*", "10.1.0.1,10.1.0.2"),
    ([{"port": p} for p in (80, 81, 82, 83, 84)],
     [{"addresses": [f"10.1.0.{i}"]} for i in range(1, 6)],
     "80,81,82 + 2 more...", "10.1.0.1,10.1.0.2,10.1.0.3 + 2 more..."),
]


@pytest.mark.parametrize("ports,endpoints,ports_cell,endpoints_cell", TABLE_CASES,
                         ids=["empty", "one", "unnamed-and-all-ports", "many"])
def test_columns(ports, endpoints, ports_cell, endpoints_cell):
    obj = endpoint_slice(endpoints=endpoints, ports=ports)
    columns = KIND.columns()

    assert [c.name for c in columns] == [
        "Name", "AddressType", "Ports", "Endpoints", "Age"]
    assert [c.cell(obj) for c in columns[:4]] == [
        "web-abc12", "IPv4", ports_cell, endpoints_cell]
