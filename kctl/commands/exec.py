"""kctl exec: run a command in a container over the exec subresource.

The connection is a WebSocket speaking the v5.channel.k8s.io protocol, as
kubectl 1.30 and later speak it: every binary message starts with its
stream (0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 terminal size;
255 closes a stream). The exit code is the command's, as with kubectl.
"""

from __future__ import annotations

import json
import os
import sys

import click

from kctl.errors import AlreadyReported, CommandError, UsageError
from kctl.options import connection_options, session

PROTOCOL = "v5.channel.k8s.io"
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255

EXAMPLES = """
\b
Examples:
  kctl exec web -- ls /tmp
  kctl exec web -c sidecar -- env
  echo hello | kctl exec -i web -- cat
  kctl exec -it web -- sh
"""


class ExitCode(AlreadyReported):
    """The command ran and exited non-zero: its code is ours."""

    def __init__(self, code: int):
        super().__init__()
        self.exit_code = code


@click.command(epilog=EXAMPLES, context_settings={"ignore_unknown_options": False})
@click.argument("words", nargs=-1, metavar="POD [--] COMMAND [ARGS...]")
@click.option("-c", "--container", default="", help="The container's name.")
@click.option("-i", "--stdin", "use_stdin", is_flag=True,
              help="Pass stdin to the command.")
@click.option("-t", "--tty", is_flag=True, help="Run the command on a terminal.")
@click.option("-q", "--quiet", is_flag=True, help="Say nothing of our own.")
@connection_options
def exec_command(words, container, use_stdin, tty, quiet):
    """Execute a command in a container."""
    s = session()
    if not words:
        raise UsageError("expected 'exec (POD | TYPE/NAME) [-c CONTAINER] "
                         "[flags] -- COMMAND [args...]'.\nPOD or TYPE/NAME is a "
                         "required argument for the exec command\n"
                         "See 'kctl exec -h' for help and examples")
    if not words[0]:
        raise CommandError("pod, type/name or --filename must be specified")
    pod_name, command = _pod_name(words[0]), list(words[1:])
    if not command:
        raise UsageError("you must specify at least one command for the container")
    pod = s.client.get(f"/api/v1/namespaces/{s.namespace}/pods/{pod_name}")
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise CommandError("cannot exec into a container in a completed pod; "
                           f"current phase is {phase}")
    container = container or _default_container(s, pod, quiet)
    if tty and not (use_stdin and sys.stdin.isatty()):
        # As kubectl: a terminal needs -i; without it -t is dropped quietly.
        if use_stdin and not quiet:
            s.warn("Unable to use a TTY - input is not a terminal or the right "
                   "kind of file")
        tty = False
    import asyncio

    try:
        code = asyncio.run(_run(s, pod_name, container, command, use_stdin, tty))
    except _Refused as refused:
        _explain_refusal(s, pod_name, container, command, refused.status)
    if code:
        s.warn(f"command terminated with exit code {code}")
        raise ExitCode(code)


def _pod_name(arg: str) -> str:
    kind, slash, name = arg.partition("/")
    if not slash:
        return arg
    if kind not in ("pod", "pods", "po"):
        # TODO: kubectl also takes deploy/NAME and the like, picking one of
        # its pods through the selector.
        raise UsageError(f"cannot exec into {kind}/{name}: only pods are supported")
    return name


def _default_container(s, pod: dict, quiet: bool) -> str:
    from kctl.commands.logs import default_container

    return default_container(s, pod, quiet)


def _url(s, pod: str, container: str, command: list[str], use_stdin: bool,
         tty: bool) -> str:
    from urllib.parse import urlencode

    client = s.client
    query = [("command", word) for word in command]
    query += [("container", container), ("stdout", "true")]
    if use_stdin:
        query.append(("stdin", "true"))
    if tty:
        query.append(("tty", "true"))
    else:
        query.append(("stderr", "true"))
    scheme = "wss" if client.scheme == "https" else "ws"
    return (f"{scheme}://{client.host}:{client.port}{client.prefix}/api/v1/"
            f"namespaces/{s.namespace}/pods/{pod}/exec?{urlencode(query)}")


async def _run(s, pod: str, container: str, command: list[str], use_stdin: bool,
               tty: bool) -> int:
    import aiohttp

    client = s.client
    headers = {}
    auth = client._authorization()
    if auth:
        headers["Authorization"] = auth
    ssl = client._tls_context() if client.scheme == "https" else None
    url = _url(s, pod, container, command, use_stdin, tty)
    async with aiohttp.ClientSession() as http:
        try:
            ws = await http.ws_connect(url, protocols=[PROTOCOL], headers=headers,
                                       ssl=ssl if ssl is not None else True,
                                       max_msg_size=0, autoping=True)
        except aiohttp.WSServerHandshakeError as exc:
            raise _Refused(exc.status) from None
        except aiohttp.ClientError as exc:
            raise CommandError(f"unable to upgrade connection: {exc}") from None
        async with ws:
            with _terminal(tty) as restore:
                tasks = []
                if use_stdin:
                    tasks.append(asyncio_task(_pump_stdin(ws, tty)))
                if tty:
                    tasks.append(asyncio_task(_pump_resizes(ws)))
                try:
                    return await _read(s, ws, restore)
                finally:
                    for task in tasks:
                        task.cancel()


def asyncio_task(coro):
    import asyncio

    return asyncio.get_running_loop().create_task(coro)


class _Refused(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def _explain_refusal(s, pod: str, container: str, command: list[str],
                     status: int) -> None:
    """The server's Status for a refused upgrade, as an APIError: aiohttp
    keeps only the status line of the answer, so ask again without the
    upgrade; the server checks pod and container first."""
    query = {"command": command[0], "container": container, "stdout": "true"}
    s.client.request("GET", f"/api/v1/namespaces/{s.namespace}/pods/{pod}/exec",
                     query)
    raise CommandError(f"unable to upgrade connection: the server answered {status}")


async def _read(s, ws, restore) -> int:
    import aiohttp

    out = _binary(s.out)
    err = _binary(s.err)
    async for message in ws:
        if message.type != aiohttp.WSMsgType.BINARY or not message.data:
            continue
        stream, data = message.data[0], message.data[1:]
        if stream == STDOUT:
            out(data)
        elif stream == STDERR:
            err(data)
        elif stream == ERROR:
            restore()
            return _exit_code(data)
    restore()
    # The status always comes last: a connection closed before it lost the
    # command's outcome (and perhaps its output), which is no success.
    raise CommandError("the connection to the server closed before the command's "
                       f"exit status arrived (close code {ws.close_code})")


def _exit_code(data: bytes) -> int:
    try:
        status = json.loads(data)
    except ValueError:
        raise CommandError(data.decode("utf-8", "replace")) from None
    if status.get("status") == "Success":
        return 0
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                return int(cause.get("message", "1"))
        return 1
    raise CommandError(status.get("message") or "the command failed")


def _binary(stream):
    """A function writing bytes to a text stream (or its binary buffer)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        def write(data: bytes) -> None:
            stream.flush()
            buffer.write(data)
            buffer.flush()
        return write

    def write_text(data: bytes) -> None:
        stream.write(data.decode("utf-8", "replace"))
    return write_text


async def _pump_stdin(ws, tty: bool) -> None:
    """stdin to the command, then its close. The loop watches the descriptor
    (a thread blocked in read would keep the process from exiting); a
    regular file, which cannot be watched, never blocks and is read whole."""
    import asyncio

    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno()
    chunks: asyncio.Queue = asyncio.Queue()

    def readable() -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        chunks.put_nowait(data)
        if not data:
            loop.remove_reader(fd)

    try:
        loop.add_reader(fd, readable)
    except PermissionError:
        with open(fd, "rb", closefd=False) as whole:
            # In pieces: one WebSocket message of a whole large file passes
            # the size a server takes in one message.
            while piece := whole.read(65536):
                chunks.put_nowait(piece)
        chunks.put_nowait(b"")
    try:
        while data := await chunks.get():
            await ws.send_bytes(bytes([STDIN]) + data)
        if not tty:
            await ws.send_bytes(bytes([CLOSE, STDIN]))
    finally:
        loop.remove_reader(fd)


async def _pump_resizes(ws) -> None:
    import asyncio
    import signal

    changed = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGWINCH, changed.set)
    try:
        while True:
            size = os.get_terminal_size(sys.stdin.fileno())
            await ws.send_bytes(bytes([RESIZE]) + json.dumps(
                {"Width": size.columns, "Height": size.lines}).encode())
            await changed.wait()
            changed.clear()
    finally:
        loop.remove_signal_handler(signal.SIGWINCH)


class _terminal:
    """Raw mode on the local terminal for -t, put back on exit (or sooner,
    before the exit line is printed)."""

    def __init__(self, tty: bool):
        self.tty = tty
        self.saved = None

    def __enter__(self):
        if self.tty:
            import termios
            import tty

            fd = sys.stdin.fileno()
            self.saved = termios.tcgetattr(fd)
            tty.setraw(fd)
        return self.restore

    def restore(self) -> None:
        if self.saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self.saved)
            self.saved = None

    def __exit__(self, *exc) -> None:
        self.restore()
