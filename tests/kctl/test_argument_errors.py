"""Commands given no object, or no patch or condition, fail as kubectl fails:
its words on stderr (with kctl for kubectl), nothing on stdout, exit 1."""

from __future__ import annotations

import pytest

NO_RESOURCES = (
    "error: You must provide one or more resources by argument or filename.\n"
    "Example resource specifications include:\n"
    "   '-f rsrc.yaml'\n"
    "   '--filename=rsrc.json'\n"
    "   '<resource> <name>'\n"
    "   '<resource>'\n")
SELECTOR_WITHOUT_TYPE = ("error: at least one resource must be specified to use a "
                         "selector\n")
LOGS_USAGE = ("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
              "POD or TYPE/NAME is a required argument for the logs command\n"
              "See 'kctl logs -h' for help and examples\n")
NO_LABEL_TARGET = ("error: one or more resources must be specified as <resource> "
                   "<name> or <resource>/<name>\n")

CASES = [
    (["delete"], NO_RESOURCES),
    (["delete", "-l", "app=web"], SELECTOR_WITHOUT_TYPE),
    (["delete", "--all"], SELECTOR_WITHOUT_TYPE),
    (["edit"], NO_RESOURCES),
    (["logs"], LOGS_USAGE),
    (["logs", "pod", "container", "extra"], LOGS_USAGE),
    (["wait"], 'error: unrecognized condition: ""\n'),
    (["wait", "--for=delete"], NO_RESOURCES),
    (["wait", "--for=delete", "-l", "app=web"], SELECTOR_WITHOUT_TYPE),
    (["patch"], "error: must specify --patch or --patch-file containing the "
                "contents of the patch\n"),
    (["patch", "-p", "{}"], NO_RESOURCES),
    (["label"], NO_LABEL_TARGET),
    (["label", "tier=web"], NO_LABEL_TARGET),
    (["label", "pod"], "error: at least one label update is required\n"),
    (["annotate"], NO_LABEL_TARGET),
]


@pytest.mark.parametrize("args, err", CASES,
                         ids=["_".join(args) for args, _ in CASES])
def test_missing_arguments_fail_as_in_kubectl(kctl, kubectl, args, err):
    ours = kctl(*args)
    theirs = kubectl(*args)

    assert (ours.code, ours.out, ours.err) == (1, "", err)
    assert (theirs.returncode, theirs.stdout) == (1, "")
    assert theirs.stderr.replace("kubectl", "kctl") == err


@pytest.mark.parametrize("args", [
    ["delete", "configmap", ""], ["get", "configmap", ""], ["describe", "cm", ""],
    ["label", "cm", "", "x=y"], ["annotate", "cm", "", "x=y"],
    ["scale", "deployment", "", "--replicas=1"], ["logs", ""],
    ["exec", "", "--", "true"],
], ids=lambda a: " ".join(a[:2]))
def test_an_empty_name_is_refused_and_touches_nothing(kctl, kubectl, namespace, args):
    kctl("create", "configmap", "survivor", "--from-literal=a=1", "-n", namespace)

    ours = kctl(*args, "-n", namespace)
    theirs = kubectl(*args, "-n", namespace)

    assert ours.code == 1 and ours.out == ""
    if args[0] == "scale":
        # kubectl's scale runs two of its messages together here.
        assert theirs.stderr.endswith("resource name may not be empty\n")
        assert ours.err == "error: resource name may not be empty\n"
    else:
        assert ours.err == theirs.stderr.replace("kubectl", "kctl")
    assert kctl("get", "cm", "survivor", "-n", namespace).code == 0
