"""The guide's database checks: the wsrep status table on every Galera node (the guide
shows `SHOW STATUS LIKE 'wsrep%'` and expects Synced), clustercheck on 9200 agreeing
with the node's state, GTID replication (threads, lag, GTID sets, read_only on the
slave, the repl user's grant), and the same data on every database node."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from lab.infra.errors import LabError
from lab.infra.hosts.remote import Host
from lab.roles.db.consistency import differences, node_checksums
from lab.roles.db.gtid import parse_replica_status
from lab.roles.db.node import connect_as_ox
from lab.roles.health import wsrep_problems
from lab.verify.result import Result, guarded, passed
from lab.verify.target import Target

CLUSTERCHECK_PORT = 9200
MAX_LAG_S = 10  # the lab's replcheck takes a slave lagging more out of reads
SCRATCH_ROWS = 100
CHECKSUM_READS = 3


def wsrep_status(host: Host) -> dict[str, str]:
    out = host.sql("SHOW GLOBAL STATUS LIKE 'wsrep\\_%'")
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)


def galera(target: Target) -> list[Result]:
    """Every node Synced, Primary, ready and connected, in one cluster of the
    inventory's size (the same cluster state UUID everywhere)."""
    nodes = target.role("galera")
    with ThreadPoolExecutor(max_workers=len(nodes) or 1) as pool:
        statuses = list(pool.map(_status_or_error, nodes))
    uuids = {s.get("wsrep_cluster_state_uuid") for s in statuses if isinstance(s, dict)}
    results = []
    for host, status in zip(nodes, statuses, strict=True):
        if isinstance(status, str):
            results.append(Result("galera", host.name, "wsrep status", False, status))
            continue
        results.append(judge_wsrep(host.name, status, len(nodes), len(uuids)))
    return results


def judge_wsrep(name: str, status: dict[str, str], expected_size: int, clusters: int) -> Result:
    """The guide's expectations of one node's wsrep status variables (roles/health.py:
    the same judgment the lab makes of its own containers)."""
    evidence = (
        f"{status.get('wsrep_local_state_comment', '?')}, "
        f"{status.get('wsrep_cluster_status', '?')}, "
        f"size {status.get('wsrep_cluster_size', '?')}, ready {status.get('wsrep_ready', '?')}, "
        f"connected {status.get('wsrep_connected', '?')}, "
        f"last committed {status.get('wsrep_last_committed', '?')}"
    )
    problems = wsrep_problems(status, expected_size, clusters)
    return passed("galera", name, "wsrep status", problems, evidence)


def _status_or_error(host: Host) -> dict[str, str] | str:
    try:
        return wsrep_status(host)
    except LabError as exc:
        return str(exc)


def clustercheck(target: Target) -> list[Result]:
    """clustercheck answers on 9200 and agrees with the node: 200 exactly when the node is
    Synced (a check that passes a Donor or a non-Primary node sends OX to it)."""
    return [
        guarded("galera", h.name, "clustercheck :9200", _clustercheck, h)
        for h in target.role("galera")
    ]


def _clustercheck(host: Host) -> Result:
    status = wsrep_status(host)
    synced = (
        status.get("wsrep_local_state_comment") == "Synced"
        and status.get("wsrep_cluster_status") == "Primary"
    )
    try:
        resp = requests.get(f"http://{host.address}:{CLUSTERCHECK_PORT}/", timeout=5)
    except requests.RequestException as exc:
        return Result("galera", host.name, "clustercheck :9200", False, f"no answer: {exc}")
    body = resp.text.strip().replace("\r\n", " ")[:60]
    agrees = (resp.status_code == 200) == synced
    state = status.get("wsrep_local_state_comment", "?")
    evidence = f"HTTP {resp.status_code} {body!r} while the node is {state}"
    if not agrees:
        evidence += "; HAProxy would " + ("skip a healthy node" if synced else "send OX to it")
    return Result("galera", host.name, "clustercheck :9200", agrees, evidence)


# -- GTID ----------------------------------------------------------------------------------


def replica_status(host: Host) -> dict[str, str] | None:
    """SHOW REPLICA STATUS (MariaDB 10.5+ and MySQL 8.0.22+ both accept it), parsed as
    the lab parses it on its own containers."""
    out = host.run("mysql -E -e 'SHOW REPLICA STATUS'", sudo=True)
    if out.exit_code != 0:
        raise LabError(f"{host}: mysql: {out.output.strip()[-200:]}")
    return parse_replica_status(out.output)


def gtid(target: Target) -> list[Result]:
    results = []
    for master in target.role("dbmaster"):
        results.append(guarded("gtid", master.name, "writable master", _master, master))
    for slave in target.role("dbslave"):
        results.append(guarded("gtid", slave.name, "replication", _slave, slave))
        results.append(guarded("gtid", slave.name, "read_only", _read_only, slave))
        results.append(guarded("gtid", slave.name, "GTID set", _gtid_sets, target, slave))
        results.append(guarded("gtid", slave.name, "repl user", _repl_grant, target, slave))
    return results


def _master(host: Host) -> Result:
    value = host.sql("SELECT @@global.read_only").strip()
    return passed(
        "gtid",
        host.name,
        "writable master",
        [] if value == "0" else ["read_only is ON"],
        f"read_only={value}",
    )


def _slave(host: Host) -> Result:
    status = replica_status(host)
    if status is None:
        return Result("gtid", host.name, "replication", False, "not a replica (no replica status)")
    io, sql = status.get("Slave_IO_Running"), status.get("Slave_SQL_Running")
    lag = status.get("Seconds_Behind_Master", "NULL")
    problems = []
    if io != "Yes":
        problems.append(f"IO thread {io}: {status.get('Last_IO_Error', '')}".rstrip(": "))
    if sql != "Yes":
        problems.append(f"SQL thread {sql}: {status.get('Last_SQL_Error', '')}".rstrip(": "))
    if not lag.isdigit() or int(lag) > MAX_LAG_S:
        problems.append(f"lag {lag} s (more than {MAX_LAG_S} s, or unknown)")
    evidence = (
        f"from {status.get('Master_Host')} as {status.get('Master_User')}, IO {io}, SQL {sql}, "
        f"lag {lag} s"
    )
    return passed("gtid", host.name, "replication", problems, evidence)


def _read_only(host: Host) -> Result:
    value = host.sql("SELECT @@global.read_only").strip()
    problems = [] if value == "1" else ["read_only is OFF: OX's writes could land on the slave"]
    return passed("gtid", host.name, "read_only", problems, f"read_only={value}")


def executed_gtids(host: Host) -> tuple[str, str]:
    """(dialect, the GTIDs the server has applied): MariaDB's gtid_current_pos, MySQL's
    gtid_executed."""
    version = host.sql("SELECT VERSION()").strip()
    if "MariaDB" in version:
        return "mariadb", host.sql("SELECT @@global.gtid_current_pos").strip()
    return "mysql", host.sql("SELECT @@global.gtid_executed").strip().replace("\\n", "")


def _gtid_sets(target: Target, slave: Host) -> Result:
    """The slave has applied everything the master had a moment ago (the master's set is
    read first; the slave gets a few seconds to catch up with it)."""
    master = target.role("dbmaster")[0]
    dialect, master_set = executed_gtids(master)
    deadline = time.monotonic() + 5
    while True:
        _, slave_set = executed_gtids(slave)
        contained = gtid_contains(dialect, slave, slave_set, master_set)
        if contained or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    evidence = f"master {master_set or '(empty)'}; slave {slave_set or '(empty)'}"
    problems = [] if contained else ["the slave has not applied the master's transactions"]
    return passed("gtid", slave.name, "GTID set", problems, evidence)


def gtid_contains(dialect: str, slave: Host, slave_set: str, master_set: str) -> bool:
    if dialect == "mysql":
        quoted = master_set.replace("'", "")
        answer = slave.sql(f"SELECT GTID_SUBSET('{quoted}', @@global.gtid_executed)").strip()
        return answer == "1"
    return mariadb_gtid_contains(slave_set, master_set)


def mariadb_gtid_contains(have: str, want: str) -> bool:
    """MariaDB GTID positions (domain-server-seq, one per domain): `have` is at or past
    `want` in every domain of `want`."""

    def positions(text: str) -> dict[str, int]:
        found = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            domain, _, seq = part.split("-")
            found[domain] = int(seq)
        return found

    mine = positions(have)
    return all(mine.get(d, -1) >= seq for d, seq in positions(want).items())


def _repl_grant(target: Target, slave: Host) -> Result:
    status = replica_status(slave) or {}
    user = status.get("Master_User", "")
    master = target.role("dbmaster")[0]
    accounts = master.sql(
        f"SELECT CONCAT(QUOTE(User), '@', QUOTE(Host)) FROM mysql.user WHERE User = '{user}'"
    )
    grants = []
    for account in accounts.split():
        grants += master.sql(f"SHOW GRANTS FOR {account}").splitlines()
    ok = any("REPLICATION SLAVE" in g or "REPLICATION REPLICA" in g for g in grants)
    problems = [] if ok else [f"no REPLICATION SLAVE grant for {user!r} on {master.name}"]
    shown = "; ".join(g.split(" IDENTIFIED")[0] for g in grants) or "no such user"
    return passed("gtid", slave.name, "repl user", problems, shown)


# -- data consistency ----------------------------------------------------------------------


def consistency(target: Target) -> list[Result]:
    """A scratch schema written through the write path OX uses arrives identical on every
    database node, and the existing tables hold the same rows everywhere (the chunk
    checksums pt-table-checksum computes, per node). The scratch schema is dropped."""
    return [
        guarded("consistency", "all databases", "scratch schema", _scratch, target),
        guarded("consistency", "all databases", "table checksums", _checksums, target),
    ]


def write_endpoint(target: Target) -> tuple[str, int, str]:
    """Where OX writes: the dblb write listener (Galera) or the master (GTID)."""
    if target.layout == "galera":
        dblb = target.role("dblb")[0]
        return dblb.address, 3306, f"{dblb.name}:3306"
    master = target.role("dbmaster")[0]
    return master.address, 3306, f"{master.name}:3306"


def _scratch(target: Target) -> Result:
    host, port, where = write_endpoint(target)
    creds = target.credentials
    schema = f"oxlab_verify_{uuid.uuid4().hex[:8]}"
    conn = connect_as_ox(host, port, timeout=30, login=(creds.db_user, creds.db_password))
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{schema}`")
            try:
                cur.execute(f"CREATE TABLE `{schema}`.t (id INT PRIMARY KEY, v VARCHAR(40))")
                cur.executemany(
                    f"INSERT INTO `{schema}`.t VALUES (%s, %s)",
                    [(i, uuid.uuid4().hex) for i in range(SCRATCH_ROWS)],
                )
                probe = f"SELECT COUNT(*), BIT_XOR(CRC32(v)) FROM `{schema}`.t"
                cur.execute(probe)
                written = "\t".join(str(v) for v in cur.fetchone() or ())
                started = time.monotonic()
                lagging = _until_everywhere(target.databases, probe, written)
            finally:
                cur.execute(f"DROP DATABASE IF EXISTS `{schema}`")
    finally:
        conn.close()
    took = time.monotonic() - started
    problems = [f"{name} did not show the rows within 10 s" for name in lagging]
    evidence = (
        f"{SCRATCH_ROWS} rows written through {where}, identical on "
        f"{', '.join(h.name for h in target.databases)} after {took:.1f} s; schema dropped"
    )
    return passed("consistency", "all databases", "scratch schema", problems, evidence)


def _until_everywhere(hosts: list[Host], probe: str, expected: str) -> list[str]:
    """Names of the hosts whose answer to `probe` is still not `expected` after 10 s."""
    deadline = time.monotonic() + 10
    waiting = list(hosts)
    while waiting and time.monotonic() < deadline:
        waiting = [h for h in waiting if _answer(h, probe) != expected]
        if waiting:
            time.sleep(0.3)
    return [h.name for h in waiting]


def _answer(host: Host, probe: str) -> str:
    try:
        return host.sql(probe).strip()
    except LabError:
        return ""


def _checksums(target: Target) -> Result:
    """Every node's chunk checksums, compared; rows being written while the nodes are
    read one after the other can differ for a moment, so a difference must persist
    over CHECKSUM_READS reads to fail (OX writes sessions all the time)."""
    galera = target.layout == "galera"
    hosts = target.databases
    found: list[str] = []
    chunks = 0
    for attempt in range(CHECKSUM_READS):
        if attempt:
            time.sleep(1.0)
        with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
            sums = list(pool.map(lambda h: node_checksums(h, galera), hosts))  # type: ignore[arg-type]
        per_node = {h.name: s for h, s in zip(hosts, sums, strict=True)}
        found = differences(per_node)
        chunks = len(sums[0]) if sums else 0
        if not found:
            break
    names = ", ".join(h.name for h in hosts)
    evidence = f"{chunks} table chunks compared on {names}"
    if found:
        evidence += f", different in {CHECKSUM_READS} reads 1 s apart"
    elif attempt:
        evidence += f", equal on read {attempt + 1} (rows were being written)"
    return passed("consistency", "all databases", "table checksums", found[:5], evidence)
