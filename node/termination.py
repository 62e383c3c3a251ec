"""Termination messages: what a container leaves in ``state.terminated.message``.

The kubelet mounts a fresh file of its own at the container's
``terminationMessagePath`` (default ``/dev/termination-log``) and reads it when
the container ends. A process of the process runtime has no mount namespace:
``/dev/termination-log`` would be the host's file, shared by every pod. So each
run gets its own empty file under the agent's data dir, and its path in
``KCTL_TERMINATION_MESSAGE_PATH``; a container that writes its message there
gets it reported. A ``terminationMessagePath`` outside ``/dev`` is a host path
the process can write itself: it is read too, if the run modified it, as the
second choice. ``FallbackToLogsOnError`` takes the end of the log, as the
kubelet does, when a failed container left no message.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from node.runtime.logfile import read_records, run_files

ENV_VAR = "KCTL_TERMINATION_MESSAGE_PATH"
# The kubelet's limits (pkg/kubelet/container): the file's last 4 KiB; from the
# log, the first 2 KiB of its last 80 lines.
MAX_MESSAGE = 4 * 1024
FALLBACK_LINES = 80
FALLBACK_BYTES = 2 * 1024


def message_path(run_dir: Path) -> Path:
    return run_dir / "termination-log"


def prepare(run_dir: Path) -> Path:
    """An empty message file for one run, made before the process starts."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = message_path(run_dir)
    path.write_bytes(b"")
    return path


def read_message(container: dict, run_file: Path, started: float, exit_code: int,
                 log_dir: Path, restart_count: int) -> str:
    """The message of a run that ended ``exit_code`` after starting at
    ``started`` (a time.time()), or ""."""
    data = _tail(run_file)
    declared = container.get("terminationMessagePath") or "/dev/termination-log"
    if not data and not declared.startswith("/dev/"):
        data = _tail(Path(declared), modified_after=started)
    message = data.decode(errors="replace")
    fallback = container.get("terminationMessagePolicy") == "FallbackToLogsOnError"
    if not message and fallback and exit_code != 0:
        message = log_tail(log_dir, restart_count)
    return message


def _tail(path: Path, modified_after: float | None = None) -> bytes:
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return b""
            if modified_after is not None and info.st_mtime < modified_after:
                return b""  # left by something else, not this run
            handle.seek(max(info.st_size - MAX_MESSAGE, 0))
            return handle.read(MAX_MESSAGE)
    except OSError:
        return b""


def log_tail(log_dir: Path, restart_count: int) -> str:
    """The first FALLBACK_BYTES of the last FALLBACK_LINES lines of a run's log,
    stdout and stderr together, as `kubectl logs --tail=80 --limit-bytes=2048`."""
    lines: list[bytes] = []
    current = b""
    for path in run_files(log_dir, restart_count):
        for record, _ in read_records(path):
            current += record.content
            if not record.partial:
                lines.append(current + b"\n")
                current = b""
            del lines[:-FALLBACK_LINES]
    if current:
        lines = (lines + [current])[-FALLBACK_LINES:]
    return b"".join(lines)[:FALLBACK_BYTES].decode(errors="replace")
