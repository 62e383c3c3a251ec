"""The process runtime (node/runtime/process.py): expansion, start, stop, adopt."""

import asyncio
import os
import signal
import subprocess

import pytest

from tests.node.helpers import alive, kill_group, run, wait_for
from node.runtime import process as proc
from node.runtime.logfile import LogFile, PipeReader


@pytest.mark.parametrize("text, expected", [
    ("$(A)", "apple"),
    ("x-$(A)-$(B)", "x-apple-banana"),
    ("$$(A)", "$(A)"),
    ("$(MISSING)", "$(MISSING)"),
    ("$(A", "$(A"),
    ("a$b", "a$b"),
    ("$$", "$"),
    ("end$", "end$"),
    ("$()", "$()"),
], ids=["var", "two", "escaped", "undefined", "unclosed", "no-paren", "dollars",
        "trailing", "empty-name"])
def test_expand_follows_kubernetes(text, expected):
    assert proc.expand(text, {"A": "apple", "B": "banana"}) == expected


def test_base_env_keeps_only_what_a_process_needs():
    env = proc.base_env({"PATH": "/bin", "HOME": "/root", "SECRET_TOKEN": "x"})

    assert env == {"PATH": "/bin", "HOME": "/root"}


@pytest.mark.parametrize("argv0, message", [
    ("no-such-binary-kctl", 'exec: "no-such-binary-kctl": executable file not found '
                            "in $PATH"),
    ("./missing", 'exec: "./missing": stat ./missing: no such file or directory'),
], ids=["not-on-path", "missing-path"])
def test_start_reports_a_missing_command_as_runc_does(tmp_path, argv0, message):
    out, err = proc.make_pipes(tmp_path / "run")

    async def attempt():
        proc.start([argv0], proc.base_env(), str(tmp_path), out, err)

    with pytest.raises(proc.StartError) as caught:
        run(attempt())
    assert caught.value.message == message


def test_start_reports_a_file_that_is_not_executable(tmp_path):
    (tmp_path / "script").write_text("echo hi\n")
    out, err = proc.make_pipes(tmp_path / "run")

    async def attempt():
        proc.start(["./script"], proc.base_env(), str(tmp_path), out, err)

    with pytest.raises(proc.StartError, match='exec: "./script": permission denied'):
        run(attempt())


def test_a_process_writes_through_its_pipes_to_the_log(tmp_path):
    out, err = proc.make_pipes(tmp_path / "run")

    async def scenario():
        logfile = LogFile(tmp_path / "logs", 0)
        readers = [PipeReader(proc.open_reader(out), "stdout", logfile),
                   PipeReader(proc.open_reader(err), "stderr", logfile)]
        process = proc.start(["sh", "-c", "echo out $X; echo err >&2; exit 3"],
                             {**proc.base_env(), "X": "1"}, str(tmp_path), out, err)
        await asyncio.wait_for(process.exited.wait(), 10)
        for reader in readers:
            reader.drain()
            reader.close()
        logfile.close()
        return process.exit_code

    assert run(scenario()) == 3
    lines = (tmp_path / "logs" / "0.log").read_text().splitlines()
    assert sorted(line.split(" ", 1)[1] for line in lines) == [
        "stderr F err", "stdout F out 1"]


def test_stop_reaches_the_whole_process_group(tmp_path):
    out, err = proc.make_pipes(tmp_path / "run")
    child_file = tmp_path / "child.pid"

    async def scenario():
        process = proc.start(
            ["sh", "-c", f"sleep 60 & echo $! > {child_file}; wait"],
            proc.base_env(), str(tmp_path), out, err)
        while not child_file.exists() or not child_file.read_text().strip():
            await asyncio.sleep(0.02)
        child = int(child_file.read_text())
        await process.stop(grace=5)
        return process, child

    process, child = run(scenario())
    assert process.exit_code == 128 + signal.SIGTERM
    wait_for(lambda: not alive(child), timeout=5)


def test_stop_kills_a_process_that_ignores_sigterm_after_the_grace_period(tmp_path):
    out, err = proc.make_pipes(tmp_path / "run")
    ready = tmp_path / "ready"

    async def scenario():
        process = proc.start(
            ["sh", "-c", f"trap '' TERM; touch {ready}; while true; do sleep 0.1; done"],
            proc.base_env(), str(tmp_path), out, err)
        while not ready.exists():
            await asyncio.sleep(0.02)
        await process.stop(grace=0.3)
        return process

    process = run(scenario())
    assert process.exit_code == 128 + signal.SIGKILL
    wait_for(lambda: not alive(process.pid), timeout=5)


def test_leftovers_of_a_group_die_with_its_main_process(tmp_path):
    out, err = proc.make_pipes(tmp_path / "run")
    child_file = tmp_path / "child.pid"

    async def scenario():
        process = proc.start(["sh", "-c", f"sleep 60 & echo $! > {child_file}"],
                             proc.base_env(), str(tmp_path), out, err)
        await asyncio.wait_for(process.exited.wait(), 10)
        return int(child_file.read_text())

    child = run(scenario())
    wait_for(lambda: not alive(child), timeout=5)


def test_identity_tells_a_process_from_a_recycled_pid():
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        identity = proc.identify(sleeper.pid)
        recycled = proc.ProcessIdentity(sleeper.pid, identity.start_ticks + 1,
                                        identity.boot_id)
        rebooted = proc.ProcessIdentity(sleeper.pid, identity.start_ticks, "other-boot")

        assert identity.is_alive()
        assert not recycled.is_alive()
        assert not rebooted.is_alive()
        assert proc.ProcessIdentity.from_dict(identity.to_dict()) == identity
    finally:
        kill_group(sleeper.pid)
        sleeper.wait()


def test_adopt_watches_a_process_it_did_not_start():
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    identity = proc.identify(sleeper.pid)

    async def scenario():
        process = proc.ContainerProcess.adopt(identity)
        assert process is not None
        await process.stop(grace=5)
        return process

    try:
        process = run(scenario())
        # Its status went to its real parent: an adopter cannot know the code.
        assert process.exit_code is None
        assert sleeper.wait(5) == -signal.SIGTERM
    finally:
        kill_group(sleeper.pid)


def test_adopt_refuses_a_process_that_is_gone():
    sleeper = subprocess.Popen(["true"])
    sleeper.wait()
    identity = proc.ProcessIdentity(sleeper.pid, 1, proc.boot_id())

    async def scenario():
        return proc.ContainerProcess.adopt(identity)

    assert run(scenario()) is None


def test_start_fails_for_a_missing_working_dir(tmp_path):
    out, err = proc.make_pipes(tmp_path / "run")

    async def attempt():
        proc.start(["true"], proc.base_env(), str(tmp_path / "nope"), out, err)

    with pytest.raises(proc.StartError, match="chdir to cwd"):
        run(attempt())
    assert os.path.exists(out)
