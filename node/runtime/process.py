"""The process runtime: one container is one local process group.

A container's process is started in a new session, so it leads its own process
group and a signal to the group reaches every child it forks, as a signal to a
container's PID namespace would. When the main process exits, what is left of
its group is killed, as a container's other processes die with its init.

stdout and stderr are named pipes (FIFOs) that the child holds open for both
reading and writing: a pipe with a reader never raises EPIPE, so the child
keeps running while the agent restarts, and the next agent reads on from where
the last one stopped. See :mod:`node.runtime.logfile` for the reading end.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shutil
import signal
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping

log = logging.getLogger("node.runtime")

# Variables a local process needs to work at all; a container image would
# provide them. Nothing else of the agent's environment leaks into a pod.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class StartError(Exception):
    """A container could not be started: reason StartError, exit code 128."""

    exit_code = 128

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def expand(text: str, env: Mapping[str, str]) -> str:
    """Expand ``$(VAR)`` references as Kubernetes does for command, args and env.

    ``$$`` is an escaped ``$``; a reference to an undefined variable and an
    unclosed ``$(`` are left as written.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char != "$" or i + 1 >= n:
            out.append(char)
            i += 1
            continue
        following = text[i + 1]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "(":
            close = text.find(")", i + 2)
            if close < 0:
                out.append("$(")
                i += 2
                continue
            name = text[i + 2:close]
            out.append(env[name] if name in env else f"$({name})")
            i = close + 1
        else:
            out.append("$" + following)
            i += 2
    return "".join(out)


def base_env(agent_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every container starts from, before its own ``env``."""
    source = os.environ if agent_env is None else agent_env
    env = {name: source[name] for name in INHERITED_ENV if name in source}
    env.setdefault("PATH", DEFAULT_PATH)
    return env


@dataclass(frozen=True)
class ProcessIdentity:
    """A process that cannot be confused with a later one reusing its pid."""

    pid: int
    start_ticks: int
    boot_id: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ProcessIdentity":
        return cls(int(data["pid"]), int(data["start_ticks"]), str(data["boot_id"]))

    def is_alive(self) -> bool:
        """Whether this very process still runs (not a zombie, not a new pid)."""
        if self.boot_id != boot_id():
            return False
        stat = _proc_stat(self.pid)
        return stat is not None and stat[0] != "Z" and stat[1] == self.start_ticks


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """The state letter and start time (clock ticks after boot) of a process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ")".
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[19])


def identify(pid: int) -> ProcessIdentity | None:
    stat = _proc_stat(pid)
    if stat is None:
        return None
    return ProcessIdentity(pid, stat[1], boot_id())


def resolve_executable(argv0: str, env: Mapping[str, str], cwd: str) -> str:
    """Find the file to exec, or raise StartError with runc's wording."""
    if "/" in argv0:
        path = os.path.join(cwd, argv0)
        if not os.path.exists(path):
            raise StartError(f'exec: "{argv0}": stat {argv0}: no such file or directory')
        if os.path.isdir(path) or not os.access(path, os.X_OK):
            raise StartError(f'exec: "{argv0}": permission denied')
        return path
    found = shutil.which(argv0, path=env.get("PATH", DEFAULT_PATH))
    if found is None:
        raise StartError(f'exec: "{argv0}": executable file not found in $PATH')
    return found


def make_pipes(run_dir: Path) -> tuple[Path, Path]:
    """Create the stdout and stderr FIFOs of one container run."""
    run_dir.mkdir(parents=True, exist_ok=True)
    paths = (run_dir / "stdout", run_dir / "stderr")
    for path in paths:
        if not path.exists():
            os.mkfifo(path, 0o600)
    return paths


def open_reader(path: Path) -> int:
    """The agent's end of a container pipe: non-blocking, never waits for a writer."""
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)


class ContainerProcess:
    """A running container process: started here, or adopted after a restart.

    ``exited`` is set once the process is gone; ``exit_code`` is then its exit
    status as Kubernetes reports it (128 + signal when killed), or None when the
    process was adopted and its status went to another parent.
    """

    def __init__(self, identity: ProcessIdentity, popen: subprocess.Popen | None):
        self.identity = identity
        self.popen = popen
        self.exit_code: int | None = None
        self.exited = asyncio.Event()
        self._pidfd: int | None = None
        self._watch()

    @property
    def pid(self) -> int:
        return self.identity.pid

    @classmethod
    def adopt(cls, identity: ProcessIdentity) -> "ContainerProcess | None":
        if not identity.is_alive():
            return None
        return cls(identity, None)

    def _watch(self) -> None:
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            self._on_exit()
            return
        asyncio.get_running_loop().add_reader(self._pidfd, self._on_exit)

    def _on_exit(self) -> None:
        if self._pidfd is not None:
            asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        # Kill the rest of the group before reaping: an unreaped leader keeps the
        # group id from being reused, so the signal cannot reach strangers.
        self.signal_group(signal.SIGKILL)
        if self.popen is not None:
            code = self.popen.wait()
            self.exit_code = 128 - code if code < 0 else code
        self.exited.set()

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    async def stop(self, grace: float) -> None:
        """SIGTERM the group, then SIGKILL it once ``grace`` seconds have passed."""
        if self.exited.is_set():
            return
        self.signal_group(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.exited.wait(), max(grace, 0))
        except asyncio.TimeoutError:
            self.signal_group(signal.SIGKILL)
            await self.exited.wait()


def start(argv: list[str], env: Mapping[str, str], cwd: str,
          stdout: Path, stderr: Path) -> ContainerProcess:
    """Start a container's process in its own session; raise StartError if it can't."""
    if not os.path.isdir(cwd):
        raise StartError(f'chdir to cwd ("{cwd}") set in the container spec failed: '
                         "no such file or directory")
    executable = resolve_executable(argv[0], env, cwd)
    out_fd = os.open(stdout, os.O_RDWR)
    err_fd = os.open(stderr, os.O_RDWR)
    try:
        popen = subprocess.Popen(
            argv, executable=executable, env=dict(env), cwd=cwd,
            stdin=subprocess.DEVNULL, stdout=out_fd, stderr=err_fd,
            start_new_session=True, close_fds=True)
    except OSError as err:
        raise StartError(f'exec: "{argv[0]}": {_errno_text(err)}') from err
    finally:
        os.close(out_fd)
        os.close(err_fd)
    identity = identify(popen.pid) or ProcessIdentity(popen.pid, 0, boot_id())
    return ContainerProcess(identity, popen)


def _errno_text(err: OSError) -> str:
    return os.strerror(err.errno).lower() if err.errno else str(err)


def kill_identity(identity: ProcessIdentity) -> bool:
    """SIGKILL the group of a recorded process if it is still that process."""
    if not identity.is_alive():
        return False
    try:
        os.killpg(identity.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError) as err:
        if getattr(err, "errno", None) != errno.ESRCH:
            log.debug("kill %d: %s", identity.pid, err)
        return False
    return True
