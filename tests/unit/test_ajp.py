"""AJP13: the codec round-trips what mod_proxy_ajp sends, malformed input is always an
AjpError (never another exception), and the listeners survive bad clients."""

from __future__ import annotations

import io
import json
import random
import socket
import struct
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from lab.oxnode import ajp
from lab.oxnode.listeners import (
    AjpServer,
    HttpServer,
    Request,
    Response,
    ajp_request,
    serve_in_thread,
)


def sample_request(**kw: object) -> ajp.ForwardRequest:
    values: dict[str, object] = {
        "method": "POST",
        "uri": "/ajax/login",
        "remote_addr": "10.0.0.7",
        "remote_host": "",
        "server_name": "web",
        "server_port": 443,
        "is_ssl": True,
        "headers": [("host", "web"), ("content-length", "5"), ("X-Custom", "ünïcode")],
        "attributes": {"route": "OX1", "query_string": "action=login", "AJP_REMOTE_PORT": "5555"},
    }
    values.update(kw)
    return ajp.ForwardRequest(**values)  # type: ignore[arg-type]


def test_forward_request_round_trips() -> None:
    original = sample_request()
    packet = ajp.encode_forward_request(original)
    assert packet[:2] == ajp.SERVER_MAGIC
    assert struct.unpack(">H", packet[2:4])[0] == len(packet) - 4
    decoded = ajp.decode_forward_request(ajp.read_packet(io.BytesIO(packet), ajp.SERVER_MAGIC))
    assert decoded == original
    assert decoded.attributes["route"] == "OX1", "the balancer's route reaches the node"
    assert decoded.content_length == 5


def test_common_headers_travel_as_codes() -> None:
    packet = ajp.encode_forward_request(sample_request(headers=[("cookie", "a=b")]))
    assert b"\xa0\x09" in packet and b"cookie" not in packet, "cookie is header code 0xA009"


def test_response_packets_decode_on_the_client_side() -> None:
    body = bytes(range(256)) * 100  # several chunks
    stream = io.BytesIO(
        ajp.encode_send_headers(200, "OK", [("Set-Cookie", "JSESSIONID=x.OX1"), ("X-A", "b")])
        + b"".join(ajp.encode_body_chunks(body))
        + ajp.encode_end_response(True)
    )
    response = ajp.decode_response(stream)  # type: ignore[arg-type]
    assert (response.status, response.reason, response.body, response.reuse) == (
        200,
        "OK",
        body,
        True,
    )
    assert response.headers == [("Set-Cookie", "JSESSIONID=x.OX1"), ("X-A", "b")]


@pytest.mark.parametrize(
    "packet",
    [
        b"",  # nothing: clean end, not an error (checked separately)
        b"\x12",  # truncated header
        b"GET / HTTP/1.1\r\n\r\n",  # HTTP on the AJP port
        b"\x12\x34\xff\xff",  # longer than the limit
        b"\x12\x34\x00\x10\x02",  # truncated payload
    ],
)
def test_malformed_packets_are_ajp_errors(packet: bytes) -> None:
    if not packet:
        assert ajp.read_packet(io.BytesIO(packet), ajp.SERVER_MAGIC) is None
        return
    with pytest.raises(ajp.AjpError):
        ajp.read_packet(io.BytesIO(packet), ajp.SERVER_MAGIC)


def test_random_and_mutated_payloads_only_ever_raise_ajp_errors() -> None:
    rng = random.Random(1234)
    valid = ajp.encode_forward_request(sample_request())[4:]
    for _ in range(3000):
        if rng.random() < 0.5:
            payload = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        else:
            mutated = bytearray(valid)
            for _ in range(rng.randrange(1, 4)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            payload = bytes(mutated[: rng.randrange(len(mutated) + 1)])
        try:
            ajp.decode_forward_request(payload)
        except ajp.AjpError:
            pass


# -- the listeners, on loopback ----------------------------------------------------------


def echo(request: Request) -> Response:
    if request.path == "/boom":
        raise RuntimeError("handler bug")
    answer = {
        "via": request.via,
        "route": request.route,
        "method": request.method,
        "query": request.query,
        "size": len(request.body),
        "sum": sum(request.body) % 65521,
    }
    return Response(200, json.dumps(answer).encode(), [("Content-Type", "application/json")])


@pytest.fixture
def servers() -> Iterator[tuple[tuple[str, int], str]]:
    ajp_server = AjpServer(("127.0.0.1", 0), echo, max_body=100_000)
    http_server = HttpServer(("127.0.0.1", 0), echo, max_body=100_000)
    serve_in_thread(ajp_server)
    serve_in_thread(http_server)
    yield ajp_server.server_address[:2], f"http://127.0.0.1:{http_server.server_address[1]}"
    ajp_server.shutdown()
    http_server.shutdown()


def test_one_handler_behind_both_listeners(servers: tuple[tuple[str, int], str]) -> None:
    address, http = servers
    body = bytes(range(256)) * 200  # 51 200 bytes: several Get Body Chunk rounds
    forward = sample_request(headers=[("content-length", str(len(body)))])
    over_ajp = json.loads(ajp_request(address, forward, body).body)
    over_http = requests.post(f"{http}/ajax/login?action=login", data=body, timeout=5).json()
    assert over_ajp["size"] == over_http["size"] == len(body), "the whole body arrives"
    assert over_ajp["sum"] == over_http["sum"] == sum(body) % 65521
    assert (over_ajp["via"], over_ajp["route"]) == ("ajp", "OX1")
    assert over_http["via"] == "http" and over_http["query"] == "action=login"


def test_cping_is_answered_with_cpong(servers: tuple[tuple[str, int], str]) -> None:
    with socket.create_connection(servers[0], timeout=5) as sock:
        sock.sendall(ajp.CPING_PACKET)
        assert sock.recv(5) == ajp.CPONG_PACKET


def test_bad_clients_do_not_take_the_node_down(servers: tuple[tuple[str, int], str]) -> None:
    address, http = servers
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100) == b"", "garbage on the AJP port closes that connection"
    too_big = sample_request(headers=[("content-length", "200000")])
    assert ajp_request(address, too_big, b"").status == 413, "a body past the limit is a 413"
    assert ajp_request(address, sample_request(uri="/boom", headers=[])).status == 500
    assert requests.post(f"{http}/x", data=b"y" * 200_000, timeout=5).status_code == 413
    ok = ajp_request(address, sample_request(headers=[]))
    assert ok.status == 200, "and the node still serves the next request"


def test_concurrent_requests(servers: tuple[tuple[str, int], str]) -> None:
    address, _ = servers

    def one(i: int) -> int:
        body = bytes([i % 256]) * (1000 + i)
        forward = sample_request(headers=[("content-length", str(len(body)))])
        return int(json.loads(ajp_request(address, forward, body).body)["size"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        sizes = list(pool.map(one, range(64)))
    assert sizes == [1000 + i for i in range(64)]
