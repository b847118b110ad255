"""Flavour dialects, GTID config rendering, lag arithmetic and replcheck's decisions:
the parts of the GTID procedure that must be right before any server starts."""

from pathlib import Path

import pytest

import lab
from lab.plan.failover import get_profile
from lab.plan.flavours import FLAVOURS, MARIADB_DIALECT, ORACLE_DIALECT, Dialect, get_flavour
from lab.plan.topology import LabRequest
from lab.roles.db.gtid import transactions_behind
from lab.roles.db.gtid_config import render_gtid_cnf, render_gtid_host_cnf, render_read_only_cnf
from lab.roles.db.node import HEARTBEAT_LAG_SQL
from lab.roles.dblb.haproxy_config import READ_LISTENER, WRITE_LISTENER, render_gtid_haproxy_cfg
from tests.unit.image_scripts import load_image_script

rc = load_image_script("replcheck")


def test_every_flavour_says_where_it_comes_from_and_what_it_runs() -> None:
    for flavour in FLAVOURS.values():
        assert flavour.topologies, flavour.name
        assert "gtid" in flavour.topologies, "GTID replication runs on every flavour"
        assert flavour.from_registry == (not flavour.debian_suite)
    assert get_flavour("mariadb-11.8").debian_suite == "trixie"
    assert "Check-Valid-Until=false" in get_flavour("mysql-9").apt_options
    assert get_flavour("mysql-8.4").from_registry and get_flavour("pxc-8.0").from_registry
    assert "galera" not in get_flavour("mysql-9").topologies


def test_oracle_dialect_uses_the_84_words() -> None:
    oracle = get_flavour("mysql-9").dialect
    sql = oracle.change_source_sql("dbmaster", "repl", "pw")
    assert sql.startswith("CHANGE REPLICATION SOURCE TO") and "SOURCE_AUTO_POSITION=1" in sql
    assert "MASTER_LOG_FILE" not in sql and "MASTER_LOG_POS" not in sql, "GTID, not positions"
    assert (oracle.start_replica, oracle.show_replica_status, oracle.reset_binlogs) == (
        "START REPLICA",
        "SHOW REPLICA STATUS",
        "RESET BINARY LOGS AND GTIDS",
    )
    assert "--set-gtid-purged=ON" in oracle.dump_flags
    assert oracle.init_datadir[:2] == ("mysqld", "--initialize-insecure")


def test_mariadb_dialect_follows_the_guide() -> None:
    maria = get_flavour("mariadb-10.11").dialect
    sql = maria.change_source_sql("dbmaster", "repl", "pw")
    assert sql.startswith("CHANGE MASTER TO MASTER_HOST='dbmaster'")
    assert "MASTER_USE_GTID=slave_pos" in sql
    assert {"--master-data", "--gtid"} <= set(maria.dump_flags)
    assert maria.init_datadir[0] == "mariadb-install-db"


def test_gtid_cnf_per_family() -> None:
    oracle = render_gtid_cnf(get_flavour("mysql-9").dialect)
    assert "gtid_mode = ON" in oracle and "enforce_gtid_consistency = ON" in oracle
    maria = render_gtid_cnf(get_flavour("mariadb-10.11").dialect)
    assert "log_slave_updates = ON" in maria and "gtid_mode" not in maria
    for cnf in (oracle, maria):
        assert "log_bin" in cnf and "relay_log_recovery = ON" in cnf
    assert "server_id = 2" in render_gtid_host_cnf(2)
    assert "super_read_only = ON" in render_read_only_cnf(get_flavour("mysql-9").dialect)


@pytest.mark.parametrize(
    ("master", "slave", "behind"),
    [
        ("0-1-41", "0-1-41", 0),
        ("0-1-45", "0-1-41", 4),
        ("0-1-45,1-2-3", "0-1-45", 3),
        ("u1:1-40", "u1:1-40", 0),
        ("u1:1-40", "u1:1-37", 3),
        ("u1:1-40:45-50,u2:1-2", "u1:1-40", 8),
        ("", "", 0),
    ],
)
def test_transactions_behind(master: str, slave: str, behind: int) -> None:
    assert transactions_behind(master, slave) == behind


def test_gtid_haproxy_sends_writes_to_the_master_and_reads_to_the_slave_first() -> None:
    cfg = render_gtid_haproxy_cfg("dbmaster", "dbslave", get_profile("ox"))
    write = cfg.split(f"listen {WRITE_LISTENER}\n")[1].split("\n\n")[0]
    read = cfg.split(f"listen {READ_LISTENER}\n")[1].split("\n\n")[0]
    assert "GET /master" in write and "server dbmaster" in write and "dbslave" not in write
    assert read.index("server dbslave") < read.index("server dbmaster")
    assert "server dbmaster dbmaster:3306" in read and read.rstrip().endswith("backup"), (
        "reads fall back to the master"
    )


REPLICA_OK = {"Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes", "Seconds_Behind_Master": "0"}


def verdict(replica, read_only="0", want="", max_lag=10.0):
    return rc.evaluate(replica, read_only, rc.Options(max_lag_s=max_lag), want)


def test_replcheck_judges_each_role() -> None:
    assert verdict(REPLICA_OK).available
    assert verdict(None).available and verdict(None).role == "master"
    assert not verdict(None, read_only="1").available, "a read-only master takes no writes"
    assert not verdict(REPLICA_OK, want="master").available, "a replica is not the master"


def test_replcheck_names_what_is_wrong_with_a_replica() -> None:
    stopped = {
        **REPLICA_OK,
        "Slave_SQL_Running": "No",
        "Last_SQL_Error": "dup key",
        "Seconds_Behind_Master": "",
    }
    body = verdict(stopped).body()
    assert "SQL thread is No (dup key)" in body
    lagging = {**REPLICA_OK, "Seconds_Behind_Master": "42"}
    assert "lagging 42s behind the master (max 10s)" in verdict(lagging).body()
    oracle = {
        "Replica_IO_Running": "Connecting",
        "Replica_SQL_Running": "Yes",
        "Seconds_Behind_Source": "0",
    }
    assert "IO thread is Connecting" in verdict(oracle).body(), "Oracle's column names"
    unreachable = rc.evaluate(None, None, rc.Options(), "", "timed out")
    assert not unreachable.available and "cannot query mysqld: timed out" in unreachable.body()


def test_topology_flavour_mismatch_is_reported() -> None:
    assert LabRequest(topology="galera", flavour="mysql-9").problems() == [
        "flavour mysql-9 cannot run topology galera (it runs: gtid, guide)"
    ]


def test_nightly_workflow_covers_every_flavour_and_topology() -> None:
    """The workflow's matrix is written out for readers; this keeps it from drifting."""
    import yaml

    from lab.plan.topology import TOPOLOGIES

    text = (Path(lab.__file__).parent.parent / ".github/workflows/nightly.yml").read_text()
    jobs = yaml.safe_load(text)["jobs"]
    matrix = jobs["lab"]["strategy"]["matrix"]
    assert set(matrix["flavour"]) == set(FLAVOURS) and set(matrix["topology"]) == set(TOPOLOGIES)
    excluded = {(e["flavour"], e["topology"]) for e in matrix["exclude"]}
    for f in FLAVOURS.values():
        for t in TOPOLOGIES:
            assert ((f.name, t) in excluded) == (t not in f.topologies), f"{f.name} x {t}"
    built = {f.name for f in FLAVOURS.values() if not f.from_registry}
    assert set(jobs["images"]["strategy"]["matrix"]["flavour"]) == built, (
        "the images job saves an archive for every flavour built from Debian's packages"
    )


def test_replcheck_takes_pt_heartbeats_lag_over_seconds_behind_master() -> None:
    """A stalled IO thread: Seconds_Behind_Master says 0, the heartbeat says 30 s.
    replcheck believes the heartbeat (and says what the server claimed)."""
    stalled = rc.evaluate(REPLICA_OK, "0", rc.Options(max_lag_s=10), "", "", heartbeat_s=30.0)
    assert not stalled.available
    assert "lagging 30.0s behind the master by pt-heartbeat" in stalled.body()
    assert "Seconds_Behind_Master says 0" in stalled.body()
    fresh = {**REPLICA_OK, "Seconds_Behind_Master": "42"}
    assert rc.evaluate(fresh, "0", rc.Options(max_lag_s=10), heartbeat_s=0.4).available, (
        "a fresh heartbeat wins over the server's estimate"
    )
    assert rc.HEARTBEAT_LAG_SQL == HEARTBEAT_LAG_SQL, "replcheck and lab status agree"


def test_replcheck_refuses_a_replica_whose_lag_is_unknown() -> None:
    """Seconds_Behind_Master is NULL while threads run only in odd states (a relay log
    not yet read): HAProxy must not read from a replica whose lag nobody knows."""
    for empty in ("", "None", "NULL"):
        unknown = verdict({**REPLICA_OK, "Seconds_Behind_Master": empty})
        assert not unknown.available and "replication lag is unknown" in unknown.body(), empty


@pytest.mark.parametrize(
    ("dialect", "statement", "expected"),
    [
        (MARIADB_DIALECT, "delay_sql", "CHANGE MASTER TO MASTER_DELAY={seconds}"),
        (MARIADB_DIALECT, "stop_sql_thread", "STOP SLAVE SQL_THREAD"),
        (MARIADB_DIALECT, "start_sql_thread", "START SLAVE SQL_THREAD"),
        (MARIADB_DIALECT, "stop_io_thread", "STOP SLAVE IO_THREAD"),
        (MARIADB_DIALECT, "reset_replica_all", "RESET SLAVE ALL"),
        (ORACLE_DIALECT, "delay_sql", "CHANGE REPLICATION SOURCE TO SOURCE_DELAY={seconds}"),
        (ORACLE_DIALECT, "stop_sql_thread", "STOP REPLICA SQL_THREAD"),
        (ORACLE_DIALECT, "start_sql_thread", "START REPLICA SQL_THREAD"),
        (ORACLE_DIALECT, "stop_io_thread", "STOP REPLICA IO_THREAD"),
        (ORACLE_DIALECT, "reset_replica_all", "RESET REPLICA ALL"),
    ],
)
def test_dialect_statements_are_each_servers_own(
    dialect: Dialect, statement: str, expected: str
) -> None:
    """MySQL 8.4+ removed MASTER_DELAY, STOP SLAVE and RESET SLAVE; MariaDB never had
    their REPLICA/SOURCE forms in 10.11's CHANGE MASTER (lagging-slave, promotion and the
    lag tests depend on these)."""
    assert getattr(dialect, statement) == expected


def test_replication_monitor_reads_the_slave_only_once_it_has_the_nodes_writes() -> None:
    from lab.oxnode.replication import slave_is_current

    assert slave_is_current(None, None), "no write remembered: the slave will do"
    assert slave_is_current(7, 7) and slave_is_current(7, 9), "the slave has seen it"
    assert not slave_is_current(7, 6), "the slave lags behind this node's last write"
    assert not slave_is_current(7, None), "the slave cannot say: read the master"


def test_replica_status_reads_the_same_whatever_the_server_names_its_fields() -> None:
    from lab.roles.db.gtid import parse_replica_status

    mysql_84 = (
        "*************************** 1. row ***************************\n"
        "             Replica_IO_State: Waiting for source to send event\n"
        "                  Source_Host: dbmaster\n"
        "                  Source_User: repl\n"
        "           Replica_IO_Running: Yes\n"
        "          Replica_SQL_Running: Yes\n"
        "        Seconds_Behind_Source: 0\n"
    )
    status = parse_replica_status(mysql_84)
    assert status is not None
    assert (status["Slave_IO_Running"], status["Master_User"], status["Seconds_Behind_Master"]) == (
        "Yes",
        "repl",
        "0",
    ), status
    mariadb = "Slave_IO_Running: No\nLast_IO_Error: error connecting to master 'repl@x:3306'\n"
    assert parse_replica_status(mariadb) == {
        "Slave_IO_Running": "No",
        "Last_IO_Error": "error connecting to master 'repl@x:3306'",
    }, "a value with colons stays whole"
    assert parse_replica_status("") is None, "not a replica"


@pytest.mark.parametrize(
    ("lag", "available"), [("10", True), ("10.0", True), ("11", False), ("0", True)]
)
def test_replcheck_lag_at_the_limit_is_healthy_just_over_is_not(lag: str, available: bool) -> None:
    assert verdict({**REPLICA_OK, "Seconds_Behind_Master": lag}).available == available, lag


@pytest.mark.parametrize(("lag", "available"), [(10.0, True), (10.001, False), (0.0, True)])
def test_replcheck_heartbeat_lag_at_the_limit(lag: float, available: bool) -> None:
    v = rc.evaluate(REPLICA_OK, "0", rc.Options(max_lag_s=10), heartbeat_s=lag)
    assert v.available == available, f"pt-heartbeat lag {lag}: {v.body()}"


MASTER_GONE = {
    "Slave_IO_Running": "Connecting",
    "Slave_SQL_Running": "Yes",
    "Seconds_Behind_Master": "",
    "Last_IO_Error": "error reconnecting to master 'repl@dbmaster:3306'",
}


@pytest.mark.parametrize(
    ("io", "heartbeat", "available"),
    [
        ("Connecting", 0.4, True),  # the master just died: the data is 0.4 s old
        ("Preparing", 0.4, True),
        ("Connecting", 10.0, True),  # at the limit
        ("Connecting", 10.001, False),  # just over: too stale to serve
        ("Connecting", None, False),  # no heartbeat: nothing says how old the data is
        ("No", 0.4, False),  # stopped by hand or by a fatal error: no retry mends it
        ("connecting", 0.4, False),  # the servers spell it so; anything else is unknown
    ],
)
def test_replcheck_serves_reads_while_the_master_is_gone_as_long_as_the_heartbeat_is_fresh(
    io: str, heartbeat: float | None, available: bool
) -> None:
    """The master is killed: the slave's IO thread retries (Connecting) and holds the
    last copy of the data. Taking it out of the read pool would stop reads until a
    promotion too; pt-heartbeat says how old its data is, whatever stopped the beats."""
    v = rc.evaluate(
        {**MASTER_GONE, "Slave_IO_Running": io}, "1", rc.Options(), heartbeat_s=heartbeat
    )
    assert v.available == available, f"IO {io}, heartbeat {heartbeat}: {v.body()}"
    if available:
        assert v.body() == (
            f"replica is available; IO thread is {io} (error reconnecting to master "
            f"'repl@dbmaster:3306'): its data is {heartbeat:.1f}s old by pt-heartbeat.\n"
        ), "the answer says why an available replica has no master"
    else:
        assert v.body().startswith("replica is not available: "), v.body()


def test_replcheck_stopped_threads_are_not_blamed_on_an_unknown_lag() -> None:
    stopped = {"Slave_IO_Running": "No", "Slave_SQL_Running": "Yes", "Seconds_Behind_Master": ""}
    v = verdict(stopped)
    assert not v.available and v.failures == ["IO thread is No"], v.failures


@pytest.mark.parametrize(
    ("read_only", "writable"),
    [("0", True), ("OFF", True), ("1", False), ("ON", False), ("on", False)],
)
def test_replcheck_a_master_is_writable_only_with_read_only_off(
    read_only: str, writable: bool
) -> None:
    assert verdict(None, read_only=read_only, want="master").available == writable, read_only


def test_replcheck_paths_ask_for_a_role() -> None:
    assert not verdict(None, want="replica").available, "/replica on the master: 503"
    assert verdict(REPLICA_OK, want="replica").available
    assert "not a replica" in verdict(None, want="replica").body()
