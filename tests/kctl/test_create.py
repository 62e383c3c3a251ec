"""kctl create -f: sources (URLs, directories walked with -R) and -o formats,
compared with kubectl where its output can be had without a second object."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from tests.kctl.conftest import pod_manifest


def _config_map(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


@pytest.fixture
def manifest_site(tmp_path):
    """An http server on 127.0.0.1 serving ``tmp_path/site``, in a thread."""
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def test_create_from_a_url_creates_what_it_serves(kctl, kubectl, namespace,
                                                   manifest_site):
    root, url = manifest_site
    (root / "pod.yaml").write_text(pod_manifest("fetched"))

    ours = kctl("create", "-n", namespace, "-f", f"{url}/pod.yaml")
    theirs = kubectl("create", "-n", namespace, "--dry-run=client", "-f",
                     f"{url}/pod.yaml")

    assert (ours.code, ours.out, ours.err) == (0, "pod/fetched created\n", "")
    assert theirs.stdout == "pod/fetched created (dry run)\n"
    assert kctl("get", "pods", "-n", namespace, "-o", "name").out == "pod/fetched\n"


def test_create_recursive_walks_nested_directories_in_kubectls_order(
        kctl, kubectl, namespace, tmp_path):
    (tmp_path / "m" / "deeper").mkdir(parents=True)
    (tmp_path / "a.yaml").write_text(_config_map("a"))
    (tmp_path / "m" / "b.yml").write_text(_config_map("b"))
    (tmp_path / "m" / "deeper" / "c.json").write_text(
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}')
    (tmp_path / "m" / "notes.txt").write_text("not a manifest")
    (tmp_path / "z.yaml").write_text(_config_map("z"))

    ours = kctl("create", "-n", namespace, "-R", "-f", str(tmp_path))
    theirs = kubectl("create", "-n", namespace, "--dry-run=client", "-R", "-f",
                     str(tmp_path))

    assert (ours.code, ours.err) == (0, "")
    assert ours.out == ("configmap/a created\nconfigmap/b created\n"
                        "configmap/c created\nconfigmap/z created\n")
    assert theirs.stdout.replace(" (dry run)", "") == ours.out


def test_create_output_name_prints_type_slash_name(kctl, kubectl, namespace):
    ours = kctl("create", "-n", namespace, "-f", "-", "-o", "name",
                stdin=pod_manifest("named"))
    theirs = kubectl("create", "-n", namespace, "-f", "-", "-o", "name",
                     "--dry-run=client", input=pod_manifest("named"))

    assert (ours.code, ours.out, ours.err) == (0, "pod/named\n", "")
    assert theirs.stdout == ours.out


def test_create_output_yaml_prints_the_stored_object_as_kubectl_would(
        kctl, kubectl, namespace):
    ours = kctl("create", "-n", namespace, "-f", "-", "-o", "yaml",
                stdin=pod_manifest("shown"))

    theirs = kubectl("get", "pod", "shown", "-n", namespace, "-o", "yaml")
    assert (ours.code, ours.err) == (0, "")
    assert ours.out == theirs.stdout
