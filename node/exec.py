"""Running a command in a container: the agent's side of ``pods/exec``.

``GET /exec/{namespace}/{pod}/{container}?command=..&stdin=..&stdout=..
&stderr=..&tty=..`` upgrades to a WebSocket speaking :mod:`node.channels`.
The command runs as a new process in its own session with the container's
environment and working directory, as a container runtime starts an exec'd
process in the container's namespaces. It gets a pseudo-terminal when ``tty``
is set. When the command exits, what is left of its process group is killed,
its output is drained, its Status goes on the error stream and the WebSocket
closes; when the client goes away first, the group is killed.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import pty
import signal
import struct
import subprocess
import termios
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from node import channels
from node.pods import ExecUnavailable
from node.runtime import process as proc

log = logging.getLogger("node.exec")

CHUNK = 32 * 1024
# How long output may still come once the command's group is dead: only a
# process that left the group (setsid) can hold a pipe open longer.
DRAIN_SECONDS = 2.0
_TRUE = {"1", "t", "T", "true", "TRUE", "True"}


@dataclass(frozen=True)
class ExecOptions:
    command: list[str]
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool

    @classmethod
    def from_query(cls, query) -> "ExecOptions":
        def flag(name: str) -> bool:
            return query.get(name, "") in _TRUE

        tty = flag("tty")
        # A terminal has one output: the kubelet drops stderr with a tty.
        return cls(query.getall("command", []), flag("stdin"), flag("stdout"),
                   flag("stderr") and not tty, tty)


class Child:
    """The exec'd process and the agent's ends of its streams (raw fds, or
    one pty master for all of them)."""

    def __init__(self, process: proc.ContainerProcess, stdin: int | None,
                 outputs: dict[int, int], tty: bool):
        self.process = process
        self.stdin = stdin
        self.outputs = outputs  # stream -> fd
        self.tty = tty
        self._fds = {fd for fd in (stdin, *outputs.values()) if fd is not None}
        for fd in self._fds:
            os.set_blocking(fd, False)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def write_stdin(self, data: bytes) -> None:
        if self.stdin is not None:
            await _write_fd(self.stdin, data)

    async def close_stdin(self) -> None:
        if self.stdin is None:
            return
        if self.tty:
            # A terminal cannot be half-closed: ^D is its end of input.
            await _write_fd(self.stdin, b"\x04")
            return
        self._fds.discard(self.stdin)
        os.close(self.stdin)
        self.stdin = None

    def resize(self, width: int, height: int) -> None:
        if self.tty:
            fcntl.ioctl(self.stdin, termios.TIOCSWINSZ,
                        struct.pack("HHHH", height, width, 0, 0))

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()


def start_child(options: ExecOptions, env: dict, cwd: str) -> Child:
    """Start the command; raise StartError with runc's words if it can't."""
    if not os.path.isdir(cwd):
        raise proc.StartError(f'chdir to cwd ("{cwd}") set in the container spec '
                              "failed: no such file or directory")
    executable = proc.resolve_executable(options.command[0], env, cwd)
    ours, theirs = _stream_fds(options)
    try:
        popen = subprocess.Popen(
            options.command, executable=executable, cwd=cwd,
            env={"TERM": "xterm", **env} if options.tty else env,
            stdin=theirs[0], stdout=theirs[1], stderr=theirs[2],
            start_new_session=True, close_fds=True,
            preexec_fn=_take_terminal if options.tty else None)
    except OSError as err:
        for fd in set(ours.values()):
            os.close(fd)
        raise proc.StartError(f'exec: "{options.command[0]}": '
                              f"{os.strerror(err.errno).lower()}") from err
    finally:
        for fd in set(theirs) - {subprocess.DEVNULL}:
            os.close(fd)
    identity = proc.identify(popen.pid) or proc.ProcessIdentity(popen.pid, 0, "")
    process = proc.ContainerProcess(identity, popen)
    stdin = ours.pop(channels.STDIN, None)
    return Child(process, stdin, ours, options.tty)


def _stream_fds(options: ExecOptions) -> tuple[dict[int, int], list[int]]:
    """The agent's fd of each stream, and the child's stdin, stdout, stderr."""
    if options.tty:
        master, slave = pty.openpty()
        return {channels.STDIN: master, channels.STDOUT: master}, [slave] * 3
    ours, theirs = {}, []
    for stream, wanted in ((channels.STDIN, options.stdin),
                           (channels.STDOUT, options.stdout),
                           (channels.STDERR, options.stderr)):
        if not wanted:
            theirs.append(subprocess.DEVNULL)
            continue
        read, write = os.pipe()
        ours[stream], child = (write, read) if stream == channels.STDIN else \
            (read, write)
        theirs.append(child)
    return ours, theirs


def _take_terminal() -> None:
    # In the child, after setsid: make the pty (its stdin) the session's
    # controlling terminal, so ^C and job control reach the command.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


async def _read_fd(fd: int) -> bytes:
    """The next chunk of a non-blocking fd; b"" at its end (EIO for a pty
    whose other side is closed)."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            return os.read(fd, CHUNK)
        except BlockingIOError:
            await _wait_fd(loop.add_reader, loop.remove_reader, fd)
        except OSError as err:
            if err.errno == errno.EIO:
                return b""
            raise


async def _write_fd(fd: int, data: bytes) -> None:
    loop = asyncio.get_running_loop()
    while data:
        try:
            data = data[os.write(fd, data):]
        except BlockingIOError:
            await _wait_fd(loop.add_writer, loop.remove_writer, fd)
        except OSError:
            return  # the terminal is gone with its command


async def _wait_fd(add, remove, fd: int) -> None:
    ready = asyncio.get_running_loop().create_future()
    add(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        remove(fd)


class ExecSession:
    """One exec: pumps the command's streams over an upgraded WebSocket."""

    def __init__(self, ws: web.WebSocketResponse, options: ExecOptions):
        self.ws = ws
        self.options = options

    async def run(self, env: dict, cwd: str) -> None:
        try:
            child = start_child(self.options, env, cwd)
        except proc.StartError as err:
            await self._end(channels.internal_error(
                f"error executing command in container: {err.message}"))
            return
        try:
            await self._serve(child)
        finally:
            child.process.signal_group(signal.SIGKILL)
            child.close()

    async def _serve(self, child: Child) -> None:
        pumps = [asyncio.create_task(self._pump(stream, fd))
                 for stream, fd in child.outputs.items()]
        client = asyncio.create_task(self._read_client(child))
        exited = asyncio.create_task(child.process.exited.wait())
        try:
            await asyncio.wait({client, exited}, return_when=asyncio.FIRST_COMPLETED)
            if not exited.done():
                log.debug("exec pid %d: the client went away", child.pid)
                return
            # The rest of the command's group died with it (ContainerProcess),
            # as a container's processes die with its init: what it wrote
            # before is still to be read.
            await asyncio.wait(pumps, timeout=DRAIN_SECONDS)
        finally:
            for task in (*pumps, client, exited):
                task.cancel()
        code = child.process.exit_code or 0
        log.debug("exec pid %d: exited code=%d", child.pid, code)
        status = channels.success() if code == 0 else \
            channels.exit_failure(code, self.options.command)
        await self._end(status)

    async def _pump(self, stream: int, fd: int) -> None:
        while True:
            data = await _read_fd(fd)
            if not data:
                return
            await self.ws.send_bytes(channels.frame(stream, data))

    async def _read_client(self, child: Child) -> None:
        """Feed stdin and resizes to the command until the client closes."""
        async for message in self.ws:
            if message.type != WSMsgType.BINARY or not message.data:
                continue
            stream, data = channels.parse(message.data)
            if stream == channels.STDIN and self.options.stdin:
                await child.write_stdin(data)
            elif stream == channels.CLOSE and data[:1] == bytes((channels.STDIN,)):
                await child.close_stdin()
            elif stream == channels.RESIZE:
                try:
                    child.resize(*channels.parse_resize(data))
                except ValueError as err:
                    log.debug("exec pid %d: %s", child.pid, err)

    async def _end(self, status: bytes) -> None:
        if self.ws.closed:
            return
        try:
            await self.ws.send_bytes(channels.frame(channels.ERROR, status))
        except ConnectionError:
            return
        await self.ws.close()


async def serve_exec(request: web.Request, find) -> web.StreamResponse:
    """The /exec handler; ``find(namespace, name)`` gives a pod's worker."""
    namespace, pod = request.match_info["namespace"], request.match_info["pod"]
    container = request.match_info["container"]
    options = ExecOptions.from_query(request.query)
    log.debug("request GET exec %s/%s/%s %s", namespace, pod, container,
              options.command)
    refusal = _refusal(request, options)
    worker = find(namespace, pod)
    if refusal is None and worker is None:
        refusal = (404, f'pod "{pod}" does not exist')
    if refusal is None:
        try:
            env, cwd = worker.exec_target(container)
        except ExecUnavailable as err:
            refusal = (404, str(err))
    if refusal is not None:
        return web.Response(status=refusal[0], text=refusal[1])
    ws = web.WebSocketResponse(protocols=channels.PROTOCOLS)
    await ws.prepare(request)
    await ExecSession(ws, options).run(env, cwd)
    return ws


def _refusal(request: web.Request, options: ExecOptions) -> tuple[int, str] | None:
    if not options.command:
        return 400, "you must specify at least 1 command"
    if not (options.stdin or options.stdout or options.stderr):
        return 400, "you must specify at least 1 of stdin, stdout, stderr"
    offered = request.headers.get("Sec-WebSocket-Protocol", "")
    if request.headers.get("Upgrade", "").lower() != "websocket" or \
            channels.negotiate(offered) is None:
        return 400, (f"exec needs a WebSocket upgrade to one of "
                     f"{', '.join(channels.PROTOCOLS)}")
    return None
