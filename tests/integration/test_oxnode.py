"""The groupware nodes against real databases: the guide's setup sequence, sessions
across nodes, the shared filestore, cache invalidation between nodes, and the
replication monitor's read/write split (marker oxnode; GTID lab unless noted)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import requests

from lab.chaos.nemesis.faults import rejected
from lab.infra.waiting import poll
from lab.oxnode import ajp
from lab.oxnode.listeners import ajp_request
from lab.pytest_plugin import start_ox_cluster
from lab.roles.db.gtid import GtidPair
from lab.roles.groupware.client import OxError, OxSession
from lab.roles.groupware.cluster import OxCluster, OxNode
from lab.roles.system import Lab

pytestmark = [pytest.mark.oxnode, pytest.mark.docker]
READ = 1


@contextmanager
def slave_sql_stopped(pair: GtidPair) -> Iterator[None]:
    """Make replication lag certain: the slave receives but does not apply."""
    pair.slave.sql(pair.slave.dialect.stop_sql_thread)
    try:
        yield
    finally:
        pair.slave.sql(pair.slave.dialect.start_sql_thread)
        pair.wait_caught_up()


@pytest.mark.gtid
def test_guide_sequence_yields_a_context_with_users(ox_cluster: OxCluster) -> None:
    for node in ox_cluster.nodes:
        assert node.identity()["route"] in ("OX1", "OX2")
        user = OxSession.login(node.url, "testuser", "secret")
        assert (user.data["context_id"], user.data["user_id"]) == (1, 3), "the guide's ids"
        admin = OxSession.login(node.url, "oxadmin", "secret")
        assert admin.data["user_id"] == 2
    with pytest.raises(OxError) as exc:
        OxSession.login(ox_cluster.nodes[0].url, "testuser", "wrong")
    assert exc.value.code == "LGI-0006"


@pytest.mark.gtid
def test_admin_commands_fail_the_ox_way(ox_cluster: OxCluster) -> None:
    node = ox_cluster.nodes[0]
    wrong = node.exec(
        ["/opt/open-xchange/sbin/registerserver", "-n", "x", "-A", "oxadminmaster", "-P", "wrong"]
    )
    assert wrong.exit_code != 0 and "Authentication failed" in wrong.output
    dup = node.exec(
        [
            "/opt/open-xchange/sbin/registerserver",
            "-n",
            "oxserver",
            "-A",
            "oxadminmaster",
            "-P",
            "secret",
        ]
    )
    assert dup.exit_code != 0 and "Server oxserver already exists" in dup.output
    unknown = node.exec(
        [
            "/opt/open-xchange/sbin/createuser",
            "-c",
            "42",
            "-A",
            "oxadmin",
            "-P",
            "secret",
            "-u",
            "u",
            "-g",
            "g",
            "-s",
            "s",
            "-p",
            "p",
            "-e",
            "e",
        ]
    )
    assert unknown.exit_code != 0 and "Context 42 does not exist" in unknown.output


@pytest.mark.gtid
def test_login_writes_the_guides_log_line_on_one_node_and_logout_ends_the_session(
    ox_cluster: OxCluster,
) -> None:
    node1, node2 = ox_cluster.nodes
    session = OxSession.login(node1.url, "testuser", "secret")
    line = f"Session created. ID: {session.session_id}, Context: 1, User: 3"
    assert any(line in entry for entry in node1.log_lines("Session created")), line
    assert not any(session.session_id in e for e in node2.log_lines("Session created"))
    assert session.route == "OX1", "JSESSIONID carries the node's route"
    session.logout()
    with pytest.raises(OxError) as exc:
        session.folders()
    assert exc.value.code == "SES-0203", "a logged-out session is refused"


@pytest.mark.gtid
def test_forged_session_or_secret_is_refused(ox_cluster: OxCluster) -> None:
    node = ox_cluster.nodes[0]
    session = OxSession.login(node.url, "testuser", "secret")
    forged = OxSession(node.url)
    forged.session_id = session.session_id  # stolen id, no secret cookie
    with pytest.raises(OxError, match="SES-0203"):
        forged.folders()
    session.http.cookies.set("open-xchange-secret-lab", uuid.uuid4().hex)
    with pytest.raises(OxError, match="SES-0203"):
        session.folders()


@pytest.mark.gtid
def test_session_created_on_one_node_is_valid_on_the_other_and_after_a_restart(
    ox_cluster: OxCluster,
) -> None:
    node1, node2 = ox_cluster.nodes
    session = OxSession.login(node1.url, "testuser", "secret")
    session.move_to(node2.url)  # the balancer moved this browser to the other node
    assert "Test User" in session.folder_titles(), "session migration: node 2 knows it"
    assert session.route == "OX2", "node 2 re-binds the browser with its own route"
    node1.container.restart(timeout=5)
    ox_cluster.wait_ready()
    session.move_to(node1.url)
    assert "Test User" in session.folder_titles(), "a node restart loses no session"


@pytest.mark.gtid
def test_upload_on_one_node_downloads_identically_on_the_other(ox_cluster: OxCluster) -> None:
    ox_cluster.wait_ready()  # an earlier test may have restarted a node: peers reconnected
    node1, node2 = ox_cluster.nodes
    on1 = OxSession.login(node1.url, "testuser", "secret")
    on2 = OxSession.login(node2.url, "testuser", "secret")
    folder = on1.folder_id("Test User")
    data = os.urandom(300_000)
    doc = on1.upload(folder, "report.bin", data)
    downloaded = poll(
        lambda: _try_download(on2, doc), timeout=10, what="node 2 to see the uploaded document"
    )
    assert hashlib.sha256(downloaded).digest() == hashlib.sha256(data).digest(), (
        "byte-identical through the other node"
    )
    assert ox_cluster.filestore, "the guide's filestore is an NFS export"
    assert ox_cluster.filestore.owners() == {"1001:1001"}, (
        "on the NFS server the files belong to open-xchange (1001:1001)"
    )
    modes = {node.name: node.node_status()["filestores"] for node in ox_cluster.nodes}
    assert all("NFSv4" in str(m) or "nfs4" in str(m) for m in modes.values()), (
        f"each node says how it reaches the filestore: {modes}"
    )


def _try_download(session: OxSession, doc: str) -> bytes | None:
    try:
        return session.download(doc)
    except OxError:
        return None


def share_scenario(cluster: OxCluster) -> tuple[OxSession, str, str]:
    """User B (testuser) on node 2 has listed folders (and so cached them); user A (the
    context admin) on node 1 then creates a folder and shares it with B."""
    cluster.wait_ready()  # an earlier test may have restarted a node: peers reconnected
    node1, node2 = cluster.nodes
    owner = OxSession.login(node1.url, "oxadmin", "secret")
    reader = OxSession.login(node2.url, "testuser", "secret")
    title = f"shared-{uuid.uuid4().hex[:6]}"
    parent = owner.folder_id("Context Admin")
    assert title not in reader.folder_titles(parent)  # B's view is now cached on node 2
    folder = owner.create_folder(parent, title)
    owner.share(folder, entity=3, bits=READ)
    return reader, parent, title


@pytest.mark.gtid
def test_share_on_node_one_is_seen_on_node_two_at_once(
    ox_cluster: OxCluster, gtid_pair: GtidPair
) -> None:
    received = ox_cluster.nodes[1].node_status()["cluster"]["events_received"]
    reader, parent, title = share_scenario(ox_cluster)
    # Node 2 refetches from the slave (its monitor never saw node 1's write), so the
    # share must have replicated; the cache invalidation is what this test is about.
    gtid_pair.wait_caught_up()
    poll(
        lambda: title in reader.folder_titles(parent),
        timeout=5,
        what="node 2 to drop its cached folders on node 1's invalidation event",
    )
    peers = ox_cluster.nodes[1].node_status()["cluster"]
    assert peers["events_received"] > received, f"this share's invalidation arrived: {peers}"


@pytest.mark.gtid
def test_without_clustering_the_other_node_serves_its_stale_cache(
    lab_factory: Callable[..., Lab], gtid_lab: Lab
) -> None:
    lab = lab_factory(gtid_lab.request, name=f"ox-nocluster-{gtid_lab.request.flavour}")
    try:
        cluster = start_ox_cluster(lab, clustering=False)
        reader, parent, title = share_scenario(cluster)
        assert lab.gtid
        lab.gtid.wait_caught_up()
        assert title not in reader.folder_titles(parent), (
            "the guide's problem: without clustering node 2 keeps its cached folder tree"
        )
    finally:
        lab.down()


@pytest.mark.gtid
def test_replication_monitor_reads_own_writes_from_the_master(
    ox_cluster: OxCluster, gtid_pair: GtidPair
) -> None:
    node1 = ox_cluster.nodes[0]
    session = OxSession.login(node1.url, "testuser", "secret")
    home = session.folder_id("Test User")
    before = node1.node_status()["replication_monitor"]["master_instead_of_slave"]
    with slave_sql_stopped(gtid_pair):
        title = f"own-write-{uuid.uuid4().hex[:6]}"
        session.create_folder(home, title)
        assert title in session.folder_titles(home), (
            "with the monitor on, a node reads its own write even though the slave lags"
        )
        after = node1.node_status()["replication_monitor"]["master_instead_of_slave"]
        assert after > before, "the read went to the master instead of the slave (counted)"


@pytest.mark.gtid
def test_monitor_memory_is_per_node(ox_cluster: OxCluster, gtid_pair: GtidPair) -> None:
    """OX keeps the expected counter in each node's memory: a write through node 1
    followed at once by a read through node 2 reads the lagging slave (stale)."""
    ox_cluster.wait_ready()  # an earlier test may have restarted a node: peers reconnected
    node1, node2 = ox_cluster.nodes
    on1 = OxSession.login(node1.url, "testuser", "secret")
    on2 = OxSession.login(node2.url, "testuser", "secret")
    home = on1.folder_id("Test User")
    received = node2.node_status()["cluster"]["events_received"]
    with slave_sql_stopped(gtid_pair):
        title = f"cross-node-{uuid.uuid4().hex[:6]}"
        on1.create_folder(home, title)
        poll(
            lambda: node2.node_status()["cluster"]["events_received"] > received,
            timeout=5,
            what="node 2's cache to be invalidated",
        )
        assert title not in on2.folder_titles(home), (
            "node 2 never saw node 1's write counter, so it trusts the lagging slave"
        )
    # Node 2 cached what the lagging slave showed; it keeps that view until the next
    # invalidation (any write to the context's folders) or the cache's expiry.
    assert title not in on2.folder_titles(home), "node 2 serves its stale cached view"
    on1.create_folder(home, f"nudge-{uuid.uuid4().hex[:6]}")
    poll(
        lambda: title in on2.folder_titles(home),
        timeout=10,
        what="node 2 to see the folder after the next invalidation",
    )


@pytest.mark.gtid
def test_without_the_monitor_own_writes_read_stale(
    ox_cluster: OxCluster, gtid_pair: GtidPair
) -> None:
    node1 = ox_cluster.nodes[0]
    _reconfigure(node1, replication_monitor=False)
    try:
        session = OxSession.login(node1.url, "testuser", "secret")
        home = session.folder_id("Test User")
        with slave_sql_stopped(gtid_pair):
            title = f"stale-{uuid.uuid4().hex[:6]}"
            session.create_folder(home, title)
            assert title not in session.folder_titles(home), (
                "with com.openexchange.database.replicationMonitor=false the node reads "
                "the lagging slave and misses its own write"
            )
    finally:
        _reconfigure(node1, replication_monitor=True)


def _reconfigure(node: OxNode, replication_monitor: bool) -> None:
    value = "true" if replication_monitor else "false"
    node.exec(
        [
            "sed",
            "-i",
            f"s/replicationMonitor=.*/replicationMonitor={value}/",
            "/opt/open-xchange/etc/configdb.properties",
        ]
    )
    node.service("restart")
    poll(
        lambda: node.node_status()["replication_monitor"]["enabled"] is replication_monitor,
        timeout=30,
        what=f"{node.name} to restart with the monitor {value}",
        retry_on=(requests.RequestException, KeyError),
    )


@pytest.mark.galera
def test_guide_sequence_on_galera_behind_haproxy(ox_galera_cluster: OxCluster) -> None:
    """The Galera variant: configdb and the user database registered as HAProxy's write
    (3306) and read (3307) listeners; login and an upload/download across the nodes."""
    node1, node2 = ox_galera_cluster.nodes
    on1 = OxSession.login(node1.url, "testuser", "secret")
    on2 = OxSession.login(node2.url, "testuser", "secret")
    data = os.urandom(50_000)
    doc = on1.upload(on1.folder_id("Test User"), "galera.bin", data)
    assert on2.download(doc) == data, "wsrep_sync_wait=1: the other node reads it at once"
    monitor = node1.node_status()["replication_monitor"]
    assert monitor["enabled"] is True, "read and write URLs differ, so the monitor runs"


@pytest.mark.gtid
def test_ajp_listener_serves_the_same_api_with_the_balancers_route(ox_cluster: OxCluster) -> None:
    node = ox_cluster.nodes[0]
    forward = ajp.ForwardRequest(
        method="GET",
        uri="/oxnode/identity",
        remote_addr="10.0.0.1",
        server_name="web",
        attributes={"route": "OX1"},
    )
    response = ajp_request((node.ip, 8009), forward)
    identity = json.loads(response.body)["data"]
    assert response.status == 200 and identity["via"] == "ajp"
    assert identity["balancer_route"] == "OX1", "mod_proxy_ajp's route attribute arrives"
    with socket.create_connection((node.ip, 8009), timeout=5) as sock:
        sock.sendall(ajp.CPING_PACKET)
        assert sock.recv(5) == ajp.CPONG_PACKET, "CPing/CPong for the balancer's health probe"


@pytest.mark.gtid
def test_unreachable_slave_falls_back_to_the_master(
    ox_cluster: OxCluster, gtid_pair: GtidPair
) -> None:
    node1 = ox_cluster.nodes[0]
    session = OxSession.login(node1.url, "testuser", "secret")
    home = session.folder_id("Test User")
    # a write empties the node's folder cache (an earlier test may have filled it), so
    # the listing below must read the database and ask the slave first
    session.create_folder(home, f"fallback-{uuid.uuid4().hex[:6]}")
    before = node1.node_status()["replication_monitor"]["slave_unreachable"]
    with rejected(gtid_pair.slave, [node1], 3306):
        assert "Test User" in session.folder_titles(), "reads continue from the master"
    after = node1.node_status()["replication_monitor"]["slave_unreachable"]
    assert after > before, "the fallback is counted"
