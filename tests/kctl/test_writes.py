"""create, apply, delete, label, annotate, patch against the real server."""

from __future__ import annotations

import json

import pytest

from tests.kctl.conftest import pod_manifest


def test_create_reports_each_object_and_keeps_going_after_a_failure(
        kctl, namespace, tmp_path):
    bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n  labels: a: b\n"
    path = tmp_path / "pods.yaml"
    path.write_text(pod_manifest("a") + "---\n" + bad + "---\n" + pod_manifest("c")
                    + "---\n" + pod_manifest("a"))

    done = kctl("create", "-n", namespace, "-f", str(path))

    assert done.code == 1
    assert done.out == "pod/a created\npod/c created\n"
    assert done.err == (
        f'error: error parsing "{path}" (document 2): yaml: line 15, column 12: '
        f"mapping values are not allowed in this context\n"
        f'Error from server (AlreadyExists): error when creating "{path}" '
        f'(document 4): pods "a" already exists\n')


@pytest.mark.parametrize("data, problem", [
    (b"\x89PNG\r\n\x1a\n\xca\xfe", "invalid UTF-8 at byte 0 (0x89)"),
    (b"kind: Pod\x00\n", "control characters are not allowed"),
], ids=["binary", "control-character"])
def test_a_file_that_is_not_text_is_one_line_naming_it(kctl, namespace, tmp_path,
                                                        data, problem):
    bad, good = tmp_path / "random.bin", tmp_path / "pod.yaml"
    bad.write_bytes(data)
    good.write_text(pod_manifest("after"))

    done = kctl("create", "-n", namespace, "-f", str(bad), "-f", str(good))

    assert (done.code, done.out) == (1, "pod/after created\n")
    assert done.err == (f'error: error parsing "{bad}": error converting YAML to '
                        f"JSON: yaml: {problem}\n")


def test_create_from_a_directory_json_and_list(kctl, namespace, tmp_path):
    (tmp_path / "one.json").write_text(json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one"}}))
    (tmp_path / "two.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: two}}\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: three}}\n")

    done = kctl("create", "-n", namespace, "-f", str(tmp_path))

    assert done.out == ("configmap/one created\nconfigmap/two created\n"
                        "configmap/three created\n")


def test_dry_runs_store_nothing(kctl, namespace):
    client = kctl("create", "-n", namespace, "-f", "-", "--dry-run=client",
                  stdin=pod_manifest("dry"))
    server = kctl("create", "-n", namespace, "-f", "-", "--dry-run=server",
                  "-o", "json", stdin=pod_manifest("dry"))

    assert client.out == "pod/dry created (dry run)\n"
    assert json.loads(server.out)["spec"]["restartPolicy"] == "Always"
    assert kctl("get", "pods", "-n", namespace).out == ""


def test_namespace_mismatch_is_refused(kctl, namespace):
    manifest = pod_manifest("x").replace("  name: x\n", "  name: x\n  namespace: other\n")

    done = kctl("create", "-n", namespace, "-f", "-", stdin=manifest)

    assert done.code == 1
    assert 'the namespace from the provided object "other" does not match' in done.err


def test_apply_creates_configures_and_leaves_unchanged(kctl, namespace, tmp_path):
    path = tmp_path / "pod.yaml"
    path.write_text(pod_manifest("web", app="one"))
    first = kctl("apply", "-n", namespace, "-f", str(path))
    again = kctl("apply", "-n", namespace, "-f", str(path))
    kctl("label", "pod", "web", "-n", namespace, "added-by-hand=yes")
    path.write_text(pod_manifest("web", app="two"))

    changed = kctl("apply", "-n", namespace, "-f", str(path))

    assert [first.out, again.out, changed.out] == [
        "pod/web created\n", "pod/web unchanged\n", "pod/web configured\n"]
    labels = json.loads(kctl("get", "pod", "web", "-n", namespace,
                             "-o", "jsonpath={.metadata.labels}").out)
    assert labels == {"app": "two", "added-by-hand": "yes"}


def test_apply_removes_what_the_manifest_no_longer_has(kctl, namespace, tmp_path):
    path = tmp_path / "pod.yaml"
    path.write_text(pod_manifest("web", app="one", tier="front"))
    kctl("apply", "-n", namespace, "-f", str(path))
    path.write_text(pod_manifest("web", app="one"))

    kctl("apply", "-n", namespace, "-f", str(path))

    labels = kctl("get", "pod", "web", "-n", namespace, "-o",
                  "jsonpath={.metadata.labels}").out
    assert json.loads(labels) == {"app": "one"}


def test_label_and_annotate_set_refuse_overwrite_and_remove(kctl, namespace):
    kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest("p", app="a"))

    set_ = kctl("label", "pod", "p", "-n", namespace, "tier=x")
    refused = kctl("label", "pods/p", "-n", namespace, "tier=y")
    forced = kctl("label", "pods/p", "-n", namespace, "tier=y", "--overwrite")
    removed = kctl("label", "pod", "p", "-n", namespace, "app-")
    noted = kctl("annotate", "pod", "p", "-n", namespace, "note=hello world")

    assert set_.out == "pod/p labeled\n"
    assert (refused.code, refused.err) == (
        1, "error: 'tier' already has a value (x), and --overwrite is false\n")
    assert forced.out == "pod/p labeled\n"
    assert removed.out == "pod/p unlabeled\n"
    assert noted.out == "pod/p annotated\n"
    meta = json.loads(kctl("get", "pod", "p", "-n", namespace, "-o", "json").out)
    assert meta["metadata"]["labels"] == {"tier": "y"}
    assert meta["metadata"]["annotations"] == {"note": "hello world"}


def test_patch_types(kctl, namespace):
    kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest("p", app="a"))

    strategic = kctl("patch", "pod", "p", "-n", namespace,
                     "-p", '{"metadata":{"labels":{"b":"2"}}}')
    merge = kctl("patch", "pod/p", "-n", namespace, "--type", "merge",
                 "-p", "metadata: {labels: {c: '3'}}")
    same = kctl("patch", "pod/p", "-n", namespace, "--type", "merge",
                "-p", '{"metadata":{"labels":{"c":"3"}}}')
    json_patch = kctl("patch", "pod", "p", "-n", namespace, "--type", "json",
                      "-p", '[{"op":"remove","path":"/metadata/labels/app"}]')

    assert strategic.out == merge.out == json_patch.out == "pod/p patched\n"
    assert same.out == "pod/p patched (no change)\n"
    labels = kctl("get", "pod", "p", "-n", namespace, "-o",
                  "jsonpath={.metadata.labels}").out
    assert json.loads(labels) == {"b": "2", "c": "3"}


def test_delete_forms(kctl, namespace, tmp_path):
    for name, app in (("a", "one"), ("b", "one"), ("c", "two"), ("d", "two"), ("e", "three")):
        kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest(name, app=app))
    path = tmp_path / "e.yaml"
    path.write_text(pod_manifest("e"))

    slash = kctl("delete", "pods/a", "pods/b", "-n", namespace)
    selector = kctl("delete", "pods", "-l", "app=two", "-n", namespace, "--now")
    from_file = kctl("delete", "-f", str(path), "-n", namespace)
    missing = kctl("delete", "pod", "zz", "-n", namespace)
    ignored = kctl("delete", "pod", "zz", "-n", namespace, "--ignore-not-found")

    assert slash.out == 'pod "a" deleted\npod "b" deleted\n'
    assert selector.out == 'pod "c" deleted\npod "d" deleted\n'
    assert from_file.out == 'pod "e" deleted\n'
    assert (missing.code, missing.err) == (
        1, 'Error from server (NotFound): pods "zz" not found\n')
    assert (ignored.code, ignored.out, ignored.err) == (0, "", "")
    assert kctl("get", "pods", "-n", namespace).out == ""


def test_delete_all_and_force(kctl, namespace):
    for name in ("a", "b"):
        kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest(name))

    done = kctl("delete", "pods", "--all", "--force", "-n", namespace)

    assert done.out == 'pod "a" force deleted\npod "b" force deleted\n'
    assert done.err.startswith("Warning: Immediate deletion does not wait")


def test_create_and_apply_ask_for_strict_field_validation(kctl, namespace):
    manifest = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
                "  bogus: 1\n")

    created = kctl("create", "-n", namespace, "-f", "-", stdin=manifest)
    applied = kctl("apply", "-n", namespace, "-f", "-", stdin=manifest)
    ignored = kctl("create", "-n", namespace, "-f", "-", "--validate=ignore",
                   stdin=manifest)

    strict = ('Error from server (BadRequest): error when creating "STDIN": '
              'ConfigMap in version "v1" cannot be handled as a ConfigMap: '
              'strict decoding error: unknown field "metadata.bogus"\n')
    assert (created.code, created.err) == (1, strict)
    assert (applied.code, applied.err) == (1, strict)
    assert (ignored.code, ignored.out) == (0, "configmap/cm created\n")


def test_apply_records_what_kubectl_records(kctl, kubectl, namespace):
    manifest = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
                "data:\n  a: '1'\n")
    kctl("apply", "-n", namespace, "-f", "-", stdin=manifest)

    again = kubectl("apply", "-n", namespace, "-f", "-", input=manifest)

    assert again.stdout == "configmap/cm unchanged\n"
    recorded = json.loads(kctl(
        "get", "cm", "cm", "-n", namespace, "-o", "jsonpath={.metadata.annotations."
        "kubectl\\.kubernetes\\.io/last-applied-configuration}").out)
    assert recorded["metadata"]["annotations"] == {}


def test_invalid_objects_are_named_as_kubectl_names_them(kctl, namespace):
    kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest("p"))

    done = kctl("annotate", "pod", "p", "-n", namespace, "bad key=1")

    assert done.code == 1
    assert done.err.startswith('The Pod "p" is invalid: metadata.annotations: '
                               'Invalid value: "bad key": ')
    assert len(done.err.splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["-p", "{bad"], 'unable to parse "{bad": yaml: line 2, column 1: '
     "did not find expected ',' or '}'"),
    (["--type", "bogus", "-p", "{}"],
     '--type must be one of [json merge strategic], not "bogus"'),
], ids=["malformed", "unknown-type"])
def test_patch_usage_errors_are_one_line(kctl, namespace, args, message):
    done = kctl("patch", "pod", "p", "-n", namespace, *args)

    assert (done.code, done.err) == (2, f"error: {message}\n")


def test_delete_all_with_a_selector_is_refused(kctl, namespace):
    done = kctl("delete", "pods", "--all", "-l", "app=x", "-n", namespace)

    assert (done.code, done.err) == (
        2, "error: setting 'all' parameter but found a non empty selector.\n")


def test_delete_type_then_several_names(kctl, kubectl, namespace):
    for name in ("a", "b", "c"):
        kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest(name))

    done = kctl("delete", "pod", "a", "b", "-n", namespace)

    assert (done.code, done.out, done.err) == (
        0, 'pod "a" deleted\npod "b" deleted\n', "")
    assert kctl("get", "pods", "-n", namespace, "-o", "name").out == "pod/c\n"


def test_delete_grace_period_is_sent_to_the_server(kctl, namespace):
    # Bound to a node that does not exist, the pod stays while terminating:
    # no kubelet confirms it stopped.
    kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest("slow").replace(
        "spec:\n", "spec:\n  nodeName: no-such-node\n"))

    done = kctl("delete", "pod", "slow", "-n", namespace, "--grace-period=45",
                "--wait=false")

    assert (done.code, done.out) == (0, 'pod "slow" deleted\n')
    kept = kctl("get", "pod", "slow", "-n", namespace, "-o",
                "jsonpath={.metadata.deletionGracePeriodSeconds}")
    assert kept.out == "45"


def test_annotate_key_dash_removes_the_annotation_as_kubectl(kctl, kubectl,
                                                             namespace):
    kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest("p"))
    kctl("annotate", "pod", "p", "-n", namespace, "note=x", "keep=y")

    ours = kctl("annotate", "pod", "p", "-n", namespace, "note-")
    theirs = kubectl("annotate", "pod", "p", "-n", namespace, "keep-")

    assert (ours.code, ours.out, ours.err) == (0, "pod/p annotated\n", "")
    assert theirs.stdout == ours.out
    annotations = kctl("get", "pod", "p", "-n", namespace, "-o",
                       "jsonpath={.metadata.annotations}")
    assert annotations.out == ""


UNKNOWN_FIELD = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
                 "bogus: 1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                 "  name: {name}-2\nbogus: 1\n")


def test_create_validate_warn_prints_each_distinct_warning_once_as_kubectl(
        kctl, kubectl, namespace):
    ours = kctl("create", "-n", namespace, "-f", "-", "--validate=warn",
                stdin=UNKNOWN_FIELD.format(name="ours"))
    theirs = kubectl("create", "-n", namespace, "-f", "-", "--validate=warn",
                     input=UNKNOWN_FIELD.format(name="theirs"))

    assert (ours.code, ours.out) == (
        0, "configmap/ours created\nconfigmap/ours-2 created\n")
    assert ours.err == 'Warning: unknown field "bogus"\n'
    assert theirs.stderr == ours.err


def test_patch_prints_the_servers_warning_as_kubectl(kctl, kubectl, namespace):
    kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest("p"))
    patch = '{"metadata":{"labels":{"a":"1"}},"spec":{"bogus":1}}'

    ours = kctl("patch", "pod", "p", "-n", namespace, "--type", "merge", "-p", patch)
    theirs = kubectl("patch", "pod", "p", "-n", namespace, "--type", "merge",
                     "-p", patch.replace('"1"', '"2"'))

    assert (ours.code, ours.out) == (0, "pod/p patched\n")
    assert ours.err == 'Warning: unknown field "spec.bogus"\n'
    assert theirs.stderr == ours.err
