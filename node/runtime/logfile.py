"""Container log files in the CRI format, rotated by size, and their readers.

Each line of a log file is ``<RFC3339Nano time> <stream> <tag> <content>``,
the format containerd writes and the kubelet reads: the tag is ``F`` for a full
line and ``P`` for part of a line longer than the line buffer. A container
run's log is ``<restartCount>.log`` in the container's log directory; once it
passes ``max_bytes`` it is renamed with a time suffix and a new file begins,
keeping ``max_files`` files in all (the kubelet's containerLogMaxSize 10Mi and
containerLogMaxFiles 5).
"""

from __future__ import annotations

import asyncio
import calendar
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
# containerd splits lines longer than this into partial (P) records.
MAX_LINE = 16 * 1024


def rfc3339_nano(ns: int, fixed: bool = True) -> str:
    """A UTC time with nanoseconds: nine digits in files, trimmed for readers."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    fraction = f"{nanos:09d}"
    if not fixed:
        fraction = fraction.rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"


def parse_rfc3339(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 UTC time (``...Z``)."""
    text = text.rstrip("Z")
    base, _, fraction = text.partition(".")
    seconds = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    nanos = int((fraction + "000000000")[:9]) if fraction else 0
    return int(seconds) * 1_000_000_000 + nanos


def log_path(log_dir: Path, restart_count: int) -> Path:
    return log_dir / f"{restart_count}.log"


def run_files(log_dir: Path, restart_count: int) -> list[Path]:
    """The files of one run, oldest first: rotated ones, then the current one."""
    current = log_path(log_dir, restart_count)
    rotated = sorted(log_dir.glob(f"{current.name}.*")) if log_dir.is_dir() else []
    return rotated + ([current] if current.exists() else [])


class LogFile:
    """The writer of one container run's log; followers wait on it for more."""

    def __init__(self, log_dir: Path, restart_count: int,
                 max_bytes: int = MAX_BYTES, max_files: int = MAX_FILES,
                 clock: Callable[[], int] = time.time_ns):
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        self.restart_count = restart_count
        self.path = log_path(log_dir, restart_count)
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.clock = clock
        self.closed = False
        self.generation = 0  # bumped by each rotation
        self._file = open(self.path, "ab")
        self._size = self._file.tell()
        self._changed = asyncio.Event()

    def write(self, stream: str, content: bytes, partial: bool = False) -> None:
        stamp = rfc3339_nano(self.clock()).encode()
        record = b"%s %s %s %s\n" % (stamp, stream.encode(), b"P" if partial else b"F",
                                      content)
        if self._size and self._size + len(record) > self.max_bytes:
            self._rotate()
        self._file.write(record)
        self._size += len(record)

    def flush(self) -> None:
        """Make written records visible to readers and wake the followers."""
        if not self._file.closed:
            self._file.flush()
        self._changed.set()
        self._changed = asyncio.Event()

    def _rotate(self) -> None:
        self._file.close()
        suffix = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        target = self.path.with_name(f"{self.path.name}.{suffix}.{self.clock():d}")
        os.rename(self.path, target)
        rotated = run_files(self.log_dir, self.restart_count)
        for old in rotated[:max(0, len(rotated) - (self.max_files - 1))]:
            old.unlink(missing_ok=True)
        self._file = open(self.path, "ab")
        self._size = 0
        self.generation += 1

    def close(self) -> None:
        self.closed = True
        self._file.close()
        self.flush()

    def waiter(self) -> asyncio.Event:
        """An event set by the next flush or close; take it before reading, so a
        flush between the read and the wait is not missed."""
        return self._changed


class PipeReader:
    """Copies one container pipe (stdout or stderr) into a LogFile."""

    def __init__(self, fd: int, stream: str, logfile: LogFile,
                 on_eof: Callable[[], None] | None = None):
        self.fd = fd
        self.stream = stream
        self.logfile = logfile
        self.on_eof = on_eof
        self._pending = b""
        self._open = True
        asyncio.get_running_loop().add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        self._consume(data)
        self.logfile.flush()

    def _consume(self, data: bytes) -> None:
        buffer = self._pending + data
        lines = buffer.split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            self._write_line(line)
        while len(self._pending) >= MAX_LINE:
            self.logfile.write(self.stream, self._pending[:MAX_LINE], partial=True)
            self._pending = self._pending[MAX_LINE:]

    def _write_line(self, line: bytes) -> None:
        while len(line) > MAX_LINE:
            self.logfile.write(self.stream, line[:MAX_LINE], partial=True)
            line = line[MAX_LINE:]
        self.logfile.write(self.stream, line)

    def drain(self) -> None:
        """Read what the pipe still holds without waiting for more."""
        while self._open:
            try:
                data = os.read(self.fd, 65536)
            except (BlockingIOError, OSError):
                break
            if not data:
                break
            self._consume(data)

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        asyncio.get_running_loop().remove_reader(self.fd)
        os.close(self.fd)
        # At the end of a stream, a last line without a newline is a full line.
        if self._pending:
            self.logfile.write(self.stream, self._pending)
            self._pending = b""
        self.logfile.flush()
        if self.on_eof:
            self.on_eof()


@dataclass
class Record:
    """One parsed log line."""

    nanos: int
    stamp: str
    stream: str
    partial: bool
    content: bytes

    def render(self, timestamps: bool) -> bytes:
        text = self.content if self.partial else self.content + b"\n"
        if timestamps:
            return rfc3339_nano(self.nanos, fixed=False).encode() + b" " + text
        return text


def parse_record(line: bytes) -> Record | None:
    parts = line.rstrip(b"\n").split(b" ", 3)
    if len(parts) < 3:
        return None
    stamp = parts[0].decode()
    try:
        nanos = parse_rfc3339(stamp)
    except ValueError:
        return None
    content = parts[3] if len(parts) > 3 else b""
    return Record(nanos, stamp, parts[1].decode(), parts[2] == b"P", content)


def read_records(path: Path, offset: int = 0) -> Iterator[tuple[Record, int]]:
    """Each record of a file from ``offset``, with the offset after it."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return
    with handle:
        handle.seek(offset)
        while True:
            line = handle.readline()
            if not line.endswith(b"\n"):
                return  # none, or a record still being written
            offset += len(line)
            record = parse_record(line)
            if record is not None:
                yield record, offset
