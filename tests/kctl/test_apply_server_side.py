"""kctl apply --server-side: the server merges, kctl reports as kubectl does."""

from __future__ import annotations

import json

import pytest

CM = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
      "data:\n  a: '1'\n  b: '2'\n")


def data(kctl, namespace) -> dict:
    return json.loads(kctl("get", "cm", "cm", "-n", namespace, "-o",
                           "jsonpath={.data}").out)


def test_server_side_apply_creates_updates_and_removes(kctl, namespace):
    first = kctl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=CM)
    second = kctl("apply", "--server-side", "-n", namespace, "-f", "-",
                  stdin=CM.replace("  b: '2'\n", ""))

    assert (first.code, first.out) == (0, "configmap/cm serverside-applied\n")
    assert (second.code, second.out) == (0, "configmap/cm serverside-applied\n")
    assert data(kctl, namespace) == {"a": "1"}
    stored = json.loads(kctl("get", "cm", "cm", "-n", namespace, "-o",
                             "json", "--show-managed-fields").out)
    assert [e["manager"] for e in stored["metadata"]["managedFields"]] == ["kubectl"]


def test_a_conflict_is_reported_and_forced(kctl, namespace):
    kctl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=CM)
    changed = CM.replace("'1'", "'9'")

    refused = kctl("apply", "--server-side", "--field-manager", "ci", "-n",
                   namespace, "-f", "-", stdin=changed)
    forced = kctl("apply", "--server-side", "--field-manager", "ci",
                  "--force-conflicts", "-n", namespace, "-f", "-", stdin=changed)

    assert refused.code == 1 and refused.out == ""
    assert refused.err.startswith(
        'error: Apply failed with 1 conflict: conflict with "kubectl": .data.a\n')
    assert "--force-conflicts" in refused.err
    assert forced.code == 0
    assert data(kctl, namespace) == {"a": "9", "b": "2"}


def test_kctl_and_kubectl_share_the_manager(kctl, kubectl, namespace):
    kctl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=CM)

    again = kubectl("apply", "--server-side", "-n", namespace, "-f", "-",
                    input=CM.replace("'1'", "'3'"))

    assert (again.returncode, again.stdout) == (
        0, "configmap/cm serverside-applied\n")
    assert data(kctl, namespace) == {"a": "3", "b": "2"}


def test_server_side_dry_run_and_output(kctl, namespace):
    dry = kctl("apply", "--server-side", "--dry-run=server", "-n", namespace,
               "-f", "-", stdin=CM)
    named = kctl("apply", "--server-side", "-o", "name", "-n", namespace, "-f",
                 "-", stdin=CM)

    assert dry.out == "configmap/cm serverside-applied (server dry run)\n"
    assert named.out == "configmap/cm\n"


def test_an_invalid_object_is_named(kctl, namespace):
    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
           "  containers: [{name: c}]\n")

    done = kctl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=pod)

    assert done.code == 1
    assert done.err == ('The Pod "p" is invalid: spec.containers[0].image: '
                        "Required value\n")


@pytest.mark.parametrize("args, line", [
    (["--force-conflicts"], "error: --force-conflicts only works with --server-side"),
    (["--server-side", "--dry-run=client"],
     "error: --dry-run=client doesn't work with --server-side (did you mean "
     "--dry-run=server instead?)"),
], ids=["force-without-server-side", "client-dry-run"])
def test_flag_mistakes_are_kubectls_lines(kctl, kubectl, namespace, args, line):
    done = kctl("apply", *args, "-n", namespace, "-f", "-", stdin=CM)
    theirs = kubectl("apply", *args, "-n", namespace, "-f", "-", input=CM)

    assert done.code == 1 and done.err == line + "\n"
    assert theirs.stderr == done.err and theirs.returncode == 1


def test_get_hides_managed_fields_unless_asked(kctl, kubectl, namespace):
    kctl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=CM)

    hidden = kctl("get", "cm", "cm", "-n", namespace, "-o", "yaml")
    shown = kctl("get", "cm", "-n", namespace, "-o", "json", "--show-managed-fields")
    theirs = kubectl("get", "cm", "cm", "-n", namespace, "-o", "yaml")

    assert "managedFields" not in hidden.out and "managedFields" not in theirs.stdout
    assert hidden.out == theirs.stdout
    items = json.loads(shown.out)["items"]
    assert items[0]["metadata"]["managedFields"][0]["manager"] == "kubectl"
