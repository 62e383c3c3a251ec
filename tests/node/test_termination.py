"""Termination messages (node/termination.py) reported by an agent."""

from tests.node.conftest import container_status


def _terminated(api, namespace, name):
    pod = api.wait_pod(namespace, name, lambda p: p["status"].get("phase") in (
        "Succeeded", "Failed"))
    return container_status(pod)["state"]["terminated"]


def test_a_message_written_to_the_runs_own_file_is_reported(api, agent, namespace):
    script = ('case "$KCTL_TERMINATION_MESSAGE_PATH" in /dev/*) exit 9;; esac; '
              'printf "all done" > "$KCTL_TERMINATION_MESSAGE_PATH"')
    api.create_pod(namespace, agent.name, "says",
                   [{"name": "c", "image": "busybox", "command": ["sh", "-c", script]}],
                   restartPolicy="Never")

    terminated = _terminated(api, namespace, "says")

    assert (terminated["exitCode"], terminated["message"]) == (0, "all done")


def test_a_termination_message_path_outside_dev_is_read(api, agent, namespace,
                                                         tmp_path):
    path = tmp_path / "message"
    api.create_pod(namespace, agent.name, "custom",
                   [{"name": "c", "image": "busybox", "terminationMessagePath": str(path),
                     "command": ["sh", "-c", f"echo custom > {path}; exit 2"]}],
                   restartPolicy="Never")

    terminated = _terminated(api, namespace, "custom")

    assert (terminated["exitCode"], terminated["message"]) == (2, "custom\n")


def test_fallback_to_logs_takes_the_last_80_lines_up_to_2048_bytes(api, agent,
                                                                   namespace):
    script = "for i in $(seq 1 100); do echo line-$i; done; exit 1"
    api.create_pod(namespace, agent.name, "fallback",
                   [{"name": "c", "image": "busybox", "command": ["sh", "-c", script],
                     "terminationMessagePolicy": "FallbackToLogsOnError"}],
                   restartPolicy="Never")

    terminated = _terminated(api, namespace, "fallback")

    expected = "".join(f"line-{i}\n" for i in range(21, 101))
    assert terminated["message"] == expected
    assert len(expected) < 2048


def test_fallback_to_logs_is_not_used_on_success_or_with_a_message(api, agent,
                                                                   namespace):
    for name, script in (("ok", "echo fine"),
                         ("both", 'echo noise; echo own > "$KCTL_TERMINATION_MESSAGE_PATH"'
                                  "; exit 1")):
        api.create_pod(namespace, agent.name, name,
                       [{"name": "c", "image": "busybox", "command": ["sh", "-c", script],
                         "terminationMessagePolicy": "FallbackToLogsOnError"}],
                       restartPolicy="Never")

    assert "message" not in _terminated(api, namespace, "ok")
    assert _terminated(api, namespace, "both")["message"] == "own\n"


def test_the_log_tail_is_cut_at_2048_bytes(tmp_path):
    from node.runtime.logfile import LogFile
    from node.termination import log_tail

    logfile = LogFile(tmp_path, 0)
    for i in range(100):
        logfile.write("stdout", b"x" * 49 + str(i % 10).encode())
    logfile.close()

    tail = log_tail(tmp_path, 0)

    assert len(tail) == 2048
    assert tail.startswith("x" * 49 + "0\n")  # line 21 of 100 begins the last 80
