"""kctl get --raw: the server's body byte for byte, and kubectl's error lines."""

from __future__ import annotations

import pytest
import requests

from kctl.client import error_from
from kctl.main import server_error_line
from tests.kctl.conftest import pod_manifest


def test_raw_version_is_the_body_as_sent(kctl, kubectl, api_server):
    body = requests.get(api_server.url + "/version", timeout=10).text

    ours = kctl("get", "--raw", "/version")
    theirs = kubectl("get", "--raw", "/version")

    assert (ours.code, ours.out, ours.err) == (0, body, "")
    assert ours.out == theirs.stdout
    assert not ours.out.endswith("\n")


def test_raw_list_keeps_its_query(kctl, kubectl, namespace):
    for name in ("a", "b"):
        kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest(name))
    pods = f"/api/v1/namespaces/{namespace}/pods"

    whole = kctl("get", "--raw", pods)
    first = kctl("get", f"--raw={pods}?limit=1")

    assert whole.code == first.code == 0
    assert whole.out == kubectl("get", "--raw", pods).stdout
    assert first.out == kubectl("get", "--raw", f"{pods}?limit=1").stdout
    assert '"name":"a"' in first.out and '"name":"b"' not in first.out
    assert '"continue":' in first.out


@pytest.mark.parametrize("path, err", [
    ("/nope", "Error from server (NotFound): the server could not find the "
              "requested resource\n"),
    ("/api/v1/namespaces/default/pods/nope",
     'Error from server (NotFound): pods "nope" not found\n'),
], ids=["no-such-path", "no-such-pod"])
def test_raw_not_found_is_kubectls_line(kctl, kubectl, path, err):
    ours = kctl("get", "--raw", path)
    theirs = kubectl("get", "--raw", path)

    assert (ours.code, ours.out, ours.err) == (1, "", err)
    assert (theirs.returncode, theirs.stderr) == (1, err)


@pytest.mark.parametrize("args, err", [
    (["pods", "--raw", "/version"],
     "error: arguments may not be passed when --raw is specified\n"),
    (["--raw", "/version", "-o", "yaml"],
     "error: --raw and --output are mutually exclusive\n"),
    (["--raw", "version"], 'error: --raw must be a valid URL path: parse "version": '
                           "invalid URI for request\n"),
], ids=["with-arguments", "with-output", "relative-path"])
def test_raw_misuse_fails_as_in_kubectl(kctl, kubectl, args, err):
    ours = kctl("get", *args)
    theirs = kubectl("get", *args)

    assert (ours.code, ours.out, ours.err) == (1, "", err)
    assert (theirs.returncode, theirs.stderr) == (1, err)


def test_a_404_without_a_status_is_named_not_found_as_client_go_does():
    line = server_error_line(error_from(404, b"404 page not found\n"))

    assert line == ("Error from server (NotFound): the server could not find the "
                    "requested resource")
