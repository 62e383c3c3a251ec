"""kctl replace -f against the session server, each case run by kubectl too in
a namespace of its own and compared line by line."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.conftest import KUBECTL, run_kubectl

CONFIG_MAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}{version}
data:
  key: "{value}"
"""


def config_map(name: str = "settings", value: str = "1", version: str = "") -> str:
    version = f'\n  resourceVersion: "{version}"' if version else ""
    return CONFIG_MAP.format(name=name, value=value, version=version)


@pytest.fixture
def theirs_namespace(api_server) -> str:
    """A second namespace, where kubectl does what kctl did in the first."""
    if KUBECTL is None:
        pytest.skip("kubectl is not on PATH")
    name = "kubectl-" + uuid.uuid4().hex[:8]
    response = requests.post(api_server.url + "/api/v1/namespaces", timeout=10, json={
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert response.status_code == 201, response.text
    return name


@pytest.fixture
def both(kctl, api_server, namespace, theirs_namespace, tmp_path):
    """Run one step with kctl in ``namespace`` and kubectl in the other; give
    (code, out, err) of each, kubectl's with its namespace read as ours."""

    def run(*args: str, manifest: str | None = None):
        files = []
        if manifest is not None:
            path = tmp_path / "manifest.yaml"
            path.write_text(manifest)
            files = ["-f", str(path)]
        ours = kctl("-n", namespace, *args, *files)
        theirs = run_kubectl(api_server, "-n", theirs_namespace, *args, *files)
        return (ours.code, ours.out, ours.err), (
            theirs.returncode, theirs.stdout.replace(theirs_namespace, namespace),
            theirs.stderr.replace(theirs_namespace, namespace).replace(
                "kubectl", "kctl"))

    return run


def stored(api_server, namespace: str, name: str = "settings") -> dict:
    return requests.get(f"{api_server.url}/api/v1/namespaces/{namespace}/"
                        f"configmaps/{name}", timeout=10).json()


def test_replace_puts_the_file_over_the_object(both, api_server, namespace):
    both("create", manifest=config_map())

    ours, theirs = both("replace", manifest=config_map(value="2"))

    assert ours == theirs == (0, "configmap/settings replaced\n", "")
    assert stored(api_server, namespace)["data"] == {"key": "2"}


def test_replacing_a_missing_object_is_kubectls_not_found_line(both, tmp_path):
    ours, theirs = both("replace", manifest=config_map())

    assert ours == theirs == (
        1, "", f'Error from server (NotFound): error when replacing '
               f'"{tmp_path / "manifest.yaml"}": configmaps "settings" not found\n')


def test_a_stale_resource_version_is_kubectls_conflict_line(both, api_server,
                                                             namespace, tmp_path):
    both("create", manifest=config_map())
    both("replace", manifest=config_map(value="2"))
    first = stored(api_server, namespace)["metadata"]["resourceVersion"]

    # The resourceVersion the object was created with is no longer current.
    ours, theirs = both("replace", manifest=config_map(value="3",
                                                       version=str(int(first) - 1)))

    assert ours == theirs == (
        1, "", f'Error from server (Conflict): error when replacing '
               f'"{tmp_path / "manifest.yaml"}": Operation cannot be fulfilled on '
               f'configmaps "settings": the object has been modified; please apply '
               f'your changes to the latest version and try again\n')
    assert stored(api_server, namespace)["data"] == {"key": "2"}


def test_force_deletes_and_creates_again(both, api_server, namespace):
    both("create", manifest=config_map())
    before = stored(api_server, namespace)["metadata"]["uid"]

    ours, theirs = both("replace", "--force",
                        manifest=config_map(value="2", version="1"))

    assert ours == theirs == (
        0, 'configmap "settings" deleted\nconfigmap/settings replaced\n', "")
    after = stored(api_server, namespace)
    assert after["metadata"]["uid"] != before
    assert after["data"] == {"key": "2"}


def test_force_creates_a_missing_object_without_a_deleted_line(both):
    ours, theirs = both("replace", "--force", "-o", "name", manifest=config_map())

    assert ours == theirs == (0, "configmap/settings\n", "")


@pytest.mark.parametrize("dry_run, line", [
    ("client", "configmap/settings replaced (dry run)\n"),
    ("server", "configmap/settings replaced (server dry run)\n"),
], ids=["client", "server"])
def test_dry_run_changes_nothing(both, api_server, namespace, dry_run, line):
    both("create", manifest=config_map())

    ours, theirs = both("replace", f"--dry-run={dry_run}",
                        manifest=config_map(value="2"))

    assert ours == theirs == (0, line, "")
    assert stored(api_server, namespace)["data"] == {"key": "1"}


@pytest.mark.parametrize("args, err", [
    ([], "error: must specify one of -f and -k\n"),
    (["--force", "--dry-run=server", "-f", "-"],
     "error: --dry-run can not be used when --force is set\n"),
], ids=["no-file", "force-and-dry-run"])
def test_refused_lines_are_kubectls(both, args, err):
    ours, theirs = both("replace", *args)

    assert ours == theirs == (1, "", err)


def test_each_document_is_replaced_or_reported_on_its_own(kctl, namespace,
                                                          tmp_path):
    path = tmp_path / "two.yaml"
    kctl("create", "-n", namespace, "-f", "-", stdin=config_map("first"))
    path.write_text(config_map("first", "2") + "---\n" + config_map("second"))

    done = kctl("replace", "-n", namespace, "-f", str(path))

    # kctl names the document too, as create does (docs/cli.md).
    assert (done.code, done.out) == (1, "configmap/first replaced\n")
    assert done.err == (f'Error from server (NotFound): error when replacing '
                        f'"{path}" (document 2): configmaps "second" not found\n')
