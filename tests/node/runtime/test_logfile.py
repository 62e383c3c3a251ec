"""CRI-format container logs (node/runtime/logfile.py)."""

import asyncio
import os

from node.runtime import logfile as lf
from tests.node.helpers import run


class Clock:
    """Nanoseconds that advance by one second per call."""

    def __init__(self, start=1_700_000_000 * 10**9):
        self.now = start

    def __call__(self):
        self.now += 10**9
        return self.now


def test_records_are_written_in_the_cri_format(tmp_path):
    async def scenario():
        log = lf.LogFile(tmp_path, 0, clock=lambda: 1_700_000_000_123_456_789)
        log.write("stdout", b"hello")
        log.write("stderr", b"part", partial=True)
        log.close()

    run(scenario())

    assert (tmp_path / "0.log").read_bytes() == (
        b"2023-11-14T22:13:20.123456789Z stdout F hello\n"
        b"2023-11-14T22:13:20.123456789Z stderr P part\n")


def test_a_record_parses_back_and_renders_as_the_kubelet_prints_it():
    record = lf.parse_record(b"2023-11-14T22:13:20.120000000Z stdout F hi there\n")

    assert record.stream == "stdout" and not record.partial
    assert record.render(timestamps=False) == b"hi there\n"
    # Output timestamps are RFC3339Nano, trailing zeros trimmed.
    assert record.render(timestamps=True) == b"2023-11-14T22:13:20.12Z hi there\n"
    assert lf.parse_record(b"garbage") is None


def test_rotation_by_size_keeps_max_files(tmp_path):
    async def scenario():
        log = lf.LogFile(tmp_path, 2, max_bytes=200, max_files=3, clock=Clock())
        for i in range(40):
            log.write("stdout", b"line %02d" % i)
        log.close()
        return log.generation

    generations = run(scenario())

    files = lf.run_files(tmp_path, 2)
    assert generations > 3
    assert len(files) == 3 and files[-1].name == "2.log"
    assert all(f.stat().st_size <= 200 for f in files)
    contents = [r.content for f in files for r, _ in lf.read_records(f)]
    assert contents[-1] == b"line 39"
    assert contents == sorted(contents)


def test_pipe_reader_splits_lines_and_long_lines(tmp_path):
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)

    async def scenario():
        log = lf.LogFile(tmp_path, 0)
        done = asyncio.Event()
        lf.PipeReader(read_fd, "stdout", log, on_eof=done.set)
        os.write(write_fd, b"one\ntw")
        await asyncio.sleep(0.05)
        os.write(write_fd, b"o\n" + b"x" * (lf.MAX_LINE + 5) + b"\nlast")
        os.close(write_fd)
        await asyncio.wait_for(done.wait(), 5)
        log.close()

    run(scenario())

    records = [r for r, _ in lf.read_records(tmp_path / "0.log")]
    assert [(r.partial, r.content[:3], len(r.content)) for r in records] == [
        (False, b"one", 3), (False, b"two", 3), (True, b"xxx", lf.MAX_LINE),
        (False, b"xxx", 5), (False, b"las", 4)]


def test_rfc3339_round_trip():
    ns = 1_700_000_000_000_000_042

    assert lf.parse_rfc3339(lf.rfc3339_nano(ns)) == ns
    assert lf.rfc3339_nano(1_700_000_000 * 10**9, fixed=False) == "2023-11-14T22:13:20Z"
