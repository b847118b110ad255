"""What the AJP13 codec says about bad input, word for word, and where its limits are.
A node logs the AjpError of a connection it drops: the line must say what was wrong
(bad magic and the bytes seen, which length ran out), or a front end speaking HTTP to
the AJP port looks like any other crash. Limits at their edges: the last method code,
the last header code, a packet of exactly ProxyIOBufferSize."""

from __future__ import annotations

import io

import pytest

from lab.oxnode import ajp
from tests.unit.test_ajp_protocol import Wire as Stream


def _forward(method_code: int, header: bytes = b"") -> bytes:
    """A forward request payload with one header (`header`: its name as sent) or none."""
    w = ajp.Writer().byte(ajp.FORWARD_REQUEST).byte(method_code)
    w.string("HTTP/1.1").string("/").string("10.0.0.1").string(None).string("web")
    w.integer(80).boolean(False).integer(1 if header else 0)
    payload = b"".join(w.parts) + header
    return payload + (b"\x00\x01v\x00" if header else b"") + bytes([ajp.ARE_DONE])


@pytest.mark.parametrize(
    ("packet", "says"),
    [
        (b"\x12", "truncated packet header"),
        (b"GET / HTTP/1.1\r\n", "bad magic 4745, expected 1234"),
        (b"\x12\x34\x00\x10\x02", "truncated packet"),
        (b"\x12\x34\x1f\xfd", "packet of 8189 bytes exceeds the 8192-byte limit"),
    ],
)
def test_read_packet_says_what_was_wrong(packet: bytes, says: str) -> None:
    with pytest.raises(ajp.AjpError) as raised:
        ajp.read_packet(io.BytesIO(packet), ajp.SERVER_MAGIC)
    assert str(raised.value) == says


def test_a_packet_of_exactly_the_buffer_size_is_read() -> None:
    payload = b"x" * (ajp.MAX_PACKET - 4)
    assert ajp.read_packet(io.BytesIO(b"\x12\x34\x1f\xfc" + payload), ajp.SERVER_MAGIC) == payload


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (b"\x07", "not a forward request"),
        (_forward(0), "unknown method code 0"),
        (_forward(len(ajp.METHODS) + 1), f"unknown method code {len(ajp.METHODS) + 1}"),
        (_forward(2, b"\xa0\x00"), "unknown request header code 0xa000"),
        (_forward(2, b"\xa0" + bytes([len(ajp.REQUEST_HEADERS) + 1])), "unknown request "
         f"header code {0xA000 + len(ajp.REQUEST_HEADERS) + 1:#x}"),
        (_forward(2)[:-1] + b"\x0e", "unknown attribute code 0xe"),
        (_forward(2)[:-1], f"packet ends after {len(_forward(2)) - 1} bytes, needed "
         f"{len(_forward(2))}"),
        (b"\x02\x02\x00\x01xy", "string not NUL-terminated"),
    ],
)  # fmt: skip
def test_forward_request_errors_say_what_was_wrong(payload: bytes, says: str) -> None:
    with pytest.raises(ajp.AjpError) as raised:
        ajp.decode_forward_request(payload)
    assert str(raised.value) == says


def test_the_last_method_and_header_codes_are_valid() -> None:
    assert ajp.decode_forward_request(_forward(len(ajp.METHODS))).method == "MKACTIVITY"
    last = bytes([0xA0, len(ajp.REQUEST_HEADERS)])
    assert ajp.decode_forward_request(_forward(2, last)).headers == [("user-agent", "v")]


def test_a_string_is_read_as_utf_8() -> None:
    assert ajp.Reader(b"\x00\x02\xc3\xa9\x00").string() == "é"


def test_a_response_that_ends_without_headers_has_status_0_and_no_reason() -> None:
    response = ajp.decode_response(Stream(ajp.encode_end_response(True)))
    assert (response.status, response.reason, response.body, response.reuse) == (0, "", b"", True)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "connection closed before End Response"),
        (ajp.Writer().byte(ajp.FORWARD_REQUEST).packet(ajp.CONTAINER_MAGIC),
         "unexpected packet type 2"),
        (ajp.Writer().byte(ajp.SEND_HEADERS).integer(200).string("OK").integer(1)
         .integer(0xA000 | (len(ajp.RESPONSE_HEADERS) + 1)).packet(ajp.CONTAINER_MAGIC),
         f"unknown response header code {0xA000 | (len(ajp.RESPONSE_HEADERS) + 1):#x}"),
    ],
)  # fmt: skip
def test_response_errors_say_what_was_wrong(data: bytes, says: str) -> None:
    with pytest.raises(ajp.AjpError) as raised:
        ajp.decode_response(Stream(data))
    assert str(raised.value) == says


def test_a_body_asked_for_when_none_is_left_is_the_empty_packet() -> None:
    """Get Body Chunk after the body is used up: the client sends the empty body packet
    (length 0), which ends the body; decode_body reads an empty payload as no data."""
    stream = Stream(ajp.encode_get_body_chunk(100) + ajp.encode_end_response(False))
    ajp.decode_response(stream)
    assert stream.sent == b"\x12\x34\x00\x02\x00\x00"
    assert ajp.decode_body(b"") == b""


def test_a_payload_of_exactly_the_buffer_size_is_written_and_one_more_is_refused() -> None:
    fits = ajp.Writer().byte(1)
    fits.parts.append(b"x" * (ajp.MAX_PACKET - 5))
    assert len(fits.packet(ajp.CONTAINER_MAGIC)) == ajp.MAX_PACKET
    over = ajp.Writer().byte(1)
    over.parts.append(b"x" * (ajp.MAX_PACKET - 4))
    with pytest.raises(ajp.AjpError) as raised:
        over.packet(ajp.CONTAINER_MAGIC)
    assert str(raised.value) == "payload of 8189 bytes exceeds the 8192-byte packet"


def test_a_string_too_long_for_a_packet_is_an_ajp_error() -> None:
    """Its length field is unsigned 16 bits: 40,000 bytes encode, and the packet limit,
    not struct, refuses it."""
    with pytest.raises(ajp.AjpError, match="exceeds the 8192-byte packet"):
        ajp.Writer().string("x" * 40000).packet(ajp.SERVER_MAGIC)


def test_a_body_packet_over_the_send_size_is_refused() -> None:
    assert ajp.encode_body(b"x" * ajp.MAX_SEND_BODY)[:6] == b"\x12\x34\x1f\xfc\x1f\xfa"
    with pytest.raises(ajp.AjpError) as raised:
        ajp.encode_body(b"x" * (ajp.MAX_SEND_BODY + 1))
    assert str(raised.value) == "body packet too large"
