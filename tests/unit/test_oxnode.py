"""oxnode's pure parts: the files oxinstaller writes, the replication monitor's decision
and counters, the filestore's no-partial-file rule, and the admin commands' flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.oxnode import admin
from lab.oxnode.config import (
    ConfigDb,
    DbAddress,
    check_password,
    hash_password,
    jdbc_url,
    parse_properties,
    render_properties,
)
from lab.oxnode.filestore import Filestore
from lab.oxnode.replication import ReplicationMonitor, slave_is_current
from lab.roles.groupware.cluster import CREATECONTEXT


def test_configdb_properties_round_trip_with_read_and_write_urls() -> None:
    cfg = ConfigDb(jdbc_url("dbslave"), jdbc_url("dbmaster"), "openexchange", "pw", False)
    text = render_properties(cfg.properties(), "written by oxinstaller")
    assert "readUrl=jdbc:mysql://dbslave/configdb" in text
    assert "writeUrl=jdbc:mysql://dbmaster/configdb" in text
    assert "com.openexchange.database.replicationMonitor=false" in text
    assert ConfigDb.from_properties(parse_properties(text)) == cfg


def test_db_addresses_from_jdbc_urls() -> None:
    assert DbAddress.from_url("jdbc:mysql://dblb:3307/configdb") == DbAddress(
        "dblb", 3307, "configdb"
    )
    assert DbAddress.from_url("jdbc:mysql://dbmaster/") == DbAddress("dbmaster", 3306, "")
    with pytest.raises(ValueError):
        DbAddress.from_url("postgres://x/y")


def test_master_password_is_stored_hashed() -> None:
    stored = hash_password("secret")
    assert "secret" not in stored and check_password(stored, "secret")
    assert not check_password(stored, "Secret")


@pytest.mark.parametrize(
    ("expected", "seen", "use_slave"),
    [
        (None, 5, True),
        (None, None, True),
        (7, 7, True),
        (7, 9, True),
        (7, 6, False),
        (7, None, False),
    ],
)
def test_replication_monitor_decision(
    expected: int | None, seen: int | None, use_slave: bool
) -> None:
    assert slave_is_current(expected, seen) is use_slave


def test_monitor_remembers_the_highest_counter_per_context() -> None:
    monitor = ReplicationMonitor(enabled=True)
    monitor.remember(("db/oxdb", 1), 5)
    monitor.remember(("db/oxdb", 1), 3)  # a late commit of an older transaction
    assert monitor.expected(("db/oxdb", 1)) == 5 and monitor.expected(("db/oxdb", 2)) is None
    monitor.count("master_instead_of_slave")
    assert monitor.counters()["master_instead_of_slave"] == 1


def test_monitor_remembers_a_first_counter_of_zero() -> None:
    """A context's first write may commit counter 0: the next read must still wait for
    the slave to have it, not take "nothing remembered" for an answer."""
    monitor = ReplicationMonitor(enabled=True)
    monitor.remember(("db/oxdb", 1), 0)
    assert monitor.expected(("db/oxdb", 1)) == 0
    assert not slave_is_current(monitor.expected(("db/oxdb", 1)), None)


def test_monitor_counters_are_ox_mbean_figures_each_counted_once() -> None:
    """`lab status` and the chaos reports read these names; every count is one event."""
    monitor = ReplicationMonitor(enabled=False)
    for name in ("slave_reads", "slave_reads", "slave_unreachable", "master_reads_without_slave"):
        monitor.count(name)
    assert monitor.counters() == {
        "enabled": False,
        "slave_reads": 2,
        "master_instead_of_slave": 0,
        "slave_unreachable": 1,
        "master_reads_without_slave": 1,
    }


def test_filestore_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Filestore(tmp_path)
    location = store.put(1, b"complete")
    assert store.get(location) == b"complete" and location.startswith("1_ctx_store/")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError):
        store.put(1, b"half")
    files = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [Path(location).name], f"only the complete file remains: {files}"


def test_admin_commands_take_the_guides_flags() -> None:
    parser, _ = admin._parser("registerdatabase")
    ns = parser.parse_args(
        [
            "-A",
            "oxadminmaster",
            "-P",
            "secret",
            "--name",
            "oxdatabase_slave",
            "--hostname",
            "dbslave",
            "--dbuser",
            "openexchange",
            "--dbpasswd",
            "x",
            "--master",
            "false",
            "--masterid=4",
        ]
    )
    assert (ns.master, ns.masterid, ns.hostname) == ("false", 4, "dbslave")
    parser, _ = admin._parser("createcontext")
    ns = parser.parse_args(list(CREATECONTEXT))  # what OxCluster.guide_setup runs
    assert (ns.c, ns.L, ns.q) == (1, "defaultcontext", 1024)


def test_admin_errors_print_like_ox_and_exit_non_zero(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("lab.oxnode.config.ETC", tmp_path)
    assert admin.main(["registerserver", "-n", "x", "-A", "oxadminmaster", "-P", "p"]) == 1
    assert capsys.readouterr().err.startswith("Server response:\n Authentication failed")


@pytest.mark.parametrize(
    ("raw", "mapped"),
    [
        ("/servlet/axis2/services", "/servlet/axis2/services"),
        ("/servlet/axis2/services;x", "/servlet/axis2/services"),
        ("/servlet;a=1/axis2;b/services;jsessionid=abc/", "/servlet/axis2/services"),
        ("/servlet/axis2/%73ervices", "/servlet/axis2/services"),
        ("//servlet//axis2/services", "/servlet/axis2/services"),
        ("/servlet/./axis2/services", "/servlet/axis2/services"),
        ("/servlet/x/../axis2/services", "/servlet/axis2/services"),
        ("/SERVLET/axis2/services", "/SERVLET/axis2/services"),  # mapping is case-sensitive
        ("/servlet/axis2/services%3Bx", "/servlet/axis2/services;x"),  # decoded after params
        ("/ajax/login/", "/ajax/login"),
    ],
)
def test_request_paths_are_mapped_as_a_servlet_container_does(raw: str, mapped: str) -> None:
    from lab.oxnode.servlet import servlet_path

    assert servlet_path(raw) == mapped


@pytest.mark.parametrize("raw", ["/../etc/passwd", "/servlet/%2F..%2Faxis2"])
def test_paths_a_servlet_container_refuses(raw: str) -> None:
    from lab.oxnode.servlet import BadPath, servlet_path

    with pytest.raises(BadPath):
        servlet_path(raw)


def test_apache_lockdown_pattern_catches_what_the_servlet_maps_to_provisioning() -> None:
    """Every decoded path the servlet container maps to the provisioning API is matched
    by the LocationMatch (Apache itself decodes, merges slashes and resolves dots first;
    it does not strip path parameters, which is what the pattern is for)."""
    import re

    from lab.oxnode.servlet import is_provisioning, servlet_path
    from lab.roles.web.front_end import PROVISIONING_PATTERN, render_proxy_ajp_conf

    pattern = re.compile(PROVISIONING_PATTERN)
    for decoded in (
        "/servlet/axis2/services",
        "/servlet/axis2/services/",
        "/servlet/axis2/services;x",
        "/servlet;a/axis2;b/services;c/OXContextService",
        "/Servlet/AXIS2/Services",
    ):
        assert pattern.search(decoded), decoded
        assert is_provisioning(servlet_path(decoded)) or decoded != decoded.lower()
    for other in ("/servlet/axis2/servicesX", "/ajax/login", "/servlet/axis2"):
        assert not pattern.search(other) and not is_provisioning(servlet_path(other))
    conf = render_proxy_ajp_conf([], ["127.0.0.1"])
    assert f'<LocationMatch "{PROVISIONING_PATTERN}">' in conf and "Deny from all" in conf
    guide = render_proxy_ajp_conf([], ["127.0.0.1"], lockdown="guide")
    assert "<Location /servlet/axis2/services>" in guide, "the guide's block, as written"


def test_a_peer_connection_the_peer_closed_is_not_alive() -> None:
    """After a peer restarts, a send on the old connection would succeed and the
    invalidation would be lost: the node must see the connection is dead first."""
    import socket

    from lab.oxnode.cluster import alive

    ours, theirs = socket.socketpair()
    try:
        assert alive(ours), "an idle open connection is alive"
        theirs.close()
        assert not alive(ours), "closed by the peer: not alive"
    finally:
        ours.close()
    assert not alive(ours), "a socket we closed ourselves is not alive either"


def test_an_invalidation_after_a_peer_restart_reaches_the_new_peer() -> None:
    """End to end on loopback: peer B's listener restarts (new process, same address);
    node A's next invalidation must reach the new B, not vanish on the old connection."""
    import socket
    import threading

    from lab.oxnode import cluster as cluster_module
    from lab.oxnode.cluster import Cluster, ClusterSettings, Peer

    received: list[bytes] = []

    def listener(server: socket.socket, done: threading.Event) -> None:
        conn, _ = server.accept()
        with conn:
            data = conn.recv(4096)
            if data:
                received.append(data)
        done.set()

    first = socket.create_server(("127.0.0.1", 0))
    port = first.getsockname()[1]
    node = Cluster(ClusterSettings(node="oxgw01", static_members=("oxgw02",)), lambda cid: None)
    original_port = cluster_module.TCP_PORT
    cluster_module.TCP_PORT = port
    try:
        peer = Peer("oxgw02", "127.0.0.1")
        node.peers["oxgw02"] = peer
        peer.sock = socket.create_connection(("127.0.0.1", port))
        old_side, _ = first.accept()
        old_side.close()  # the peer restarts: its end of the connection is gone
        first.close()
        second = socket.create_server(("127.0.0.1", port))
        done = threading.Event()
        threading.Thread(target=listener, args=(second, done), daemon=True).start()
        node.invalidate(7)
        assert done.wait(5), "the restarted peer got a connection"
        assert received and b'"cid": 7' in received[0], f"and the event: {received}"
        second.close()
    finally:
        cluster_module.TCP_PORT = original_port
