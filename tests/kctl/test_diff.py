"""kctl diff -f: the same hunks and exit codes as kubectl diff."""

from __future__ import annotations

import pytest

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: '{a}'\n"
SECRET = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
          "stringData:\n  password: {password}\n  same: x\n")
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 0
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: "{image}", command: [sleep, "1"]}}]
"""


def hunks(text: str) -> list[str]:
    """The diff without the lines naming the temporary files."""
    return [line for line in text.splitlines()
            if not line.startswith(("diff ", "--- ", "+++ "))]


def both(kctl, kubectl, namespace, manifest, *flags):
    ours = kctl("diff", "-n", namespace, "-f", "-", *flags, stdin=manifest)
    theirs = kubectl("diff", "-n", namespace, "-f", "-", *flags, input=manifest)
    return ours, theirs


@pytest.mark.parametrize("server_side", [[], ["--server-side"]],
                         ids=["client-side", "server-side"])
def test_changes_new_objects_and_no_changes(kctl, kubectl, namespace, server_side):
    kctl("apply", "-n", namespace, "-f", "-", stdin=CM.format(name="cm", a=1))
    cases = [CM.format(name="cm", a=1), CM.format(name="cm", a=2),
             CM.format(name="fresh", a=1)]
    for manifest in cases:
        ours, theirs = both(kctl, kubectl, namespace, manifest, *server_side)

        assert ours.code == theirs.returncode, (manifest, ours.err, theirs.stderr)
        assert hunks(ours.out) == hunks(theirs.stdout) or _only_uid_differs(
            ours.out, theirs.stdout), manifest
    assert kctl("get", "cm", "fresh", "-n", namespace).code == 1  # not created


def _only_uid_differs(a: str, b: str) -> bool:
    # A dry-run create gets a new uid and timestamp on each request.
    keep = [(x, y) for x, y in zip(hunks(a), hunks(b))
            if not any(k in x for k in ("uid:", "creationTimestamp:"))]
    return len(hunks(a)) == len(hunks(b)) and all(x == y for x, y in keep)


def test_a_deployment_image_change(kctl, kubectl, namespace):
    kctl("apply", "-n", namespace, "-f", "-", stdin=DEPLOYMENT.format(image="a:1"))

    ours, theirs = both(kctl, kubectl, namespace, DEPLOYMENT.format(image="a:2"))

    assert ours.code == theirs.returncode == 1
    assert hunks(ours.out) == hunks(theirs.stdout)
    assert "-        image: a:1" in ours.out and "+        image: a:2" in ours.out


def test_secret_values_are_masked(kctl, kubectl, namespace):
    kctl("apply", "-n", namespace, "-f", "-", stdin=SECRET.format(password="old"))

    ours, theirs = both(kctl, kubectl, namespace, SECRET.format(password="new"))

    assert ours.code == 1
    assert hunks(ours.out) == hunks(theirs.stdout)
    assert "-  password: '*** (before)'" in ours.out
    assert "b2xk" not in ours.out and "bmV3" not in ours.out


def test_an_invalid_object_is_exit_2(kctl, kubectl, namespace):
    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
           "  containers: [{name: c}]\n")

    ours, theirs = both(kctl, kubectl, namespace, pod)

    assert (ours.code, ours.out) == (2, "")
    assert ours.err == ('The Pod "p" is invalid: spec.containers[0].image: '
                        "Required value\n")
    assert theirs.returncode == 2 and theirs.stderr == ours.err


def test_an_external_diff_program(kctl, namespace, monkeypatch):
    kctl("apply", "-n", namespace, "-f", "-", stdin=CM.format(name="ext", a=1))
    monkeypatch.setenv("KUBECTL_EXTERNAL_DIFF", "diff -q")

    done = kctl("diff", "-n", namespace, "-f", "-", stdin=CM.format(name="ext", a=2))

    assert done.code == 1
    assert done.out.startswith("Files ") and done.out.rstrip().endswith("differ")


def test_failures_are_exit_2_never_1(kctl, kubectl, namespace, tmp_path):
    missing = kctl("diff", "-n", namespace, "-f", str(tmp_path / "none.yaml"))
    theirs = kubectl("diff", "-n", namespace, "-f", str(tmp_path / "none.yaml"))
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(CM.format(name="cm", a=1))
    unreachable = kctl("-s", "http://127.0.0.1:1", "diff", "-f", str(manifest))

    assert (missing.code, missing.err) == (2, theirs.stderr)
    assert theirs.returncode == 2
    assert unreachable.code == 2 and unreachable.err.startswith("error: ")


def test_an_unknown_field_is_a_warning_as_with_kubectl(kctl, kubectl, namespace):
    kctl("apply", "-n", namespace, "-f", "-", stdin=CM.format(name="unk", a=1))
    manifest = CM.format(name="unk", a=2) + "bogus: 1\n"

    ours, theirs = both(kctl, kubectl, namespace, manifest)

    assert ours.code == theirs.returncode == 1
    assert 'Warning: unknown field "bogus"' in ours.err
    assert hunks(ours.out) == hunks(theirs.stdout)
