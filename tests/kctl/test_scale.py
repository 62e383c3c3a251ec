"""scale --all and scale -l, compared with kubectl on the session server.

No controller runs there; the scale subresource writes spec.replicas all the
same, and that is what is read back.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def deployments(kctl, namespace):
    for name in ("a", "b"):
        assert kctl("create", "deployment", name, "--image=x", "-n",
                    namespace).code == 0
    assert kctl("label", "deployment", "b", "tier=web", "-n", namespace).code == 0
    return namespace


def _replicas(kctl, namespace) -> str:
    return kctl("get", "deployments", "-n", namespace, "-o",
                "jsonpath={.items[*].spec.replicas}").out


@pytest.mark.parametrize("args, lines, replicas", [
    (["deployments", "--all"], ["deployment.apps/a scaled",
                                "deployment.apps/b scaled"], "4 4"),
    (["deployments", "-l", "tier=web"], ["deployment.apps/b scaled"], "1 4"),
    (["deployments", "a", "--all"], ["deployment.apps/a scaled"], "4 1"),
], ids=["all", "selector", "name-with-all"])
def test_scale_by_all_or_selector_as_kubectl(kctl, kubectl, deployments, args,
                                            lines, replicas):
    ours = kctl("scale", *args, "--replicas=4", "-n", deployments)
    _replicas_after_ours = _replicas(kctl, deployments)
    kctl("scale", "deployments", "--all", "--replicas=1", "-n", deployments)
    theirs = kubectl("scale", *args, "--replicas=4", "-n", deployments)

    assert (ours.code, ours.out, ours.err) == (0, "".join(
        f"{line}\n" for line in lines), "")
    assert (theirs.returncode, theirs.stdout) == (ours.code, ours.out)
    assert _replicas_after_ours == replicas
    assert _replicas(kctl, deployments) == replicas


@pytest.mark.parametrize("args", [
    ["deployments", "-l", "tier=none"],
    ["-l", "tier=web"],
    ["--all"],
    ["deployments", "a", "-l", "tier=web"],
    ["deployment/a", "-l", "tier=web"],
    ["deployments", "--all", "--resource-version=1"],
], ids=["nothing-matches", "selector-without-type", "all-without-type",
        "name-and-selector", "slash-and-selector", "version-with-several"])
def test_scale_refusals_are_kubectls_lines(kctl, kubectl, deployments, args):
    ours = kctl("scale", *args, "--replicas=2", "-n", deployments)
    theirs = kubectl("scale", *args, "--replicas=2", "-n", deployments)

    assert (ours.out, ours.err) == ("", theirs.stderr)
    # kctl's usage errors exit 2 where kubectl exits 1 (docs/cli.md).
    assert ours.code in (theirs.returncode, 2)
    assert _replicas(kctl, deployments) == "1 1"
