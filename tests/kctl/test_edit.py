"""kctl edit: the object goes through $EDITOR and back to the server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

import pytest

from tests.conftest import KUBECTL

CONFIGMAP = ('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},'
             ' "data": {"a": "1"}}')


@pytest.fixture
def editor(tmp_path, monkeypatch):
    """Sets $EDITOR to a script that runs ``code`` on the file's text."""

    def use(code: str) -> None:
        script = tmp_path / "editor.py"
        script.write_text("import sys\npath = sys.argv[1]\ntext = open(path).read()\n"
                          f"{code}\nopen(path, 'w').write(text)\n")
        monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
        monkeypatch.delenv("KUBE_EDITOR", raising=False)

    return use


def test_edit_sends_the_changed_object_back(kctl, namespace, editor):
    kctl("create", "-n", namespace, "-f", "-", stdin=CONFIGMAP)
    editor("text = text.replace('a: \"1\"', 'a: \"2\"')")

    done = kctl("edit", "cm", "cm", "-n", namespace)

    assert (done.code, done.out) == (0, "configmap/cm edited\n")
    data = kctl("get", "cm/cm", "-n", namespace, "-o", "jsonpath={.data}").out
    assert json.loads(data) == {"a": "2"}


def test_edit_without_a_change_is_cancelled(kctl, namespace, editor):
    kctl("create", "-n", namespace, "-f", "-", stdin=CONFIGMAP)
    editor("")

    done = kctl("edit", "cm/cm", "-n", namespace)

    assert (done.code, done.out, done.err) == (
        0, "", "Edit cancelled, no changes made.\n")


@pytest.mark.parametrize("command", ["false", "/no/such/editor"],
                         ids=["fails", "missing"])
def test_a_failing_editor_is_one_line(kctl, namespace, monkeypatch, command):
    kctl("create", "-n", namespace, "-f", "-", stdin=CONFIGMAP)
    monkeypatch.setenv("EDITOR", command)
    monkeypatch.delenv("KUBE_EDITOR", raising=False)

    done = kctl("edit", "cm", "cm", "-n", namespace)

    assert (done.code, done.err) == (
        1, f'error: there was a problem with the editor "{command}"\n')


def _kubectl_edit(api_server, tmp_path, *args: str):
    """kubectl edit with the same $EDITOR, its copies kept under tmp_path."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
           "KUBECONFIG": os.devnull, "EDITOR": os.environ["EDITOR"],
           "TMPDIR": str(tmp_path / "kubectl-tmp")}
    os.makedirs(env["TMPDIR"], exist_ok=True)
    return subprocess.run([KUBECTL, "-s", api_server.url, "edit", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def _copies(directory) -> list:
    return sorted(p for p in directory.iterdir() if p.name.endswith(".yaml")
                  and "-edit-" in p.name)


@pytest.fixture
def kept(tmp_path, monkeypatch):
    """Where kctl keeps its copies in the test: a directory of its own."""
    directory = tmp_path / "kctl-tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def _with_path(text: str, path) -> str:
    return re.sub(r'stored to "[^"]+"', f'stored to "{path}"', text)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_broken_yaml_is_reopened_then_given_up_as_kubectl(
        kctl, api_server, namespace, editor, kept, tmp_path):
    kctl("create", "-n", namespace, "-f", "-", stdin=CONFIGMAP)
    # Breaks the file once; saved again unchanged after the error is shown.
    editor("text = text if 'data: [' in text else text.replace('data:\\n', "
           "'data: [\\n', 1)")

    ours = kctl("edit", "cm", "cm", "-n", namespace)
    theirs = _kubectl_edit(api_server, tmp_path, "cm", "cm", "-n", namespace)

    [copy] = _copies(kept)
    assert (ours.code, ours.out) == (theirs.returncode, theirs.stdout) == (1, "")
    assert ours.err == (
        'error: configmaps "cm" is invalid\n'
        f'A copy of your changes has been stored to "{copy}"\n'
        "error: Edit cancelled, no valid changes were saved.\n")
    assert _with_path(theirs.stderr, copy) == ours.err
    assert "# * <nil>: Invalid value: \"The edited file failed validation\": yaml: " \
           "line 3: did not find expected ',' or ']'\n" in copy.read_text()
    assert "data: [\n" in copy.read_text()


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
@pytest.mark.parametrize("change", [
    "text.replace('kind: ConfigMap', 'kind: Secret', 1)",
    "text.replace('name: cm', 'name: other', 1)",
], ids=["kind", "name"])
def test_changing_kind_or_name_is_refused_locally_as_kubectl(
        kctl, api_server, namespace, editor, kept, tmp_path, change):
    kctl("create", "-n", namespace, "-f", "-", stdin=CONFIGMAP)
    editor(f"text = {change}")

    ours = kctl("edit", "cm", "cm", "-n", namespace)
    theirs = _kubectl_edit(api_server, tmp_path, "cm", "cm", "-n", namespace)

    [copy] = _copies(kept)
    assert (ours.code, ours.out) == (theirs.returncode, theirs.stdout) == (1, "")
    assert ours.err == (f'A copy of your changes has been stored to "{copy}"\n'
                        "error: At least one of apiVersion, kind and name was "
                        "changed\n")
    assert _with_path(theirs.stderr, copy) == ours.err
    assert kctl("get", "cm", "cm", "-n", namespace, "-o", "name").out == \
        "configmap/cm\n"


def test_an_unknown_field_is_refused_as_kubectl_refuses_it(kctl, namespace, editor):
    kctl("create", "-n", namespace, "-f", "-", stdin=CONFIGMAP)
    editor("text = text + 'bogus: 1\\n'")

    done = kctl("edit", "cm", "cm", "-n", namespace)

    assert done.code == 1 and done.out == ""
    first, second = done.err.splitlines()
    assert first.startswith('error: configmaps "cm" could not be patched: ')
    assert first.endswith('strict decoding error: unknown field "bogus"')
    assert second.startswith("You can run `kctl replace -f ")
    data = kctl("get", "cm/cm", "-n", namespace, "-o", "jsonpath={.data}").out
    assert json.loads(data) == {"a": "1"}
