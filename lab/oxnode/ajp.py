"""AJP13, the protocol mod_proxy_ajp speaks to the guide's groupware nodes (port 8009).

Packets from the web server start with 0x12 0x34, packets from the container with "AB",
then a 2-byte big-endian payload length. Strings are a 2-byte length (0xFFFF: null), the
bytes and a NUL. Common header names travel as 0xA0nn codes. After a Forward Request with
a body, the web server sends the first body packet unasked; the container asks for more
with Get Body Chunk, and an empty body packet ends the body.

Decoding is defensive: anything malformed raises AjpError, never another exception, so a
listener can answer or drop the connection and stay up.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

SERVER_MAGIC = b"\x12\x34"  # web server -> container
CONTAINER_MAGIC = b"AB"  # container -> web server
MAX_PACKET = 8192  # mod_proxy_ajp's default ProxyIOBufferSize
MAX_CHUNK = MAX_PACKET - 8  # Send Body Chunk: magic, length, type, chunk length, NUL
# a request body packet (web server -> container): magic, length, chunk length; the
# specification's "maximum send body size (8186 (8 Kbytes - 6))"
MAX_SEND_BODY = MAX_PACKET - 6

# prefix codes
FORWARD_REQUEST = 2
SEND_BODY_CHUNK = 3
SEND_HEADERS = 4
END_RESPONSE = 5
GET_BODY_CHUNK = 6
SHUTDOWN = 7
PING = 8
CPONG_REPLY = 9
CPING = 10

METHODS = (
    "OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "PROPFIND", "PROPPATCH",
    "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "ACL", "REPORT", "VERSION-CONTROL",
    "CHECKIN", "CHECKOUT", "UNCHECKOUT", "SEARCH", "MKWORKSPACE", "UPDATE", "LABEL",
    "MERGE", "BASELINE-CONTROL", "MKACTIVITY",
)  # fmt: skip
REQUEST_HEADERS = (
    "accept", "accept-charset", "accept-encoding", "accept-language", "authorization",
    "connection", "content-type", "content-length", "cookie", "cookie2", "host", "pragma",
    "referer", "user-agent",
)  # fmt: skip
RESPONSE_HEADERS = (
    "Content-Type", "Content-Language", "Content-Length", "Date", "Last-Modified",
    "Location", "Set-Cookie", "Set-Cookie2", "Servlet-Engine", "Status", "WWW-Authenticate",
)  # fmt: skip
ATTRIBUTES = {
    0x01: "context", 0x02: "servlet_path", 0x03: "remote_user", 0x04: "auth_type",
    0x05: "query_string", 0x06: "route", 0x07: "ssl_cert", 0x08: "ssl_cipher",
    0x09: "ssl_session", 0x0B: "ssl_key_size", 0x0C: "secret", 0x0D: "stored_method",
}  # fmt: skip
REQ_ATTRIBUTE = 0x0A  # name/value pair, e.g. AJP_REMOTE_PORT
ARE_DONE = 0xFF


class Readable(Protocol):
    def read(self, n: int, /) -> bytes: ...


class Duplex(Readable, Protocol):
    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


class AjpError(Exception):
    """A malformed or oversize packet; the connection it came on cannot be trusted."""


@dataclass
class ForwardRequest:
    method: str
    uri: str
    protocol: str = "HTTP/1.1"
    remote_addr: str = ""
    remote_host: str | None = None  # mod_proxy_ajp sends a null string
    server_name: str = ""
    server_port: int = 80
    is_ssl: bool = False
    headers: list[tuple[str, str]] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def content_length(self) -> int:
        value = self.header("content-length") or "0"
        if not value.isdigit():
            raise AjpError(f"bad content-length {value!r}")
        return int(value)


class Reader:
    """Cursor over one packet's payload; every read is bounds-checked."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise AjpError(f"packet ends after {len(self.data)} bytes, needed {self.pos + n}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def byte(self) -> int:
        return self._take(1)[0]

    def boolean(self) -> bool:
        return self.byte() != 0

    def integer(self) -> int:
        return int(struct.unpack(">H", self._take(2))[0])

    def string(self) -> str | None:
        length = self.integer()
        if length == 0xFFFF:
            return None
        raw = self._take(length)
        if self._take(1) != b"\x00":
            raise AjpError("string not NUL-terminated")
        return raw.decode("utf-8", errors="replace")

    def text(self) -> str:
        return self.string() or ""

    def header_name(self, codes: Sequence[str], kind: str) -> str:
        """A header's name: coded as 0xA0nn (entry nn of the spec's table `codes`) or,
        when the first byte is not 0xA0, an ordinary string."""
        peek = self.integer()
        if peek & 0xFF00 == 0xA000:
            index = (peek & 0xFF) - 1
            if not 0 <= index < len(codes):
                raise AjpError(f"unknown {kind} header code {peek:#x}")
            return codes[index]
        self.pos -= 2
        return self.text()


class Writer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def byte(self, value: int) -> Writer:
        self.parts.append(bytes([value]))
        return self

    def boolean(self, value: bool) -> Writer:
        return self.byte(1 if value else 0)

    def integer(self, value: int) -> Writer:
        self.parts.append(struct.pack(">H", value))
        return self

    def string(self, value: str | None) -> Writer:
        if value is None:
            return self.integer(0xFFFF)
        raw = value.encode()
        self.parts.append(struct.pack(">H", len(raw)) + raw + b"\x00")
        return self

    def packet(self, magic: bytes) -> bytes:
        payload = b"".join(self.parts)
        if len(payload) + 4 > MAX_PACKET:
            raise AjpError(f"payload of {len(payload)} bytes exceeds the {MAX_PACKET}-byte packet")
        return magic + struct.pack(">H", len(payload)) + payload


def read_packet(stream: Readable, magic: bytes, max_size: int = MAX_PACKET) -> bytes | None:
    """One packet's payload from `stream`; None at a clean end of stream."""
    head = stream.read(4)
    if not head:
        return None
    if len(head) < 4:
        raise AjpError("truncated packet header")
    if head[:2] != magic:
        raise AjpError(f"bad magic {head[:2].hex()}, expected {magic.hex()}")
    length = struct.unpack(">H", head[2:])[0]
    if length + 4 > max_size:
        raise AjpError(f"packet of {length} bytes exceeds the {max_size}-byte limit")
    payload = stream.read(length)
    if len(payload) < length:
        raise AjpError("truncated packet")
    return payload


def decode_forward_request(payload: bytes) -> ForwardRequest:
    r = Reader(payload)
    if r.byte() != FORWARD_REQUEST:
        raise AjpError("not a forward request")
    code = r.byte()
    if not 1 <= code <= len(METHODS):
        raise AjpError(f"unknown method code {code}")
    req = ForwardRequest(
        method=METHODS[code - 1],
        protocol=r.text(),
        uri=r.text(),
        remote_addr=r.text(),
        remote_host=r.string(),
        server_name=r.text(),
        server_port=r.integer(),
        is_ssl=r.boolean(),
    )
    for _ in range(r.integer()):
        name = r.header_name(REQUEST_HEADERS, "request")
        req.headers.append((name, r.text()))
    while True:
        code = r.byte()
        if code == ARE_DONE:
            break
        if code == REQ_ATTRIBUTE:
            name = r.text()  # read in wire order: the name precedes its value
            req.attributes[name] = r.text()
        elif code == 0x0B:  # ssl_key_size is an integer
            req.attributes["ssl_key_size"] = str(r.integer())
        elif code in ATTRIBUTES:
            req.attributes[ATTRIBUTES[code]] = r.text()
        else:
            raise AjpError(f"unknown attribute code {code:#x}")
    return req


def encode_forward_request(req: ForwardRequest) -> bytes:
    """What mod_proxy_ajp sends; used by the lab's own AJP client (tests, benchmarks)."""
    w = Writer().byte(FORWARD_REQUEST).byte(METHODS.index(req.method) + 1)
    w.string(req.protocol).string(req.uri).string(req.remote_addr).string(req.remote_host)
    w.string(req.server_name).integer(req.server_port).boolean(req.is_ssl)
    w.integer(len(req.headers))
    for name, value in req.headers:
        if name.lower() in REQUEST_HEADERS:
            w.integer(0xA000 | (REQUEST_HEADERS.index(name.lower()) + 1))
        else:
            w.string(name)
        w.string(value)
    codes = {v: k for k, v in ATTRIBUTES.items()}
    for name, value in req.attributes.items():
        if name == "ssl_key_size":  # the one integer attribute
            w.byte(codes[name]).integer(int(value))
        elif name in codes:
            w.byte(codes[name]).string(value)
        else:
            w.byte(REQ_ATTRIBUTE).string(name).string(value)
    return w.byte(ARE_DONE).packet(SERVER_MAGIC)


def encode_body(data: bytes) -> bytes:
    """A request-body packet (web server -> container); b"" ends the body."""
    if len(data) > MAX_SEND_BODY:
        raise AjpError("body packet too large")
    return SERVER_MAGIC + struct.pack(">HH", len(data) + 2, len(data)) + data


def decode_body(payload: bytes) -> bytes:
    if not payload:
        return b""
    r = Reader(payload)
    return r._take(r.integer())


def encode_send_headers(status: int, reason: str, headers: list[tuple[str, str]]) -> bytes:
    w = Writer().byte(SEND_HEADERS).integer(status).string(reason).integer(len(headers))
    known = {h.lower(): i for i, h in enumerate(RESPONSE_HEADERS)}
    for name, value in headers:
        if name.lower() in known:
            w.integer(0xA000 | (known[name.lower()] + 1))
        else:
            w.string(name)
        w.string(value)
    return w.packet(CONTAINER_MAGIC)


def encode_body_chunks(data: bytes) -> Iterator[bytes]:
    """Send Body Chunk packets of at most MAX_PACKET bytes each: mod_proxy_ajp refuses a
    larger one (ProxyIOBufferSize), so a body over 8 KB goes in several."""
    for start in range(0, len(data), MAX_CHUNK):
        chunk = data[start : start + MAX_CHUNK]
        payload = bytes([SEND_BODY_CHUNK]) + struct.pack(">H", len(chunk)) + chunk + b"\x00"
        yield CONTAINER_MAGIC + struct.pack(">H", len(payload)) + payload


def encode_end_response(reuse: bool) -> bytes:
    return Writer().byte(END_RESPONSE).boolean(reuse).packet(CONTAINER_MAGIC)


def encode_get_body_chunk(size: int) -> bytes:
    return Writer().byte(GET_BODY_CHUNK).integer(size).packet(CONTAINER_MAGIC)


CPING_PACKET = SERVER_MAGIC + b"\x00\x01" + bytes([CPING])
CPONG_PACKET = CONTAINER_MAGIC + b"\x00\x01" + bytes([CPONG_REPLY])


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    reuse: bool


def decode_response(stream: Duplex, body: bytes = b"") -> Response:
    """Read a container's answer to a forward request (client side), serving its Get
    Body Chunk requests from `body` (the part not sent with the request). Packets over
    MAX_PACKET are refused, as mod_proxy_ajp refuses them."""
    status, reason, headers, chunks = 0, "", [], []
    remaining = body
    while True:
        payload = read_packet(stream, CONTAINER_MAGIC)
        if payload is None:
            raise AjpError("connection closed before End Response")
        r = Reader(payload)
        kind = r.byte()
        if kind == SEND_HEADERS:
            status, reason = r.integer(), r.text()
            for _ in range(r.integer()):
                name = r.header_name(RESPONSE_HEADERS, "response")
                headers.append((name, r.text()))
        elif kind == SEND_BODY_CHUNK:
            chunks.append(r._take(r.integer()))
        elif kind == GET_BODY_CHUNK:
            # the minimum of what is asked, the maximum send body size and what is left
            size = min(r.integer(), MAX_SEND_BODY)
            part, remaining = remaining[:size], remaining[size:]
            stream.write(encode_body(part))
            stream.flush()
        elif kind == END_RESPONSE:
            return Response(status, reason, headers, b"".join(chunks), r.boolean())
        else:
            raise AjpError(f"unexpected packet type {kind}")
