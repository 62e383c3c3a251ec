"""kctl get against the real server, compared with the real kubectl's output."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.kctl.conftest import REPO, pod_manifest, run_program


@pytest.fixture
def pods(kctl, namespace):
    """Three pods in a namespace of their own."""
    for name, app in (("alpha", "web"), ("bravo", "db"), ("charlie-long-name", "web")):
        done = kctl("create", "-n", namespace, "-f", "-",
                    stdin=pod_manifest(name, app=app))
        assert done.code == 0, done.err
    return namespace


def test_table_piped_is_byte_for_byte_kubectls(kctl, kubectl, pods):
    for args in (["get", "pods"], ["get", "pods", "-o", "wide"],
                 ["get", "pods", "--show-labels"], ["get", "pods", "-L", "app"],
                 ["get", "pods", "--no-headers"], ["get", "pods", "-l", "app=web"],
                 ["get", "pod/alpha", "pods/bravo"]):
        ours = kctl(*args, "-n", pods)
        theirs = kubectl(*args, "-n", pods)

        assert ours.code == theirs.returncode == 0
        assert _ages_blank(ours.out) == _ages_blank(theirs.stdout), args


def _ages_blank(text: str) -> str:
    # The AGE column may tick between the two runs; everything else must match.
    return re.sub(r"\b\d+s\b", "Ns", text)


def test_json_equals_kubectls_for_the_same_object(kctl, kubectl, pods):
    ours = kctl("get", "pods", "-n", pods, "-o", "json")
    theirs = kubectl("get", "pods", "-n", pods, "-o", "json")

    assert ours.out == theirs.stdout
    assert [i["metadata"]["name"] for i in json.loads(ours.out)["items"]] == [
        "alpha", "bravo", "charlie-long-name"]


def test_one_object_as_json_and_yaml_equals_kubectls(kctl, kubectl, pods):
    for fmt in ("json", "yaml"):
        ours = kctl("get", "pod", "alpha", "-n", pods, "-o", fmt)
        theirs = kubectl("get", "pod", "alpha", "-n", pods, "-o", fmt)

        assert ours.out == theirs.stdout, fmt


@pytest.mark.parametrize("template", [
    "{.items[*].metadata.name}",
    '{range .items[*]}{.metadata.name}{"\\t"}{.metadata.labels.app}{"\\n"}{end}',
    '{.items[?(@.metadata.labels.app=="web")].metadata.name}',
    "{.items[0].spec.containers[*].image}",
    "{..image}",
    "{.items[-1:].metadata.name}",
    "{.items[0].metadata.labels}",
    "{.items[1:3].spec.tolerations[0]}",
], ids=["names", "range", "filter", "index", "recursive", "slice", "map", "json"])
def test_jsonpath_equals_kubectls(kctl, kubectl, pods, template):
    ours = kctl("get", "pods", "-n", pods, "-o", f"jsonpath={template}")
    theirs = kubectl("get", "pods", "-n", pods, "-o", f"jsonpath={template}")

    assert ours.out == theirs.stdout


@pytest.mark.parametrize("template", [
    '{range.items[*]}{.metadata.name}{"\\n"}{end}',
    "{ range .items[*] }{.metadata.name},{ end }",
    "{range   .items[*]}[{.metadata.name}]{end}",
    "{range@.items[*]}{.metadata.name};{end}",
    "{range $.items[*]}{.metadata.name};{end }",
    "{range.items[*].metadata}{.name}{ end}",
], ids=["no-space", "spaces-inside", "many-spaces", "at", "dollar", "end-spaces"])
def test_range_and_end_are_read_as_kubectls_lexer_reads_them(kctl, kubectl, pods,
                                                              template):
    ours = kctl("get", "pods", "-n", pods, "-o", f"jsonpath={template}")
    theirs = kubectl("get", "pods", "-n", pods, "-o", f"jsonpath={template}")

    assert (ours.code, ours.out) == (theirs.returncode, theirs.stdout)
    assert ours.out


def test_custom_columns_and_name_equal_kubectls(kctl, kubectl, pods):
    for output in ("name", "custom-columns=N:.metadata.name,APP:.metadata.labels.app"):
        ours = kctl("get", "pods", "-n", pods, "-o", output)
        theirs = kubectl("get", "pods", "-n", pods, "-o", output)

        assert ours.out == theirs.stdout, output


# A bad template: kubectl's first stderr line and exit code, without the object
# dump kubectl adds after an execution error. A -o jsonpath that does not parse
# exits 2 in kctl (docs/cli.md), 1 in kubectl.
@pytest.mark.parametrize("args, line, code", [
    (["-o", "custom-columns=A"], "error: unexpected custom-columns spec: A, "
     "expected <header>:<json-path-expr>", 1),
    (["-o", "custom-columns="], "error: custom-columns format specified but no "
     "custom columns given", 1),
    (["-o", "custom-columns=A:.x["], "error: unterminated array", 1),
    (["-o", "custom-columns=A:{.x"], "error: unexpected path string, expected a "
     "'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'", 1),
    (["-o", "custom-columns=A:.spec.containers[5].name"],
     "error: array index out of bounds: index 5, length 1", 1),
    (["-o", "name", "--sort-by", ".spec.containers[5].name"],
     "error: array index out of bounds: index 5, length 1", 1),
    (["-o", "jsonpath={.items[0].spec.containers[5].name}"],
     'error: error executing jsonpath "{.items[0].spec.containers[5].name}": '
     "Error executing template: array index out of bounds: index 5, length 1", 1),
    (["-o", "jsonpath={.items[-9]}"], 'error: error executing jsonpath '
     '"{.items[-9]}": Error executing template: array index out of bounds: '
     "index -6, length 3", 1),
    (["-o", "jsonpath={.x"], "error: error parsing jsonpath {.x, unclosed action", 2),
    (["-o", "jsonpath={.a]}"], "error: error parsing jsonpath {.a]}, unrecognized "
     "character in action: U+005D ']'", 2),
], ids=["no-colon", "no-columns", "column-unparsed", "column-relaxed",
        "column-index", "sort-by-index", "jsonpath-index", "jsonpath-negative",
        "jsonpath-unclosed", "jsonpath-character"])
def test_a_bad_template_is_kubectls_first_line(kctl, kubectl, pods, args, line,
                                               code):
    ours = kctl("get", "pods", "-n", pods, *args)
    theirs = kubectl("get", "pods", "-n", pods, *args)

    assert (ours.code, ours.out, ours.err) == (code, "", line + "\n")
    assert theirs.returncode == 1
    assert theirs.stderr.splitlines()[0].startswith(line)


def test_watch_checks_its_template_before_watching(kctl, pods):
    done = kctl("get", "pods", "-n", pods, "-w", "-o", "jsonpath={.x")

    assert (done.code, done.err) == (
        2, "error: error parsing jsonpath {.x, unclosed action\n")


def test_sort_by_and_field_selector(kctl, pods):
    by_app = kctl("get", "pods", "-n", pods, "--sort-by", ".metadata.labels.app",
                  "-o", "name")
    one = kctl("get", "pods", "-n", pods, "--field-selector",
               "metadata.name=bravo", "--no-headers", "-o", "name")

    assert by_app.out == "pod/bravo\npod/alpha\npod/charlie-long-name\n"
    assert one.out == "pod/bravo\n"


def test_chunked_listing_returns_everything(kctl, pods):
    done = kctl("get", "pods", "-n", pods, "--chunk-size", "1", "-o", "name")

    assert done.out == "pod/alpha\npod/bravo\npod/charlie-long-name\n"


def test_all_namespaces_adds_the_namespace_column(kctl, pods):
    done = kctl("get", "pods", "-A", "-l", "app=db")

    rows = [line.split() for line in done.out.splitlines()]
    assert rows[0][:2] == ["NAMESPACE", "NAME"]
    assert [pods, "bravo"] in [row[:2] for row in rows[1:]]


def test_several_types_print_kind_prefixed_tables_as_kubectl(kctl, kubectl, pods):
    config_map = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                  "data:\n  a: b\n")
    kctl("create", "-n", pods, "-f", "-", stdin=config_map)

    ours = kctl("get", "pods,cm", "-n", pods)
    theirs = kubectl("get", "pods,cm", "-n", pods)

    assert _ages_blank(ours.out) == _ages_blank(theirs.stdout)
    tables = ours.out.split("\n\n")
    assert tables[0].splitlines()[1].startswith("pod/alpha ")
    assert tables[1].splitlines()[1].startswith("configmap/settings ")


def test_short_and_singular_names_and_type_slash_name(kctl, pods):
    for args in (["po", "alpha"], ["pod", "alpha"], ["pods/alpha"]):
        done = kctl("get", *args, "-n", pods, "-o", "name")

        assert done.out == "pod/alpha\n", args


def test_empty_namespace_says_so_on_stderr(kctl, namespace):
    done = kctl("get", "pods", "-n", namespace)

    assert (done.code, done.out) == (0, "")
    assert done.err == f"No resources found in {namespace} namespace.\n"


def test_missing_names_fail_but_others_print(kctl, pods):
    done = kctl("get", "pods", "alpha", "nope", "-n", pods, "-o", "name")

    assert done.code == 1
    assert done.out == "pod/alpha\n"
    assert done.err == 'Error from server (NotFound): pods "nope" not found\n'


def test_watch_piped_prints_one_line_per_event(api_server, kctl, kctl_env, pods):
    env = dict(os.environ, PYTHONPATH=REPO, HOME=str(kctl_env),
               KUBECONFIG=str(kctl_env / "none"),
               XDG_CACHE_HOME=str(kctl_env / "cache"))
    watcher = subprocess.Popen(
        [sys.executable, "-m", "kctl.main", "-s", api_server.url, "get", "pods",
         "-n", pods, "-w", "-l", "app=db"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = [watcher.stdout.readline(), watcher.stdout.readline()]
        kctl("label", "pod", "bravo", "-n", pods, "extra=1")
        changed = watcher.stdout.readline()
    finally:
        os.kill(watcher.pid, signal.SIGTERM)
        watcher.wait(10)

    assert first[0].split()[:3] == ["NAME", "READY", "STATUS"]
    assert first[1].split()[0] == "bravo"
    assert changed.split()[0] == "bravo"
    assert len(changed.rstrip("\n")) <= len(first[1].rstrip("\n")) + 2


def test_watch_with_an_output_format_prints_each_object_so(api_server, kctl,
                                                           kctl_env, pods):
    env = dict(os.environ, PYTHONPATH=REPO, HOME=str(kctl_env),
               KUBECONFIG=str(kctl_env / "none"),
               XDG_CACHE_HOME=str(kctl_env / "cache"))
    watcher = subprocess.Popen(
        [sys.executable, "-m", "kctl.main", "-s", api_server.url, "get", "pods",
         "-n", pods, "-w", "-l", "app=db", "-o", "name"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        listed = watcher.stdout.readline()
        kctl("label", "pod", "bravo", "-n", pods, "extra=1")
        changed = watcher.stdout.readline()
    finally:
        os.kill(watcher.pid, signal.SIGTERM)
        watcher.wait(10)

    assert [listed, changed] == ["pod/bravo\n", "pod/bravo\n"]


def _row(name: str, status: str) -> dict:
    return {"cells": [name, status],
            "object": {"metadata": {"name": name, "uid": name}}}


def test_watch_in_a_terminal_strikes_a_deleted_row_then_drops_it():
    from kctl import printers
    from kctl.session import Session
    from kctl.watch import LiveView
    from tests.kctl.conftest import _Out

    out = _Out(tty=True)
    view = LiveView(Session(out=out, err=_Out()), printers.TableOptions())
    view.columns({"columnDefinitions": [{"name": "Name", "type": "string"},
                                        {"name": "Status", "type": "string"}]})
    view.event("ADDED", _row("a", "Running"))
    view.event("ADDED", _row("b", "Running"))
    view.flush()

    view.event("DELETED", _row("b", "Running"))
    view.flush()
    struck = out.getvalue()
    view.event("MODIFIED", _row("a", "Failed"))
    view.flush()
    view.close()

    assert "\x1b[2;9;31mb\x1b[0m" in struck.rsplit("NAME", 1)[1]  # struck out
    last = out.getvalue().rsplit("NAME", 1)[1]
    assert "Failed" in last and "\nb" not in last and "mb\x1b" not in last


def test_watch_in_a_terminal_redraws_on_each_change(api_server, kctl, kctl_env,
                                                   pods):
    """A real watch on a terminal: the changes arrive through the stream, not
    only through LiveView.event."""
    import pty
    import select

    env = dict(os.environ, PYTHONPATH=REPO, HOME=str(kctl_env),
               KUBECONFIG=str(kctl_env / "none"),
               XDG_CACHE_HOME=str(kctl_env / "cache"), COLUMNS="120")
    master, slave = pty.openpty()
    watcher = subprocess.Popen(
        [sys.executable, "-m", "kctl.main", "-s", api_server.url, "get", "pods",
         "-n", pods, "-w", "-l", "app=db"],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    seen = b""

    def read_until(predicate, timeout=20):
        nonlocal seen
        deadline = time.monotonic() + timeout
        while not predicate(seen) and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        return predicate(seen)

    try:
        drawn = read_until(lambda out: b"bravo" in out)
        kctl("label", "pod", "bravo", "-n", pods, "extra=1")
        kctl("delete", "pod", "bravo", "-n", pods, "--wait=false")
        redrawn = read_until(lambda out: out.count(b"bravo") >= 3)
        alive = watcher.poll() is None
    finally:
        if watcher.poll() is None:
            os.kill(watcher.pid, signal.SIGTERM)
        watcher.wait(10)
        os.close(master)

    assert drawn and redrawn and alive, seen.decode(errors="replace")
    assert b"error" not in seen


def test_get_all_lists_the_all_category_as_kubectl(kctl, kubectl, pods):
    kctl("create", "-n", pods, "-f", "-", stdin=(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n"
        "  ports:\n  - port: 80\n"))

    ours = kctl("get", "all", "-n", pods)
    theirs = kubectl("get", "all", "-n", pods)

    assert ours.code == theirs.returncode == 0
    assert _ages_blank(ours.out) == _ages_blank(theirs.stdout)
    assert [line.split()[0] for line in ours.out.splitlines() if line] == [
        "NAME", "pod/alpha", "pod/bravo", "pod/charlie-long-name",
        "NAME", "service/web"]


def _lines_once_poked(process, count: int, poke, timeout: float = 20) -> list[str]:
    """The first ``count`` lines of ``process``, calling ``poke`` until the
    first arrives: a watch that starts after a change never sees it."""
    import queue
    import threading

    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in
                                     iter(process.stdout.readline, "")],
                     daemon=True).start()
    deadline = time.monotonic() + timeout
    got = []
    while len(got) < count and time.monotonic() < deadline:
        if not got:
            poke()
        try:
            got.append(lines.get(timeout=0.5))
        except queue.Empty:
            pass
    return got


def test_watch_only_prints_changes_but_not_the_list(api_server, kctl, kctl_env,
                                                    pods):
    env = dict(os.environ, PYTHONPATH=REPO, HOME=str(kctl_env),
               KUBECONFIG=str(kctl_env / "none"),
               XDG_CACHE_HOME=str(kctl_env / "cache"))
    watcher = subprocess.Popen(
        [sys.executable, "-m", "kctl.main", "-s", api_server.url, "get", "pods",
         "-n", pods, "--watch-only"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    pokes = iter(range(1000))
    try:
        lines = _lines_once_poked(watcher, 2, lambda: kctl(
            "label", "pod", "bravo", "-n", pods, f"poke={next(pokes)}",
            "--overwrite"))
    finally:
        os.kill(watcher.pid, signal.SIGTERM)
        watcher.wait(10)

    assert [line.split()[:3] for line in lines] == [
        ["NAME", "READY", "STATUS"], ["bravo", "0/1", "Pending"]]


def _on_a_terminal(*args: str, env: dict) -> bytes:
    """What kctl writes to stdout when stdout is a pseudo-terminal."""
    import pty

    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "kctl.main", *args],
                               stdout=slave, stderr=subprocess.DEVNULL, env=env,
                               cwd=REPO)
    os.close(slave)
    out = b""
    try:
        # Linux answers EIO on the master once the last writer has closed.
        while chunk := os.read(master, 65536):
            out += chunk
    except OSError:
        pass
    finally:
        os.close(master)
        process.wait(30)
    return out


def test_a_table_on_a_terminal_is_drawn_with_bold_headers_and_status_colour(
        api_server, kctl_env, pods):
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": REPO,
           "HOME": str(kctl_env), "KUBECONFIG": str(kctl_env / "none"),
           "XDG_CACHE_HOME": str(kctl_env / "cache"), "TERM": "xterm-256color"}

    out = _on_a_terminal("-s", api_server.url, "get", "pods", "-n", pods, env=env)

    assert re.match(rb"\x1b\[1mNAME(\x1b\[0m| +\x1b\[0m)", out)  # bold
    assert out.count(b"\x1b[33mPending\x1b[0m") == 3  # yellow


def test_a_piped_table_is_plain_text_whatever_the_terminal_type(api_server,
                                                                 kctl_env, pods):
    env = {"HOME": str(kctl_env), "KUBECONFIG": str(kctl_env / "none"),
           "XDG_CACHE_HOME": str(kctl_env / "cache"), "TERM": "xterm-256color"}

    done = run_program("-s", api_server.url, "get", "pods", "-n", pods, env=env)

    assert done.code == 0
    assert done.out.startswith("NAME                READY   STATUS    RESTARTS   AGE\n")
    assert "\x1b" not in done.out


@pytest.mark.parametrize("template", [
    "{.items[*].metadata.name}", "{.items[0].metadata}",
    "{.items[*].metadata.name} {.kind}",
    "{range .items[*]}{.metadata.name}{end}",
], ids=["names", "object", "with-text", "range"])
def test_jsonpath_as_json_is_kubectls(kctl, kubectl, pods, template):
    args = ["get", "pods", "-n", pods, "-o", f"jsonpath-as-json={template}"]

    ours, theirs = kctl(*args), kubectl(*args)

    assert ours.code == 0, ours.err
    assert ours.out == theirs.stdout
