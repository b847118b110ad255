"""AJP13 pinned to the protocol, not to the lab's own encoder: golden byte sequences
written from the AJP13 specification's tables (ajpv13a: method codes, request header
codes 0xA001.., attribute codes, response header codes, packet layouts), a Forward
Request that real Apache mod_proxy_ajp sent (captured by tools/capture_ajp.py), and
fuzzing of both decoders, which may raise only AjpError."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.oxnode import ajp
from tests.unit.budget import examples

FIXTURES = Path(__file__).parent / "fixtures"


def s(text: str) -> bytes:
    """An AJP13 string: 2-byte length, bytes, NUL."""
    raw = text.encode()
    return struct.pack(">H", len(raw)) + raw + b"\x00"


def packet(magic: bytes, payload: bytes) -> bytes:
    return magic + struct.pack(">H", len(payload)) + payload


# GET /ajax/login over HTTPS, two coded headers and one plain one, route, secret, query
GOLDEN_FORWARD_REQUEST = packet(
    b"\x12\x34",
    b"\x02"  # JK_AJP13_FORWARD_REQUEST
    + b"\x02"  # method: GET is 2 (OPTIONS 1, GET 2, HEAD 3, POST 4)
    + s("HTTP/1.1")
    + s("/ajax/login")
    + s("10.0.0.7")
    + s("")
    + s("web")
    + b"\x01\xbb"  # server_port 443
    + b"\x01"  # is_ssl
    + b"\x00\x03"  # num_headers
    + b"\xa0\x0b"
    + s("web")  # SC_REQ_HOST
    + b"\xa0\x09"
    + s("JSESSIONID=a.OX1")  # SC_REQ_COOKIE
    + s("X-Forwarded-For")
    + s("192.0.2.1")  # not coded: sent by name
    + b"\x06"
    + s("OX1")  # SC_A_ROUTE
    + b"\x0c"
    + s("s3cret")  # SC_A_SECRET
    + b"\x05"
    + s("action=login")  # SC_A_QUERY_STRING
    + b"\xff",  # SC_A_ARE_DONE
)
GOLDEN_REQUEST = ajp.ForwardRequest(
    method="GET",
    uri="/ajax/login",
    remote_addr="10.0.0.7",
    remote_host="",
    server_name="web",
    server_port=443,
    is_ssl=True,
    headers=[("host", "web"), ("cookie", "JSESSIONID=a.OX1"), ("X-Forwarded-For", "192.0.2.1")],
    attributes={"route": "OX1", "secret": "s3cret", "query_string": "action=login"},
)


def test_forward_request_decodes_and_encodes_the_golden_bytes() -> None:
    payload = ajp.read_packet(io.BytesIO(GOLDEN_FORWARD_REQUEST), ajp.SERVER_MAGIC)
    assert payload is not None
    assert ajp.decode_forward_request(payload) == GOLDEN_REQUEST
    assert ajp.encode_forward_request(GOLDEN_REQUEST) == GOLDEN_FORWARD_REQUEST


@pytest.mark.parametrize(
    ("code", "method"),
    [(1, "OPTIONS"), (2, "GET"), (3, "HEAD"), (4, "POST"), (5, "PUT"), (6, "DELETE")],
)
def test_method_codes_are_the_specifications(code: int, method: str) -> None:
    body = GOLDEN_FORWARD_REQUEST[4:]
    payload = body[:1] + bytes([code]) + body[2:]
    assert ajp.decode_forward_request(payload).method == method
    encoded = ajp.encode_forward_request(ajp.ForwardRequest(method=method, uri="/", attributes={}))
    assert encoded[5] == code, f"{method} is method code {code}"


@pytest.mark.parametrize(
    ("attribute", "code"),
    [
        ("context", 0x01),
        ("servlet_path", 0x02),
        ("remote_user", 0x03),
        ("auth_type", 0x04),
        ("query_string", 0x05),
        ("route", 0x06),
        ("ssl_cert", 0x07),
        ("ssl_cipher", 0x08),
        ("ssl_session", 0x09),
        ("secret", 0x0C),
        ("stored_method", 0x0D),
    ],
)
def test_attribute_codes_are_the_specifications(attribute: str, code: int) -> None:
    encoded = ajp.encode_forward_request(
        ajp.ForwardRequest(method="GET", uri="/", attributes={attribute: "v"})
    )
    assert encoded.endswith(bytes([code]) + s("v") + b"\xff"), f"{attribute} is {code:#04x}"


GOLDEN_SEND_HEADERS = packet(
    b"AB",
    b"\x04"  # JK_AJP13_SEND_HEADERS
    + b"\x00\xc8"
    + s("OK")
    + b"\x00\x04"
    + b"\xa0\x01"
    + s("application/json")  # Content-Type
    + b"\xa0\x07"
    + s("JSESSIONID=a.OX1; Path=/")  # Set-Cookie
    + b"\xa0\x08"
    + s("legacy=1")  # Set-Cookie2
    + s("X-Ox-Node")
    + s("oxgw01"),
)
GOLDEN_HEADERS = [
    ("Content-Type", "application/json"),
    ("Set-Cookie", "JSESSIONID=a.OX1; Path=/"),
    ("Set-Cookie2", "legacy=1"),
    ("X-Ox-Node", "oxgw01"),
]
GOLDEN_BODY_CHUNK = packet(b"AB", b"\x03" + b"\x00\x04" + b"{ok}" + b"\x00")
GOLDEN_END_RESPONSE = packet(b"AB", b"\x05\x01")  # reuse the connection
GOLDEN_GET_BODY_CHUNK = packet(b"AB", b"\x06\x1f\xfa")  # up to 8186 bytes


def test_response_packets_are_the_golden_bytes() -> None:
    assert ajp.encode_send_headers(200, "OK", GOLDEN_HEADERS) == GOLDEN_SEND_HEADERS
    assert list(ajp.encode_body_chunks(b"{ok}")) == [GOLDEN_BODY_CHUNK]
    assert ajp.encode_end_response(True) == GOLDEN_END_RESPONSE
    assert ajp.encode_get_body_chunk(8186) == GOLDEN_GET_BODY_CHUNK
    assert ajp.CPING_PACKET == bytes.fromhex("1234 0001 0a")
    assert ajp.CPONG_PACKET == b"AB" + bytes.fromhex("0001 09")


class Wire(io.BytesIO):
    """A connection's incoming bytes; what the client writes back is kept apart."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sent = b""

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.sent += bytes(data)
        return len(data)


def test_golden_response_decodes_on_the_client_side() -> None:
    wire = Wire(
        GOLDEN_SEND_HEADERS + GOLDEN_GET_BODY_CHUNK + GOLDEN_BODY_CHUNK + GOLDEN_END_RESPONSE
    )
    response = ajp.decode_response(wire, body=b"name=x")
    assert (response.status, response.reason, response.body, response.reuse) == (
        200,
        "OK",
        b"{ok}",
        True,
    )
    assert response.headers == GOLDEN_HEADERS
    assert wire.sent == b"\x12\x34\x00\x08\x00\x06name=x", "Get Body Chunk is answered"


def test_the_forward_request_real_apache_sent_decodes() -> None:
    """Captured once from the lab's `web` image (Debian's Apache 2.4, mod_proxy_ajp) by
    tools/capture_ajp.py: GET through the guide's balancer with a sticky cookie."""
    raw = bytes.fromhex((FIXTURES / "apache-forward-request.hex").read_text())
    payload = ajp.read_packet(io.BytesIO(raw), ajp.SERVER_MAGIC)
    assert payload is not None
    request = ajp.decode_forward_request(payload)
    assert (request.method, request.uri, request.protocol) == ("GET", "/ajax/login", "HTTP/1.1")
    assert request.is_ssl and request.server_port == 443
    assert request.attributes["query_string"] == "action=login"
    assert request.header("cookie") == "JSESSIONID=a.OX1"
    assert request.header("user-agent") == "oxlab-capture"
    assert request.header("host") == "localhost"
    assert "AJP_REMOTE_PORT" in request.attributes, "Apache sends the client's port by name"
    assert ajp.encode_forward_request(request) == raw, "re-encoded byte for byte"


@settings(max_examples=examples(400), deadline=None)
@given(st.binary(max_size=300))
def test_decoding_any_request_bytes_raises_only_ajp_errors(data: bytes) -> None:
    for payload in (data, b"\x02" + data, b"\x02\x02" + data):
        try:
            ajp.decode_forward_request(payload)
        except ajp.AjpError:
            pass
        try:
            ajp.read_packet(io.BytesIO(b"\x12\x34" + data), ajp.SERVER_MAGIC)
        except ajp.AjpError:
            pass


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(st.binary(max_size=60), max_size=5), st.sampled_from([3, 4, 5, 6, 9, 0xA0]))
def test_decoding_any_response_bytes_raises_only_ajp_errors(parts: list[bytes], kind: int) -> None:
    stream = b"".join(packet(b"AB", bytes([kind]) + p) for p in parts)
    for data in (stream, stream[:-1], GOLDEN_SEND_HEADERS[:-3] + stream):
        try:
            ajp.decode_response(Wire(data))
        except ajp.AjpError:
            pass


@settings(max_examples=examples(300), deadline=None)
@given(
    st.sampled_from(ajp.METHODS),
    st.text(max_size=40),
    st.lists(
        st.tuples(st.sampled_from([*ajp.REQUEST_HEADERS, "X-A"]), st.text(max_size=20)), max_size=4
    ),
)
def test_any_request_round_trips(method: str, uri: str, headers: list[tuple[str, str]]) -> None:
    request = ajp.ForwardRequest(
        method=method, uri=uri, headers=headers, attributes={"route": "OX2"}
    )
    raw = ajp.encode_forward_request(request)
    payload = ajp.read_packet(io.BytesIO(raw), ajp.SERVER_MAGIC)
    assert payload is not None and ajp.decode_forward_request(payload) == request


@pytest.mark.parametrize(
    "payload",
    [
        b"\x04\x00\xc8" + s("OK") + b"\x00\x01\xa0\xff" + s("x"),  # no response header 0xA0FF
        b"\x04\x00\xc8" + s("OK") + b"\x00\x01\xa0\x00" + s("x"),  # nor 0xA000
        b"\x04\x00\xc8" + s("OK") + b"\x00\x02\xa0\x01" + s("x"),  # fewer headers than said
        b"\x03\x00\x10abc",  # a body chunk shorter than its length
    ],
)
def test_malformed_responses_are_ajp_errors(payload: bytes) -> None:
    with pytest.raises(ajp.AjpError):
        ajp.decode_response(Wire(packet(b"AB", payload)))


@pytest.mark.parametrize("size", [1, 8183, 8184, 8185, 16368, 20000])
def test_a_body_over_8_kb_goes_in_chunks_within_mod_proxy_ajps_packet(size: int) -> None:
    """mod_proxy_ajp's ProxyIOBufferSize (8192) bounds every packet: a Send Body Chunk
    carries at most 8192 - 8 bytes (magic, length, type, chunk length, NUL)."""
    body = bytes(i % 251 for i in range(size))
    packets = list(ajp.encode_body_chunks(body))
    assert all(len(p) <= 8192 for p in packets), [len(p) for p in packets]
    assert len(packets) == -(-size // 8184), "full chunks except the last"
    assert all(len(p) == 8192 for p in packets[:-1]), "every chunk but the last is full"
    for p in packets:
        assert p[:2] == b"AB" and p[4] == ajp.SEND_BODY_CHUNK
        assert struct.unpack(">H", p[2:4])[0] == len(p) - 4, "the packet length field"
        assert struct.unpack(">H", p[5:7])[0] == len(p) - 8, "the chunk length field"
        assert p[-1:] == b"\x00", "each chunk ends in NUL"
    wire = Wire(GOLDEN_SEND_HEADERS + b"".join(packets) + GOLDEN_END_RESPONSE)
    assert ajp.decode_response(wire).body == body


def test_an_empty_body_sends_no_chunk() -> None:
    assert list(ajp.encode_body_chunks(b"")) == []


def test_the_client_refuses_a_packet_mod_proxy_ajp_would_refuse() -> None:
    chunk = b"x" * 8185
    payload = bytes([ajp.SEND_BODY_CHUNK]) + struct.pack(">H", len(chunk)) + chunk + b"\x00"
    too_big = packet(b"AB", payload)
    assert len(too_big) == 8193
    with pytest.raises(ajp.AjpError, match="8192"):
        ajp.decode_response(Wire(GOLDEN_SEND_HEADERS + too_big + GOLDEN_END_RESPONSE))


class _Duplex:
    """A container's answer to read, and what the client writes back (body chunks)."""

    def __init__(self, answer: bytes) -> None:
        self._answer = io.BytesIO(answer)
        self.sent = bytearray()

    def read(self, n: int, /) -> bytes:
        return self._answer.read(n)

    def write(self, data: bytes, /) -> int:
        self.sent += data
        return len(data)

    def flush(self) -> None:
        pass


HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=40)
# bodies of any size up to a few 8 KB chunks (st.binary alone seldom draws a large one)
BODIES = st.tuples(st.integers(0, 20000), st.binary(min_size=1, max_size=16)).map(
    lambda t: (t[1] * (t[0] // len(t[1]) + 1))[: t[0]]
)


@settings(max_examples=examples(200), deadline=None)
@given(
    status=st.integers(100, 599),
    reason=HEADER_TEXT,
    headers=st.lists(
        st.tuples(
            st.one_of(
                st.sampled_from(ajp.RESPONSE_HEADERS),
                st.sampled_from(ajp.RESPONSE_HEADERS).map(str.lower),
                st.from_regex(r"X-[A-Za-z-]{1,12}", fullmatch=True),
            ),
            HEADER_TEXT,
        ),
        max_size=6,
    ),
    body=BODIES,
    reuse=st.booleans(),
)
def test_any_response_round_trips_through_the_client(
    status: int, reason: str, headers: list[tuple[str, str]], body: bytes, reuse: bool
) -> None:
    """The container side's packets, read by the client side: the same status, reason,
    headers (a known name in any case comes back as the specification spells it, coded
    0xA0nn), body (in chunks of at most 8 KB) and reuse flag."""
    answer = ajp.encode_send_headers(status, reason, headers)
    answer += b"".join(ajp.encode_body_chunks(body)) + ajp.encode_end_response(reuse)
    response = ajp.decode_response(_Duplex(answer))
    canonical = {h.lower(): h for h in ajp.RESPONSE_HEADERS}
    expected = [(canonical.get(name.lower(), name), value) for name, value in headers]
    assert (response.status, response.reason, response.headers) == (status, reason, expected)
    assert (response.body, response.reuse) == (body, reuse)


@settings(max_examples=examples(100), deadline=None)
@given(body=BODIES, asked=st.lists(st.integers(1, 9000), max_size=4))
def test_the_client_serves_get_body_chunk_requests_in_order(body: bytes, asked: list[int]) -> None:
    """Each Get Body Chunk the container sends is answered with the next part of the
    request body, at most the specification's maximum send body size (8186 bytes, 8 KB
    - 6), and an empty chunk once it is all sent, as mod_proxy_ajp does."""
    answer = b"".join(ajp.encode_get_body_chunk(size) for size in asked)
    answer += ajp.encode_end_response(True)
    duplex = _Duplex(answer)
    ajp.decode_response(duplex, body)
    stream, parts, remaining = io.BytesIO(bytes(duplex.sent)), [], body
    for size in asked:
        payload = ajp.read_packet(stream, ajp.SERVER_MAGIC)
        assert payload is not None, "every Get Body Chunk is answered"
        parts.append(ajp.decode_body(payload))
        assert len(parts[-1]) == min(size, 8186, len(remaining)), (size, len(remaining))
        remaining = remaining[min(size, 8186) :]
    assert b"".join(parts) == body[: len(body) - len(remaining)], "the body, in order"
    assert stream.read() == b"", "nothing unasked is sent"


@pytest.mark.parametrize(("size", "fits"), [(8185, True), (8186, True), (8187, False)])
def test_a_request_body_packet_holds_up_to_8186_bytes(size: int, fits: bool) -> None:
    """The specification's maximum send body size, 8 KB - 6 (magic, length, chunk
    length): mod_proxy_ajp sends that much in one packet, so the node must take it."""
    if fits:
        packet_bytes = ajp.encode_body(b"x" * size)
        assert len(packet_bytes) == size + 6 <= ajp.MAX_PACKET
        assert ajp.decode_body(packet_bytes[4:]) == b"x" * size
    else:
        with pytest.raises(ajp.AjpError):
            ajp.encode_body(b"x" * size)
