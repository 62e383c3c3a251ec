"""The channel framing of remote commands (node/channels.py)."""

import orjson
import pytest

from node import channels


@pytest.mark.parametrize("stream, data, message", [
    (channels.STDIN, b"abc", b"\x00abc"),
    (channels.STDOUT, b"out", b"\x01out"),
    (channels.STDERR, b"", b"\x02"),
    (channels.ERROR, b"{}", b"\x03{}"),
], ids=["stdin", "stdout", "empty-stderr", "error"])
def test_frame_and_parse_round_trip(stream, data, message):
    assert channels.frame(stream, data) == message
    assert channels.parse(message) == (stream, data)


def test_close_names_the_stream_in_its_second_byte():
    assert channels.close_frame(channels.STDIN) == b"\xff\x00"
    assert channels.parse(b"\xff\x00") == (channels.CLOSE, b"\x00")


def test_an_empty_message_has_no_stream():
    with pytest.raises(ValueError):
        channels.parse(b"")


def test_resize_reads_width_and_height():
    assert channels.parse_resize(b'{"Width":120,"Height":40}') == (120, 40)
    with pytest.raises(ValueError):
        channels.parse_resize(b'{"Width":120}')


@pytest.mark.parametrize("offered, chosen", [
    ("v5.channel.k8s.io", "v5.channel.k8s.io"),
    ("v4.channel.k8s.io, v5.channel.k8s.io", "v5.channel.k8s.io"),
    ("v4.channel.k8s.io", "v4.channel.k8s.io"),
    ("channel.k8s.io, base64.channel.k8s.io", None),
    ("", None),
], ids=["v5", "v5-preferred", "v4", "old-only", "none"])
def test_negotiate_prefers_v5(offered, chosen):
    assert channels.negotiate(offered) == chosen


def test_success_status():
    assert channels.success() == b'{"metadata":{},"status":"Success"}'


def test_exit_failure_status_carries_the_code_as_client_go_reads_it():
    status = orjson.loads(channels.exit_failure(3, ["sh", "-c", "exit 3"]))

    assert status == {
        "metadata": {}, "status": "Failure",
        "message": "command terminated with non-zero exit code: error executing "
                   "command [sh -c exit 3], exit code 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }


def test_internal_error_status():
    status = orjson.loads(channels.internal_error("it broke"))

    assert (status["reason"], status["code"], status["message"]) == (
        "InternalError", 500, "Internal error occurred: it broke")
