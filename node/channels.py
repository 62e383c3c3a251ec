"""The channel framing of remote commands over WebSocket (v4 and
v5.channel.k8s.io), as client-go's remotecommand speaks it.

Every binary message starts with one byte naming its stream; the rest is that
stream's data. The error stream carries one JSON ``Status`` at the end of the
command, the resize stream a JSON ``{"Width": .., "Height": ..}`` per change,
and v5 adds the message ``[255, stream]`` to close a stream, so that the end
of stdin reaches the command.
See https://github.com/kubernetes/enhancements/tree/master/keps/sig-api-machinery/3396-websocket-protocol-enhancements
"""

from __future__ import annotations

import orjson

STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
CLOSE = 255

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
# In the order a server prefers them; kubectl 1.30+ offers only v5.
PROTOCOLS = (V5, V4)

# remotecommand's NonZeroExitCodeReason and ExitCodeCauseType.
NON_ZERO_EXIT = "NonZeroExitCode"
EXIT_CODE_CAUSE = "ExitCode"


def frame(stream: int, data: bytes = b"") -> bytes:
    return bytes((stream,)) + data


def close_frame(stream: int) -> bytes:
    return bytes((CLOSE, stream))


def parse(message: bytes) -> tuple[int, bytes]:
    """The stream and data of a message; ValueError for an empty message."""
    if not message:
        raise ValueError("a channel message needs at least its stream byte")
    return message[0], message[1:]


def parse_resize(data: bytes) -> tuple[int, int]:
    """Width and height of a resize message; ValueError if it is not one."""
    try:
        size = orjson.loads(data)
        return int(size["Width"]), int(size["Height"])
    except (orjson.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"bad resize message {data!r}") from err


def negotiate(offered: str) -> str | None:
    """The protocol to answer a Sec-WebSocket-Protocol header with, or None."""
    names = {name.strip() for name in offered.split(",")}
    return next((name for name in PROTOCOLS if name in names), None)


def success() -> bytes:
    return orjson.dumps({"metadata": {}, "status": "Success"})


def exit_failure(code: int, argv: list[str]) -> bytes:
    """The Status of a command that exited with ``code``, worded as the
    kubelet and containerd word it; client-go turns it into the exit code."""
    detail = f"error executing command {_go_list(argv)}, exit code {code}"
    return orjson.dumps({
        "metadata": {}, "status": "Failure",
        "message": f"command terminated with non-zero exit code: {detail}",
        "reason": NON_ZERO_EXIT,
        "details": {"causes": [{"reason": EXIT_CODE_CAUSE, "message": str(code)}]},
    })


def internal_error(message: str) -> bytes:
    """An InternalError Status, as apierrors.NewInternalError writes it."""
    return orjson.dumps({
        "metadata": {}, "status": "Failure",
        "message": f"Internal error occurred: {message}",
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]}, "code": 500,
    })


def _go_list(items: list[str]) -> str:
    # Go's %v of a []string.
    return "[" + " ".join(items) + "]"
