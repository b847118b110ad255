"""The guide's "Master/Slave database setup" with GTIDs: replication, read-only slave,
a replication user that can do nothing else, crash-safe restarts, lag, the restored
pre-existing databases, and HAProxy's replication-aware read pool."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pymysql
import pytest
import requests

from lab.chaos.nemesis.faults import SERVER_PROCESS, isolated
from lab.infra.waiting import poll
from lab.plan.flavours import MARIADB, get_flavour
from lab.roles.db.gtid import (
    LEGACY_DATABASES,
    REPL_PASSWORD,
    REPL_USER,
    GtidNode,
    GtidPair,
    Lag,
    transactions_behind,
)
from lab.roles.db.node import NotReady
from lab.roles.dblb.front import Dblb
from lab.roles.system import Lab

pytestmark = [pytest.mark.gtid, pytest.mark.docker]


def replcheck(node: GtidNode, path: str = "/") -> requests.Response:
    return requests.get(f"http://{node.ip}:9200{path}", timeout=5)


def read_status(dblb: Dblb, server: str) -> str:
    return next(b.status for b in dblb.backends() if b.listener == Dblb.READ and b.server == server)


def reader_host(dblb: Dblb) -> str:
    with dblb.connect(write=False) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@hostname")
        return str(cur.fetchone()[0])


def assert_reads_fall_back_to_master(pair: GtidPair, dblb: Dblb, because: str) -> None:
    """The unhealthy slave's replcheck says why; HAProxy takes it out of the read pool
    within its check timing; reads through the read listener then reach the master."""
    resp = replcheck(pair.slave)
    assert resp.status_code == 503 and because in resp.text, resp.text
    poll(
        lambda: read_status(dblb, "dbslave") == "DOWN",
        timeout=10,
        what=f"HAProxy to take the slave ({because}) out of the read pool",
    )
    assert reader_host(dblb) == "dbmaster", "reads fall back to the master"


def test_row_written_on_master_is_read_on_slave_and_gtid_sets_match(
    gtid_pair: GtidPair, flavour: str
) -> None:
    db = f"gtid_{uuid.uuid4().hex[:8]}"
    with gtid_pair.master.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {db}")
        cur.execute(f"CREATE TABLE {db}.t (id INT PRIMARY KEY, v VARCHAR(20))")
        cur.execute(f"INSERT INTO {db}.t VALUES (1, 'from the master')")
    position = gtid_pair.wait_caught_up()
    with gtid_pair.slave.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT v FROM {db}.t WHERE id = 1")
        assert cur.fetchone() == ("from the master",), "the slave has the master's row"
    slave, master = gtid_pair.slave.gtid_position(), gtid_pair.master.gtid_position()
    # pt-heartbeat commits on the master twice a second, so the two positions are read
    # a moment apart: compare sets, not strings
    assert transactions_behind(position, slave) == 0, (
        f"after catch-up the slave has executed every GTID the master had: {position} vs {slave}"
    )
    assert transactions_behind(slave, master) == 0, (
        f"and none the master does not have: {slave} vs {master}"
    )
    status = gtid_pair.slave.replica_status()
    assert status is not None, "the slave is a replica"
    if get_flavour(flavour).dialect.family == MARIADB:
        assert status["Using_Gtid"] == "Slave_Pos", f"MariaDB replicates by GTID: {status}"
    else:
        assert status["Auto_Position"] == "1", f"Oracle replicates by auto-position: {status}"


def test_slave_is_read_only_for_the_application_user(gtid_pair: GtidPair) -> None:
    with gtid_pair.slave.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@read_only")
        assert cur.fetchone()[0] == 1
        with pytest.raises(pymysql.err.MySQLError) as exc:
            cur.execute("CREATE DATABASE must_not_exist_on_slave")
    assert exc.value.args[0] == 1290, f"the write is refused as read-only: {exc.value}"


def test_replication_user_can_replicate_and_nothing_else(gtid_pair: GtidPair) -> None:
    slave_ip = gtid_pair.slave.ip
    grants = gtid_pair.master.sql(f"SHOW GRANTS FOR '{REPL_USER}'@'{slave_ip}'")
    assert "GRANT REPLICATION SLAVE ON *.*" in grants.replace(
        "REPLICATION REPLICA", "REPLICATION SLAVE"
    )
    assert (
        len(grants.strip().splitlines()) == 1 and "ALL" not in grants and "SELECT" not in grants
    ), f"the replication user holds REPLICATION SLAVE and nothing else: {grants}"
    as_repl = f"lab-mysql -h {gtid_pair.master.name} -u {REPL_USER} -p{REPL_PASSWORD} -N -e"
    denied = gtid_pair.slave.exec(["sh", "-c", f"{as_repl} 'SELECT COUNT(*) FROM configdb.legacy'"])
    assert denied.exit_code != 0 and "denied" in denied.output, denied.output
    elsewhere = gtid_pair.master.exec(["sh", "-c", f"{as_repl} 'SELECT 1'"])
    assert elsewhere.exit_code != 0, "the replication user is for the slave's host only"


@contextmanager
def writing_sequence(pair: GtidPair, table: str) -> Iterator[list[int]]:
    """Insert 1, 2, 3, ... on the master until the block ends; yields acknowledged values."""
    acked: list[int] = []
    stop = threading.Event()
    with pair.master.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {table} (n INT NOT NULL, KEY (n))")  # no PK: dups visible

    def write() -> None:
        with pair.master.connect() as conn, conn.cursor() as cur:
            n = 0
            while not stop.is_set():
                n += 1
                cur.execute(f"INSERT INTO {table} VALUES (%s)", (n,))
                acked.append(n)
                time.sleep(0.01)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        yield acked
    finally:
        stop.set()
        writer.join()


@pytest.mark.durable  # a SIGKILLed slave's relay log must be crash-safe on real fsync
@pytest.mark.parametrize("how", ["clean", "sigkill"])
def test_slave_restart_resumes_by_gtid_without_gap_or_duplicate(
    healthy_gtid_lab: Lab, how: str
) -> None:
    pair = healthy_gtid_lab.gtid
    assert pair
    slave = pair.slave
    assert slave.sql_value("SELECT @@relay_log_recovery") == "1", "crash-safe relay log"
    table = f"oxlab_ready.seq_{how}_{uuid.uuid4().hex[:6]}"
    pair.master.sql("CREATE DATABASE IF NOT EXISTS oxlab_ready")
    with writing_sequence(pair, table) as acked:
        poll(lambda: len(acked) > 20, timeout=10, what="the writer to get going")
        if how == "clean":
            slave.sql("SHUTDOWN")  # the guide's `service mysql restart`, by SQL
        else:
            slave.exec(["pkill", "-KILL", "-x", SERVER_PROCESS])
        poll(
            lambda: slave.sql_value("SELECT 1") == "1",
            timeout=60,
            what="the slave's server to be back",
            retry_on=(Exception,),
        )
        poll(lambda: len(acked) > 60, timeout=10, what="writes to continue meanwhile")
    pair.wait_caught_up()
    count, distinct, top = slave.sql_value(
        f"SELECT COUNT(*), COUNT(DISTINCT n), MAX(n) FROM {table}"
    ).split()
    assert int(top) == acked[-1], f"no missing transaction: slave max {top}, master {acked[-1]}"
    assert int(count) == int(distinct) == len(acked), (
        f"no gap and no duplicate after a {how} restart: {count} rows, {distinct} distinct, "
        f"{len(acked)} acknowledged"
    )


def test_lag_is_measured_and_a_lagging_slave_leaves_the_read_pool(healthy_gtid_lab: Lab) -> None:
    pair, dblb = healthy_gtid_lab.gtid, healthy_gtid_lab.dblb
    assert pair and dblb
    dialect = pair.slave.dialect
    assert reader_host(dblb) == "dbslave", "reads go to the slave while it is healthy"

    def set_delay(seconds: int) -> None:
        pair.slave.sql(
            f"{dialect.stop_replica}; {dialect.delay_sql.format(seconds=seconds)}; "
            f"{dialect.start_replica}"
        )

    set_delay(20)
    try:
        pair.master.sql(
            "CREATE DATABASE IF NOT EXISTS oxlab_ready; "
            "CREATE TABLE IF NOT EXISTS oxlab_ready.lag (id INT)"
        )
        pair.master.sql("INSERT INTO oxlab_ready.lag VALUES (1)")

        def lagging() -> Lag | None:
            lag = pair.lag()
            return lag if lag.seconds is not None and lag.seconds > 4 else None

        lag = poll(lagging, timeout=20, what="the delayed slave to lag more than the 3 s threshold")
        print(f"measured lag: {lag.seconds} s, {lag.transactions} transaction(s) behind")
        assert lag.transactions >= 1, "the delayed insert is counted as a transaction behind"
        assert_reads_fall_back_to_master(pair, dblb, because="lagging")
    finally:
        set_delay(0)
    poll(
        lambda: read_status(dblb, "dbslave") == "UP",
        timeout=60,
        what="the slave to rejoin the read pool once caught up",
    )


def test_a_stalled_io_thread_is_lag_by_pt_heartbeat_not_by_seconds_behind_master(
    healthy_gtid_lab: Lab,
) -> None:
    """The slave is cut off from the master (packets dropped, no reset): its IO thread
    still says Yes and Seconds_Behind_Master 0, since the SQL thread has applied all it
    received; pt-heartbeat's lag grows. replcheck believes the heartbeat, so HAProxy
    stops reading from a slave that receives nothing."""
    pair, dblb = healthy_gtid_lab.gtid, healthy_gtid_lab.dblb
    assert pair and dblb
    pair.wait_caught_up()
    assert poll(
        lambda: (lag := pair.lag()).heartbeat_s is not None and lag.heartbeat_s < 2.0,
        timeout=30,
        what="pt-heartbeat's lag on the slave to be fresh",
        retry_on=(NotReady,),
    )
    with isolated(pair.slave, [pair.master]):

        def disagree() -> Lag | None:
            lag = pair.lag()
            beat = lag.heartbeat_s or 0.0
            return lag if beat > 4.0 and lag.seconds == 0 else None

        lag = poll(disagree, timeout=30, what="pt-heartbeat and Seconds_Behind_Master to disagree")
        print(f"stalled IO thread: {lag.describe()}")
        status = pair.slave.replica_status() or {}
        io = status.get("Slave_IO_Running", status.get("Replica_IO_Running"))
        assert io == "Yes", f"the IO thread does not notice the cut yet: {io}"
        assert_reads_fall_back_to_master(pair, dblb, because="by pt-heartbeat")
        assert "Seconds_Behind_Master says 0" in replcheck(pair.slave).text
    poll(
        lambda: read_status(dblb, "dbslave") == "UP",
        timeout=90,
        what="the slave to receive heartbeats again and rejoin the read pool",
    )


def test_stopped_sql_thread_takes_slave_out_of_reads(healthy_gtid_lab: Lab) -> None:
    pair, dblb = healthy_gtid_lab.gtid, healthy_gtid_lab.dblb
    assert pair and dblb
    pair.slave.sql(pair.slave.dialect.stop_sql_thread)
    try:
        assert_reads_fall_back_to_master(pair, dblb, because="SQL thread is No")
        assert replcheck(pair.master, "/master").status_code == 200
    finally:
        pair.slave.sql(pair.slave.dialect.start_sql_thread)
    poll(
        lambda: read_status(dblb, "dbslave") == "UP",
        timeout=30,
        what="the slave to return to the read pool",
    )


def test_restored_preexisting_databases_are_on_both_servers(gtid_pair: GtidPair) -> None:
    """The guide's Preparations: `mysqldump --databases configdb oxdb_N`, restored into the
    new master before the slave's initial dump, so both must have it all."""
    for node in gtid_pair.nodes:
        databases = set(node.sql("SHOW DATABASES").split())
        missing = set(LEGACY_DATABASES) - databases
        assert not missing, f"{node.name} lacks restored databases {missing}"
        for db in LEGACY_DATABASES:
            assert node.sql_value(f"SELECT COUNT(*) FROM {db}.legacy") == "2", f"{node.name}: {db}"
