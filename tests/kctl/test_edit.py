"""kctl edit: the object goes through $EDITOR and back to the server."""

from __future__ import annotations

import json
import sys

import pytest

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
