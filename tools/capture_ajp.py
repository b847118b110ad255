"""Capture the AJP13 Forward Request that real Apache (the lab's `web` image: Debian's
Apache 2.4 with mod_proxy_ajp and the guide's proxy_ajp.conf) sends to a groupware node,
and write it as the unit tests' fixture (tests/unit/fixtures/apache-forward-request.hex).

A stand-in node records the bytes it receives and answers one response; curl inside the
web container makes the request through the guide's balancer. Every container and the
network carry the run's labels and are removed at the end (`lab down --all` also would).

    .venv/bin/python tools/capture_ajp.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from lab.infra.docker_env import LABEL_RUN, RunIdentity, connect, remove_resources
from lab.infra.nodes import Node, put_file
from lab.infra.tls import make_certificates
from lab.infra.waiting import poll
from lab.roles.images import build_images, groupware_image, web_image
from lab.roles.web.front_end import CONF, SITE, Member, render_proxy_ajp_conf, render_site_conf

FIXTURE = Path(__file__).resolve().parents[1] / "tests/unit/fixtures/apache-forward-request.hex"
# one connection: read the Forward Request packet, print it as hex, answer, close
STAND_IN = r"""
import socket, struct, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 8009)); srv.listen(1)
conn, _ = srv.accept()
def read(n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk: raise SystemExit("closed")
        data += chunk
    return data
head = read(4); payload = read(struct.unpack(">H", head[2:])[0])
print("CAPTURED " + (head + payload).hex(), flush=True)
def pkt(p): return b"AB" + struct.pack(">H", len(p)) + p
def s(t): t = t.encode(); return struct.pack(">H", len(t)) + t + b"\0"
body = b'{"captured":true}'
conn.sendall(pkt(b"\x04\x00\xc8" + s("OK") + b"\x00\x01\xa0\x01" + s("application/json"))
             + pkt(b"\x03" + struct.pack(">H", len(body)) + body + b"\0") + pkt(b"\x05\x00"))
conn.close()
"""


def main() -> int:
    client = connect()
    build_images(client, [web_image(), groupware_image()])
    run = RunIdentity.new("capture-ajp", keep=False)
    network = client.networks.create(f"oxlab-capture-{run.run_id}", labels=run.labels())
    try:
        stand_in = client.containers.create(
            groupware_image().tag,
            ["python3", "-c", STAND_IN],
            entrypoint=[],
            labels=run.labels(),
        )
        network.connect(stand_in, aliases=["oxgw01"])  # the name the balancer uses
        stand_in.start()
        web = Node(
            client.containers.run(
                web_image().tag, detach=True, network=network.name, labels=run.labels()
            )
        )
        put_file(
            web, CONF, render_proxy_ajp_conf([Member("oxgw01", "OX1")], ["127.0.0.1"]).encode()
        )
        put_file(web, SITE, render_site_conf("web", ["127.0.0.1"]).encode())
        certs = make_certificates(["web", "localhost"], ["127.0.0.1"], run.run_id)
        put_file(web, "/etc/apache2/ssl/web.pem", certs.cert_pem)
        put_file(web, "/etc/apache2/ssl/web.key", certs.key_pem, 0o600)
        poll(
            lambda: web.exec(["curl", "-s", "-o", "/dev/null", "http://localhost/"]).exit_code == 0,
            timeout=30,
            what="Apache to answer",
        )
        answer = web.exec(
            [
                "curl",
                "-sk",
                "-H",
                "Cookie: JSESSIONID=a.OX1",
                "-A",
                "oxlab-capture",
                "https://localhost/ajax/login?action=login",
            ]
        )
        print(f"Apache answered the client: {answer.output.strip()}", file=sys.stderr)
        poll(lambda: "CAPTURED" in stand_in.logs().decode(), timeout=10, what="the capture")
        line = next(ln for ln in stand_in.logs().decode().splitlines() if ln.startswith("CAPTURED"))
        FIXTURE.write_text(line.split()[1] + "\n")
        print(f"wrote {FIXTURE}")
        return 0
    finally:
        remove_resources(client, {"label": [f"{LABEL_RUN}={run.run_id}"]})


if __name__ == "__main__":
    sys.exit(main())
