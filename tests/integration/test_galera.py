"""The guide's "Galera database setup" and "Loadbalancer options" sections, checked on a
running 3-node cluster behind HAProxy."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from itertools import groupby

import docker
import pymysql
import pytest
import requests

from lab.chaos.nemesis.faults import desynced, drained, frozen_server, isolated, killed
from lab.infra.waiting import poll
from lab.plan.failover import get_profile
from lab.plan.topology import LabRequest
from lab.pytest_plugin import runnable_request
from lab.roles.db.consistency import differences, node_checksums
from lab.roles.db.galera import GaleraCluster, GaleraNode, settled
from lab.roles.db.node import NotReady
from lab.roles.db.quorum import restore_primary
from lab.roles.dblb.front import Dblb
from lab.roles.status import render_status
from lab.roles.system import Lab

pytestmark = [pytest.mark.galera, pytest.mark.docker]


def clustercheck(node: GaleraNode, path: str = "/") -> requests.Response:
    return requests.get(f"http://{node.ip}:9200{path}", timeout=5)


def backend_status(dblb: Dblb, listener: str, server: str) -> str:
    return next(b.status for b in dblb.backends() if b.listener == listener and b.server == server)


def detection_bound_s(lab: Lab, write: bool) -> float:
    """inter*fall plus one interval of phase and the check timeout, with CPU slack."""
    profile = get_profile(lab.request.profile)
    timing = profile.write if write else profile.read
    return (timing.inter_ms * (timing.fall + 1)) / 1000 + 2.0


def test_guides_verification_table_holds_on_every_node(galera_cluster: GaleraCluster) -> None:
    for node in galera_cluster.nodes:
        status = node.wsrep_status()
        assert status["wsrep_cluster_size"] == "3", f"{node.name} must see all three nodes"
        assert status["wsrep_cluster_status"] == "Primary", (
            f"{node.name} must be in the primary component"
        )
        assert status["wsrep_local_state"] == "4", f"{node.name} must be Synced (state 4)"
        assert status["wsrep_local_state_comment"] == "Synced"
        assert status["wsrep_ready"] == "ON", f"{node.name} must accept queries"


def test_nodes_came_by_their_data_as_the_join_mode_says(
    lab_factory: Callable[..., Lab],
    lab_request: LabRequest,
    docker_client: docker.DockerClient,
    flavour: str,
) -> None:
    """Seeded (the default): no node needed a state transfer. --join sst: the guide's
    bootstrap and full SSTs. A lab of its own: the shared one's nodes are restarted by
    other tests, and `lab status` shows a node's latest start."""
    request = runnable_request(docker_client, lab_request, flavour, "galera")
    lab = lab_factory(request, name=f"joined-{flavour}")
    try:
        assert lab.galera
        joined = {node.name: node.how_joined() for node in lab.galera.nodes}
    finally:
        lab.down()
    if request.join == "seeded":
        expected = dict.fromkeys(joined, "seeded, no transfer")
    else:
        first, *joiners = joined
        expected = {first: "bootstrapped"} | dict.fromkeys(joiners, f"SST ({request.sst_method})")
    assert joined == expected, "how each node joined, read from its log"


def test_rows_written_on_one_node_are_read_on_every_other(galera_cluster: GaleraCluster) -> None:
    db = f"repl_{uuid.uuid4().hex[:8]}"
    first, *others = galera_cluster.nodes
    with first.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {db}")
        cur.execute(f"CREATE TABLE {db}.t (id INT PRIMARY KEY, v VARCHAR(20))")
        cur.executemany(f"INSERT INTO {db}.t VALUES (%s, %s)", [(i, f"row{i}") for i in range(10)])
    for node in others:
        # wsrep_sync_wait=1 (causal reads) makes the read wait for the writes to apply
        with node.connect() as conn, conn.cursor() as cur:
            cur.execute(f"SELECT id, v FROM {db}.t ORDER BY id")
            rows = cur.fetchall()
        assert rows == tuple((i, f"row{i}") for i in range(10)), f"{node.name} must have every row"


def test_root_is_secured_and_users_exist(galera_cluster: GaleraCluster) -> None:
    node = galera_cluster.nodes[1]  # a joiner: by state transfer, or from the seeded state
    users = set(node.sql("SELECT CONCAT(User, '@', Host) FROM mysql.user").split())
    assert not any(u.startswith("@") for u in users), f"no anonymous users: {users}"
    assert {u for u in users if u.startswith("root@")} <= {
        "root@localhost",
        "root@127.0.0.1",
        "root@::1",
    }, "root must be local-only"
    assert "sstuser@localhost" in users and "clustercheckuser@localhost" in users
    assert "test" not in node.sql("SHOW DATABASES").split(), "the test database is removed"
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(host=node.ip, user="root", password="", connect_timeout=3)


def test_writes_land_on_one_node_and_reads_spread_over_all(dblb: Dblb, healthy_lab: Lab) -> None:
    writers = Counter()
    for _ in range(12):
        with dblb.connect(write=True) as conn, conn.cursor() as cur:
            cur.execute("SELECT @@hostname")
            writers[cur.fetchone()[0]] += 1
    assert list(writers) == ["galera1"], f"all writes go to the active writer, got {writers}"
    readers = Counter()
    for _ in range(12):
        with dblb.connect(write=False) as conn, conn.cursor() as cur:
            cur.execute("SELECT @@hostname")
            readers[cur.fetchone()[0]] += 1
    assert set(readers) == {"galera1", "galera2", "galera3"}, f"round-robin reads, got {readers}"


def test_exactly_one_node_answers_master(healthy_lab: Lab) -> None:
    assert healthy_lab.galera
    answers = {n.name: clustercheck(n, "/master").status_code for n in healthy_lab.galera.nodes}
    assert answers == {"galera1": 200, "galera2": 503, "galera3": 503}, answers


@pytest.mark.parametrize("fault", ["desync", "drain"])
def test_unhealthy_node_leaves_rotation_and_returns(healthy_lab: Lab, fault: str) -> None:
    assert healthy_lab.galera and healthy_lab.dblb
    node, dblb = healthy_lab.galera.node("galera2"), healthy_lab.dblb
    inject: AbstractContextManager[None] = desynced(node) if fault == "desync" else drained(node)
    with inject:
        resp = clustercheck(node)
        assert resp.status_code == 503, "an unhealthy node must fail its health check"
        expected = "Donor/Desynced" if fault == "desync" else "drained for maintenance"
        assert expected in resp.text, f"the 503 body says why: {resp.text!r}"
        started = time.monotonic()
        poll(
            lambda: backend_status(dblb, Dblb.READ, "galera2") == "DOWN",
            timeout=detection_bound_s(healthy_lab, write=False),
            what="HAProxy to take galera2 out of the read rotation within inter*fall",
        )
        took = time.monotonic() - started
        print(f"galera2 ({fault}) left the read rotation {took:.1f}s after its check failed")
    poll(
        lambda: backend_status(dblb, Dblb.READ, "galera2") == "UP",
        timeout=30,
        what="galera2 to return to the read rotation after healing",
    )


def test_partitioned_node_goes_non_primary_and_rejoins(healthy_lab: Lab) -> None:
    assert healthy_lab.galera and healthy_lab.dblb
    cluster, dblb = healthy_lab.galera, healthy_lab.dblb
    node = cluster.node("galera3")
    peers = [n for n in cluster.nodes if n is not node]
    with isolated(node, peers):
        poll(
            lambda: node.wsrep_status().get("wsrep_cluster_status") == "non-Primary",
            timeout=60,
            what="the cut-off node to go non-Primary",
        )
        resp = clustercheck(node)
        assert resp.status_code == 503 and "not Primary" in resp.text, resp.text
        poll(
            lambda: backend_status(dblb, Dblb.READ, "galera3") == "DOWN",
            timeout=detection_bound_s(healthy_lab, write=False),
            what="HAProxy to take the non-Primary node out of rotation",
        )

        def majority_view() -> tuple[str, str]:
            status = peers[0].wsrep_status()
            return status.get("wsrep_cluster_size", "?"), status.get("wsrep_cluster_status", "?")

        # the view passes through a transitional non-Primary state while it is installed
        poll(
            lambda: majority_view() == ("2", "Primary"),
            timeout=30,
            what="the majority to drop the cut-off node and form a Primary component",
        )
        assert majority_view()[1] == "Primary", "the two-node majority keeps quorum"
        assert backend_status(dblb, Dblb.WRITE, "galera1") == "UP", (
            "losing a reader must not take the writer out"
        )
        with dblb.connect(write=True) as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS during_partition")
    poll(
        lambda: (
            node.wsrep_status().get("wsrep_local_state_comment") == "Synced"
            and node.wsrep_status().get("wsrep_cluster_size") == "3"
        ),
        timeout=60,
        what="galera3 to rejoin Synced after the partition heals",
    )
    assert "during_partition" in node.sql("SHOW DATABASES").split(), (
        "the rejoined node has the writes made while it was cut off"
    )


def test_a_lost_primary_component_is_restored_from_the_most_advanced_node(
    healthy_lab: Lab,
) -> None:
    """Two nodes killed: the third is non-Primary and Galera does not make it Primary
    again by itself. restore_primary (what heal_lab does between tests) bootstraps it
    with pc.bootstrap=YES and restarts the two, which rejoin it: the whole cluster is
    Synced again, and a write made before the loss is still there."""
    assert healthy_lab.galera
    cluster = healthy_lab.galera
    survivor, lost = cluster.node("galera1"), [cluster.node("galera2"), cluster.node("galera3")]
    survivor.sql("CREATE DATABASE IF NOT EXISTS before_quorum_loss")
    poll(lambda: all("before_quorum_loss" in n.sql("SHOW DATABASES") for n in lost),
         timeout=30, what="the write on every node before the loss")  # fmt: skip
    try:
        for node in lost:
            node.kill()
        poll(
            lambda: survivor.wsrep_status().get("wsrep_cluster_status") == "non-Primary",
            timeout=60,
            what="galera1 to lose quorum with two of three nodes gone",
        )
        lines = restore_primary(cluster, say=lambda _: None)
    finally:
        for node in lost:
            if node.not_running():
                node.start()
    assert lines[0].startswith("galera1: pc.bootstrap=YES (most advanced"), lines
    assert sorted(line.split(":")[0] for line in lines[1:]) == ["galera2", "galera3"], lines
    healthy_lab.wait_healthy()
    assert all("before_quorum_loss" in n.sql("SHOW DATABASES") for n in cluster.nodes)


def test_write_listener_fails_over_to_one_backup_and_back(healthy_lab: Lab) -> None:
    """Writes move to a backup when the active node fails its check, and at no moment do
    two nodes hold write sessions (sampled from HAProxy's stats while faults run)."""
    assert healthy_lab.galera and healthy_lab.dblb
    dblb, active = healthy_lab.dblb, healthy_lab.galera.node("galera1")
    writers: list[str] = []
    overlaps: list[list[str]] = []
    stop = threading.Event()

    def write_forever() -> None:
        while not stop.is_set():
            try:
                with dblb.connect(write=True, timeout=2) as conn, conn.cursor() as cur:
                    cur.execute("CREATE DATABASE IF NOT EXISTS failover_probe")
                    cur.execute("SELECT @@hostname")
                    writers.append(cur.fetchone()[0])
            except pymysql.err.MySQLError:
                time.sleep(0.05)  # back-off between retries while the writer switches

    def watch_sessions() -> None:
        while not stop.is_set():
            busy = [b.server for b in dblb.backends() if b.listener == Dblb.WRITE and b.sessions]
            if len(busy) > 1:
                overlaps.append(busy)
            time.sleep(0.05)

    threads = [threading.Thread(target=write_forever), threading.Thread(target=watch_sessions)]
    for t in threads:
        t.start()
    try:
        with desynced(active):
            poll(
                lambda: writers and writers[-1] == "galera2",
                timeout=detection_bound_s(healthy_lab, write=True) + 5,
                what="writes to move to the first backup, galera2",
            )
        poll(
            lambda: writers[-1] == "galera1",
            timeout=30,
            what="writes to return to galera1 after it healed",
        )
    finally:
        stop.set()
        for t in threads:
            t.join()
    runs = [name for name, _ in groupby(writers)]
    assert runs == ["galera1", "galera2", "galera1"], (
        f"writes must switch once to the backup and once back, never alternate: {runs}"
    )
    assert not overlaps, f"two nodes held write sessions at once: {overlaps[:3]}"


def test_hung_mysqld_is_a_503_not_a_hang(healthy_lab: Lab) -> None:
    """clustercheck's connect timeout: a frozen server must fail the check quickly, or
    HAProxy's check would time out instead of reading a reason."""
    assert healthy_lab.galera
    node = healthy_lab.galera.node("galera3")
    with frozen_server(node):
        started = time.monotonic()
        resp = clustercheck(node)
        took = time.monotonic() - started
    assert resp.status_code == 503, f"a hung mysqld is unavailable: {resp.text!r}"
    assert "cannot query mysqld" in resp.text, resp.text
    assert took < 4.5, f"answered after {took:.1f}s; the connect timeout is 2s"


def test_server_answers_to_the_name_operators_use(healthy_lab: Lab) -> None:
    """An operator hangs or inspects the server with `pkill -STOP mariadbd` (or mysqld on
    Oracle and Percona flavours); a lab-only process name would make their runbook miss."""
    assert healthy_lab.galera
    name = healthy_lab.plan.flavour.dialect.server_process
    node = healthy_lab.galera.node("galera2")
    found = node.exec(["pidof", name])
    assert found.exit_code == 0 and found.output.split(), (
        f"`pidof {name}` finds no server in {node.name}: {found.output!r}"
    )
    stopped = node.exec(["pkill", "-STOP", "-x", name])
    try:
        state = node.exec(["ps", "-o", "stat=", "-C", name]).output
        assert stopped.exit_code == 0 and "T" in state, (
            f"`pkill -STOP -x {name}` must stop the server; ps says {state!r}"
        )
    finally:
        node.exec(["pkill", "-CONT", "-x", name])


def test_a_killed_node_is_shown_down_and_rejoins_by_ist(healthy_lab: Lab) -> None:
    """`lab status` while a node is dead: a person reads which node, since when and that
    HAProxy took it out, in a table that fits 100 columns; not a Docker API error. Started
    again, it catches up by IST, as a crashed node under Debian's unit does."""
    assert healthy_lab.galera and healthy_lab.dblb
    dblb = healthy_lab.dblb
    node = healthy_lab.galera.node("galera3")
    with killed(node):
        poll(
            lambda: all(b.status == "DOWN" for b in dblb.backends() if b.server == "galera3"),
            timeout=detection_bound_s(healthy_lab, write=False) + 60,
            what="HAProxy to mark the killed galera3 DOWN",
        )
        text = render_status(healthy_lab, width=100)
        # the cluster moves on without it, as in production: the survivors drop it from
        # their view and commit a write, so the restarted node is behind. (Started again
        # before the survivors' suspect_timeout, with nothing written, it is still in
        # their view and needs no transfer at all.)
        survivor = healthy_lab.galera.node("galera1")
        poll(
            lambda: survivor.wsrep_status().get("wsrep_cluster_size") == "2",
            timeout=healthy_lab.plan.profile.eviction_s + 30,
            what="the survivors to drop the killed galera3 from their view",
            retry_on=(NotReady,),
        )
        with dblb.connect(write=True) as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS while_galera3_was_dead")
    assert "container not running (killed" in text and "s ago" in text, text
    assert "HAProxy marked it DOWN" in text, f"HAProxy's verdict belongs in the row:\n{text}"
    assert "409" not in text and "Client Error" not in text, f"a raw Docker error:\n{text}"
    assert all(len(line) <= 100 for line in text.splitlines()), f"wider than 100:\n{text}"

    def rejoined() -> str | None:
        joined = node.how_joined()
        return joined if settled(joined) else None

    joined = poll(
        rejoined,
        timeout=120,
        what="the killed galera3 to rejoin",
        retry_on=(docker.errors.APIError,),
    )
    assert joined == "IST", (
        f"a SIGKILLed node rejoins by IST from the position galera_recovery finds, as under "
        f"Debian's mariadb.service, once the cluster has moved on; it joined by {joined}"
    )


def test_a_row_one_node_alone_holds_is_named_by_table_and_chunk(healthy_lab: Lab) -> None:
    """The consistency check every chaos run ends with: a row written on one node with
    replication switched off for the session (wsrep_on=OFF) is found, by table and
    primary-key range, as pt-table-checksum would report it."""
    assert healthy_lab.galera
    nodes = healthy_lab.galera.nodes
    nodes[0].sql(
        "CREATE DATABASE oxlab_drift; CREATE TABLE oxlab_drift.t (id INT PRIMARY KEY, v TEXT); "
        "INSERT INTO oxlab_drift.t VALUES (1, 'a'), (2, 'b')"
    )
    try:
        poll(
            lambda: all(n.sql_value("SELECT COUNT(*) FROM oxlab_drift.t") == "2" for n in nodes),
            timeout=30,
            what="the table on every node",
            retry_on=(NotReady,),
        )
        before = differences({n.name: node_checksums(n, galera=True) for n in nodes})
        assert not [d for d in before if "oxlab_drift" in d], before
        nodes[2].sql("SET SESSION wsrep_on = OFF; INSERT INTO oxlab_drift.t VALUES (1500, 'x')")
        found = [
            d
            for d in differences({n.name: node_checksums(n, galera=True) for n in nodes})
            if "oxlab_drift" in d
        ]
        assert found == [
            f"oxlab_drift.t, primary key 1000-1999: {nodes[0].name}: missing, "
            f"{nodes[1].name}: missing, {nodes[2].name}: 1 rows, crc "
            + found[0].rsplit("crc ", 1)[-1]
        ], found
    finally:
        nodes[0].sql("DROP DATABASE IF EXISTS oxlab_drift")
        nodes[2].sql("SET SESSION wsrep_on = OFF; DROP DATABASE IF EXISTS oxlab_drift")
