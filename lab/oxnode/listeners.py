"""The node's two front doors, AJP13 on 8009 (mod_proxy_ajp, the guide's front end) and
HTTP on 8080 (health checks, mod_proxy_http, curl), with one request handler behind both.

Limits protect the node: an oversize packet or a malformed request closes that
connection, a body past the limit is answered 413, a handler that raises is a 500; the
listener keeps serving other connections in every case.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from lab.oxnode import ajp

log = logging.getLogger("oxnode")
MAX_BODY = 16 * 1024 * 1024  # bytes a request body may have


@dataclass
class Request:
    method: str
    path: str
    query: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    remote_addr: str = ""
    via: str = "http"  # which listener: "ajp" or "http"
    route: str = ""  # the balancer's route for this request (AJP attribute), if any

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Unknown"


Handler = Callable[[Request], Response]


def _safe(handler: Handler, request: Request) -> Response:
    try:
        return handler(request)
    except Exception:  # the node stays up; the client learns it failed
        log.exception("handler failed for %s %s", request.method, request.path)
        return Response(
            500,
            b'{"error":"internal error","code":"SVL-0001"}',
            [("Content-Type", "application/json")],
        )


# -- AJP13 -------------------------------------------------------------------------------


class _AjpConnection(socketserver.StreamRequestHandler):
    server: AjpServer

    def handle(self) -> None:
        while True:
            try:
                payload = ajp.read_packet(self.rfile, ajp.SERVER_MAGIC)
                if payload is None:
                    return
                if payload == bytes([ajp.CPING]):
                    self.wfile.write(ajp.CPONG_PACKET)
                    self.wfile.flush()
                    continue
                if not self._serve(payload):
                    return
            except (ajp.AjpError, ConnectionError, TimeoutError) as exc:
                log.warning("AJP connection from %s dropped: %s", self.client_address[0], exc)
                return

    def _serve(self, payload: bytes) -> bool:
        """One request cycle; False when the connection must close afterwards."""
        forward = ajp.decode_forward_request(payload)
        length = forward.content_length
        if length > self.server.max_body:
            self._respond(Response(413, b'{"error":"request body too large"}'), reuse=False)
            return False
        body = self._read_body(length)
        uri = urlsplit(forward.uri)
        request = Request(
            method=forward.method,
            path=uri.path,
            query=forward.attributes.get("query_string", uri.query),
            headers=forward.headers,
            body=body,
            remote_addr=forward.remote_addr,
            via="ajp",
            route=forward.attributes.get("route", ""),
        )
        self._respond(_safe(self.server.handler, request), reuse=True)
        return True

    def _read_body(self, length: int) -> bytes:
        """The first body packet comes unasked; then Get Body Chunk until done."""
        parts: list[bytes] = []
        received = 0
        first = True
        while received < length:
            if not first:
                self.wfile.write(
                    ajp.encode_get_body_chunk(min(ajp.MAX_SEND_BODY, length - received))
                )
                self.wfile.flush()
            first = False
            payload = ajp.read_packet(self.rfile, ajp.SERVER_MAGIC)
            if payload is None:
                raise ajp.AjpError("connection closed inside the request body")
            chunk = ajp.decode_body(payload)
            if not chunk:
                break  # the web server says the body ended early
            parts.append(chunk)
            received += len(chunk)
        if received > length:
            raise ajp.AjpError(f"body of {received} bytes, announced {length}")
        return b"".join(parts)

    def _respond(self, response: Response, reuse: bool) -> None:
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        self.wfile.write(ajp.encode_send_headers(response.status, response.reason, headers))
        for packet in ajp.encode_body_chunks(response.body):
            self.wfile.write(packet)
        self.wfile.write(ajp.encode_end_response(reuse))
        self.wfile.flush()


class AjpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: Handler, max_body: int = MAX_BODY):
        self.handler = handler
        self.max_body = max_body
        super().__init__(address, _AjpConnection)


# -- HTTP --------------------------------------------------------------------------------


def _http_handler_class(handler: Handler, max_body: int) -> type[BaseHTTPRequestHandler]:
    class HttpConnection(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length_text = self.headers.get("Content-Length", "0")
            if not length_text.isdigit():
                self._send(Response(400, b'{"error":"bad Content-Length"}'), close=True)
                return
            length = int(length_text)
            if length > max_body:
                self._send(Response(413, b'{"error":"request body too large"}'), close=True)
                return
            uri = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=uri.path,
                query=uri.query,
                headers=list(self.headers.items()),
                body=self.rfile.read(length) if length else b"",
                remote_addr=self.client_address[0],
                via="http",
            )
            self._send(_safe(handler, request))

        def _send(self, response: Response, close: bool = False) -> None:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s - %s", self.client_address[0], format % args)

    return HttpConnection


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Handler, max_body: int = MAX_BODY):
        super().__init__(address, _http_handler_class(handler, max_body))


def serve_in_thread(server: socketserver.BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def ajp_request(
    address: tuple[str, int],
    forward: ajp.ForwardRequest,
    body: bytes = b"",
    timeout: float = 5.0,
) -> ajp.Response:
    """Send one request the way mod_proxy_ajp does (the first body packet unasked) and
    read the answer; the lab's AJP client for tests and benchmarks."""
    with socket.create_connection(address, timeout=timeout) as sock:
        stream = sock.makefile("rwb")
        stream.write(ajp.encode_forward_request(forward))
        first, rest = body[: ajp.MAX_SEND_BODY], body[ajp.MAX_SEND_BODY :]
        if body:
            stream.write(ajp.encode_body(first))
        stream.flush()
        return ajp.decode_response(stream, rest)
