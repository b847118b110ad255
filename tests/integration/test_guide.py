"""The guide's whole cluster (topology `guide`): its "Testing the distributed file
storage" and "Test Session load balancing" sections, failover of a stopped backend, and
the front end's lock-down (HTTPS, redirect, SOAP provisioning API, contexts apart)."""

from __future__ import annotations

import collections
import http.client
import os
import ssl
import uuid

import pytest
import requests

from lab.infra.waiting import poll
from lab.roles.groupware.client import OxError, OxSession
from lab.roles.groupware.cluster import OxNode
from lab.roles.system import Lab
from lab.roles.web.front_end import CASE_VARIANTS, PROVISIONING_VARIANTS, Member, WebNode

pytestmark = [pytest.mark.guide, pytest.mark.docker]
NFS = "nfs://filestore/filestore/{name}?version=4&uid=1001&gid=1001"


def web_of(lab: Lab) -> WebNode:
    assert lab.web
    return lab.web


def front_login(lab: Lab, user: str = "testuser") -> OxSession:
    web = web_of(lab)
    return OxSession.login(web.https_url, user, "secret", verify=web.ca_path)


@pytest.fixture
def balanced(guide_lab: Lab) -> Lab:
    """The guide lab with both groupware nodes serving and Apache routing new sessions
    to both (Lab.balance_front_end)."""
    guide_lab.balance_front_end()
    return guide_lab


def as_open_xchange_over_nfs(node: OxNode, action: str, name: str) -> str:
    """The guide's `su open-xchange; touch/ls/rm /var/opt/filestore/foo`, over the
    node's NFS client (uid/gid 1001, as the guide's open-xchange user)."""
    code = (
        "import sys\nfrom lab.oxnode.libnfs import NfsClient\n"
        "c = NfsClient('filestore', '/filestore', 1001, 1001)\n"
        f"name = '/{name}'\n"
        "if sys.argv[1] == 'touch': c.write_file(name, b'')\n"
        "elif sys.argv[1] == 'write':\n"
        " c.write_file(name + '.new', b'written on ' + sys.argv[2].encode())\n"
        " c.rename(name + '.new', name)\n"
        "elif sys.argv[1] == 'cat': print(c.read_file(name).decode())\n"
        "elif sys.argv[1] == 'rm': c.unlink(name, missing_ok=False)\n"
    )
    result = node.exec(
        [
            "su",
            "-s",
            "/bin/sh",
            "open-xchange",
            "-c",
            f'PYTHONPATH=/opt/oxlab python3 -c "$0" {action} {node.name}',
            code,
        ]
    )
    assert result.exit_code == 0, f"{node.name} {action} {name}: {result.output}"
    return result.output


@pytest.mark.filestore
def test_the_guides_distributed_file_storage_check(guide_lab: Lab) -> None:
    assert guide_lab.ox and guide_lab.ox.filestore
    node1, node2 = guide_lab.ox.nodes
    name = f"foo-{uuid.uuid4().hex[:6]}"
    as_open_xchange_over_nfs(node1, "touch", name)
    listing = guide_lab.ox.filestore.exec(["stat", "-c", "%u:%g", f"/var/opt/filestore/{name}"])
    assert listing.output.strip() == "1001:1001", "created as open-xchange on the server"
    as_open_xchange_over_nfs(node2, "write", name)  # writable from the other node
    assert "written on oxgw02" in as_open_xchange_over_nfs(node1, "cat", name)
    as_open_xchange_over_nfs(node2, "rm", name)
    gone = guide_lab.ox.filestore.exec(["test", "-e", f"/var/opt/filestore/{name}"])
    assert gone.exit_code != 0, "removed from the other node"


@pytest.mark.filestore
def test_upload_through_the_front_end_downloads_on_the_other_node(guide_lab: Lab) -> None:
    assert guide_lab.ox
    session = front_login(guide_lab)
    home = next(f["id"] for f in session.folders() if f["title"] == "Test User")
    data = os.urandom(200_000)
    doc = session.upload(home, "via-web.bin", data)
    other = next(n for n in guide_lab.ox.nodes if n.route != session.route)
    direct = OxSession.login(other.url, "testuser", "secret")
    assert direct.download(doc) == data, "byte-identical through a session on the other node"


@pytest.mark.session
@pytest.mark.balancer
def test_session_load_balancing(balanced: Lab) -> None:
    guide_lab = balanced
    assert guide_lab.ox
    logins = 40
    sessions = [front_login(guide_lab) for _ in range(logins)]
    routes = collections.Counter(s.route for s in sessions)
    # binomial(40, 0.5): 40*0.5 ± 3.3 * sqrt(40*0.25) covers 99.9 %
    assert set(routes) == {"OX1", "OX2"} and all(10 <= n <= 30 for n in routes.values()), (
        f"new sessions split 50:50 (loadfactor 50/50): {routes}"
    )
    logged = {n.route: " ".join(n.log_lines("Session created")) for n in guide_lab.ox.nodes}
    for s in sessions:
        on = [route for route, text in logged.items() if s.session_id in text]
        assert on == [s.route], f"the guide's log line on exactly one node, the routed one: {on}"
        for _ in range(3):
            node = s.call("GET", "login", "autologin")["node"]
            assert node == {"OX1": "oxgw01", "OX2": "oxgw02"}[s.route], (
                "every later request reaches the node its JSESSIONID route names"
            )


@pytest.mark.balancer
def test_stopped_backend_fails_over_and_sessions_stay(balanced: Lab) -> None:
    guide_lab = balanced
    assert guide_lab.ox
    node2 = next(n for n in guide_lab.ox.nodes if n.route == "OX2")
    web = web_of(guide_lab)
    bound = []
    for _ in range(3):  # sessions bound to oxgw02, then used through the front end
        session = OxSession.login(node2.url, "testuser", "secret")
        session.move_to(web.https_url)
        session.verify = web.ca_path
        assert "Test User" in session.folder_titles() and session.route == "OX2"
        bound.append(session)
    node2.service("stop")
    try:
        errors = 0
        for s in bound:
            try:
                titles = s.folder_titles()
            except requests.HTTPError:
                # Apache's pooled AJP connection to the killed node can fail on first use
                # (a 500, once per Apache child); the worker is then in error and the
                # retry fails over. A second failure is not tolerated.
                errors += 1
                titles = s.folder_titles()
            assert "Test User" in titles, "session migration: still logged in"
            assert s.route == "OX1", "and re-bound to the survivor"
        print(f"{errors} of {len(bound)} sessions saw one failed request before failover")
        assert {front_login(guide_lab).route for _ in range(6)} == {"OX1"}, (
            "new logins all go to the survivor"
        )
    finally:
        node2.service("start")
        node2.wait_serving()
    web.reset_balancer()  # the balancer-manager, instead of waiting retry=60 seconds
    poll(
        lambda: "OX2" in {front_login(guide_lab).route for _ in range(4)},
        timeout=20,
        what="oxgw02 to get new sessions again once it is back",
    )


@pytest.mark.balancer
def test_front_end_lock_down(guide_lab: Lab) -> None:
    web = web_of(guide_lab)
    plain = requests.get(f"http://{web.ip}/ajax/login", allow_redirects=False, timeout=5)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://"), (
        "plain HTTP is redirected to HTTPS"
    )
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{web.https_url}/", timeout=5, verify=True)  # not a public CA
    assert guide_lab.ox
    from_node = guide_lab.ox.nodes[0].exec(
        [
            "python3",
            "-c",
            "import urllib.request,ssl\n"
            "try:\n urllib.request.urlopen('https://web/balancer-manager', "
            "context=ssl._create_unverified_context()); print(200)\n"
            "except Exception as e: print(getattr(e, 'code', e))",
        ]
    )
    assert from_node.output.strip() == "403", "balancer-manager only for the admin network"


REACHED = "Available services: OXContextService"


def from_outside(web: WebNode, path: str) -> tuple[int, str]:
    """A raw request from the test host (not the admin network's 127.0.0.1), the path
    sent exactly as written (no client-side normalisation)."""
    context = ssl.create_default_context(cafile=web.ca_path)
    context.check_hostname = False
    conn = http.client.HTTPSConnection(web.ip, 443, context=context, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


def from_inside(web: WebNode, path: str) -> tuple[int, str]:
    """The same from the web server itself (127.0.0.1, allowed by the guide)."""
    result = web.exec(
        [
            "curl",
            "-s",
            "--path-as-is",
            "--cacert",
            "/etc/apache2/ssl/lab-ca.pem",
            "-w",
            "\n%{http_code}",
            f"https://localhost{path}",
        ]
    )
    body, _, code = result.output.rpartition("\n")
    assert result.exit_code == 0 and code.isdigit(), f"curl failed: {result.output}"
    return int(code), body


@pytest.mark.balancer
def test_soap_provisioning_api_is_closed_from_outside_in_every_spelling(guide_lab: Lab) -> None:
    web = web_of(guide_lab)
    for path in (*PROVISIONING_VARIANTS, *CASE_VARIANTS):
        status, body = from_outside(web, path)
        assert REACHED not in body, f"{path} reached the provisioning API from outside"
        if "%2F" not in path:  # Apache refuses encoded slashes itself (404)
            assert status == 403, f"{path}: Apache denies it ({status})"


# spellings Apache proxies to a node (a path parameter on /servlet itself is not
# proxied by the guide's <Location /servlet> ProxyPass at all: Apache's 404)
REACHABLE_FROM_INSIDE = (
    "/servlet/axis2/services",
    "/servlet/axis2/services/OXContextService",
    "/servlet/axis2/services;x",
    "/servlet/axis2;y/services",
    "//servlet//axis2/services",
    "/servlet/./axis2/services",
)


@pytest.mark.balancer
def test_soap_provisioning_api_is_open_from_the_allowed_network(guide_lab: Lab) -> None:
    web = web_of(guide_lab)
    for path in REACHABLE_FROM_INSIDE:
        status, body = from_inside(web, path)
        assert status == 200 and REACHED in body, f"{path} from 127.0.0.1: {status} {body!r}"
    for path in (*PROVISIONING_VARIANTS, *CASE_VARIANTS):
        status, body = from_inside(web, path)
        assert status != 403, f"{path}: the allowed network is never denied"
        if path in CASE_VARIANTS:
            assert REACHED not in body, f"{path}: servlet mapping is case-sensitive"


@pytest.mark.balancer
def test_the_guides_literal_location_block_lets_path_parameters_through(
    balanced: Lab,
) -> None:
    """Why the lab denies with a LocationMatch: with the guide's <Location> as written,
    a path parameter walks around it and reaches the provisioning API."""
    assert balanced.ox
    web = web_of(balanced)
    members = [Member(n.name, n.route) for n in balanced.ox.nodes]
    web.reconfigure(members, lockdown="guide")
    try:
        assert from_outside(web, "/servlet/axis2/services")[0] == 403
        status, body = from_outside(web, "/servlet/axis2/services;x")
        assert status == 200 and REACHED in body, f"the bypass: {status} {body!r}"
    finally:
        web.reconfigure(members)
    assert from_outside(web, "/servlet/axis2/services;x")[0] == 403, "closed again"


def test_contexts_are_kept_apart_and_forged_cookies_refused(guide_lab: Lab) -> None:
    assert guide_lab.ox
    node1 = guide_lab.ox.nodes[0]
    auth = ("-A", "oxadminmaster", "-P", "secret")
    if "context 2 created" not in node1.exec(["sh", "-c", "cat /tmp/ctx2 2>/dev/null"]).output:
        out = node1.admin(
            "createcontext",
            *auth,
            "-c",
            "2",
            "-u",
            "admin2",
            "-d",
            "Admin Two",
            "-g",
            "A",
            "-s",
            "T",
            "-p",
            "secret",
            "-L",
            "othercontext",
            "-e",
            "a2@example.com",
        )
        node1.admin(
            "createuser",
            "-c",
            "2",
            "-A",
            "admin2",
            "-P",
            "secret",
            "-u",
            "mallory",
            "-g",
            "M",
            "-s",
            "X",
            "-p",
            "secret",
            "-e",
            "m@example.com",
        )
        node1.exec(["sh", "-c", f"echo '{out}' > /tmp/ctx2"])
    victim = front_login(guide_lab)
    home = next(f["id"] for f in victim.folders() if f["title"] == "Test User")
    doc = victim.upload(home, "secret.txt", b"context 1 only")
    assert guide_lab.gtid
    guide_lab.gtid.wait_caught_up()
    mallory = front_login(guide_lab, "mallory@othercontext")
    with pytest.raises(OxError):
        mallory.download(doc)  # the same document id, another context: not found
    forged = OxSession(victim.base_url)
    forged.verify = victim.verify
    forged.session_id = victim.session_id
    forged.http.cookies.set(
        "JSESSIONID", victim.http.cookies.get("JSESSIONID", domain=victim.host) or ""
    )
    with pytest.raises(OxError, match="SES-0203"):
        forged.folders()


def front_identity(session: OxSession) -> dict[str, str]:
    return dict(session.call("GET", "oxnode", "identity")["data"])


@pytest.mark.balancer
def test_loadfactor_75_25_moves_the_split(balanced: Lab) -> None:
    guide_lab = balanced
    assert guide_lab.ox
    web = web_of(guide_lab)
    nodes = guide_lab.ox.nodes
    web.reconfigure(
        [Member(nodes[0].name, nodes[0].route, 75), Member(nodes[1].name, nodes[1].route, 25)]
    )
    try:
        routes = collections.Counter(front_login(guide_lab).route for _ in range(40))
    finally:
        web.reconfigure([Member(n.name, n.route) for n in nodes])
    assert 22 <= routes["OX1"] <= 38 and routes["OX2"] >= 2, (
        f"loadfactor 75/25 splits new sessions about 3:1: {routes}"
    )


@pytest.mark.balancer
def test_mod_proxy_http_variant(balanced: Lab) -> None:
    """The modern OX front end: the same balancer with http:// members on port 8080."""
    guide_lab = balanced
    assert guide_lab.ox
    web = web_of(guide_lab)
    members = [Member(n.name, n.route) for n in guide_lab.ox.nodes]
    web.reconfigure(members, protocol="http")
    try:
        session = front_login(guide_lab)
        assert front_identity(session)["via"] == "http", "requests reach the node over HTTP"
        assert "Test User" in session.folder_titles(), "stickiness works the same"
    finally:
        web.reconfigure(members)
    assert front_identity(front_login(guide_lab))["via"] == "ajp", "and back to AJP13"
