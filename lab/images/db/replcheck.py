#!/usr/bin/env python3
"""replcheck: HTTP health of a GTID master/slave node for HAProxy, in the spirit of
clustercheck (port 9200, 200 or 503 with a body that says why).

GET /         this node can serve its current role: a replica when both replication
              threads run and it lags at most REPLCHECK_MAX_LAG seconds; a master (not a
              replica) when it answers and read_only is OFF. Roles are read from the
              server, not configured, so a promoted slave is judged as the master it is.
              A replica whose IO thread is reconnecting (its master died or is cut off)
              still serves while pt-heartbeat says its data is at most
              REPLCHECK_MAX_LAG old: the data is as fresh as that figure says, whatever
              the reason the heartbeats stopped, and taking the last copy out of the
              read pool while the master is down would stop reads too (ProxySQL decides
              alike: with mysql-monitor_replication_lag_use_percona_heartbeat the
              heartbeat's lag decides, and mysql-monitor_slave_lag_when_null keeps a
              replica whose lag is unknown online for 60 s by default).
GET /master   a writable master: answers, is not a replica, read_only OFF.
GET /replica  a healthy replica, as above.

Settings (environment, overridden per request by KEY=VALUE lines in
/etc/sysconfig/replcheck): REPLCHECK_MAX_LAG=10 (seconds),
CLUSTERCHECK_CONNECT_TIMEOUT=2, CLUSTERCHECK_USER / CLUSTERCHECK_PASSWORD.
Column names differ by flavour (Slave_IO_Running vs Replica_IO_Running,
Seconds_Behind_Master vs Seconds_Behind_Source); both are understood.

The lag is pt-heartbeat's wherever the master writes one (percona.heartbeat, kept by
lab-heartbeat): the slave's clock minus the newest heartbeat that reached it, as
`pt-heartbeat --check` computes. Seconds_Behind_Master is only the fallback: it
measures how far the SQL thread is behind the relay log the IO thread has received,
so a slave whose IO thread is stalled (a network cut the TCP connection has not noticed
yet, up to slave_net_timeout) reports 0 while it receives nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checkhttp import Answer, Connection, serve, settings_from


@dataclass(frozen=True)
class Options:
    max_lag_s: float = 10.0
    db: Connection = field(default_factory=Connection)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Options:
        return cls(max_lag_s=float(env.get("REPLCHECK_MAX_LAG", "10")), db=Connection.from_env(env))


@dataclass
class Verdict:
    available: bool
    role: str
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why an available replica is unusual

    def body(self) -> str:
        if self.available:
            return f"{self.role} is available" + "".join(f"; {n}" for n in self.notes) + ".\n"
        return f"{self.role} is not available: " + "; ".join(self.failures) + "\n"


# Slave_IO_Running while the IO thread retries its master (MySQL: Connecting; MariaDB
# also shows Preparing between attempts); "No" is a thread stopped by hand or by a fatal
# error (e.g. 1236, the master purged what it needs), which no retry will mend.
RECONNECTING = ("Connecting", "Preparing")


def _col(row: dict[str, str], *names: str) -> str:
    for name in names:
        if name in row:
            return str(row[name])
    return ""


def evaluate(
    replica: dict[str, str] | None,
    read_only: str | None,
    opts: Options,
    want: str = "",
    error: str = "",
    heartbeat_s: float | None = None,
) -> Verdict:
    """Decide from SHOW REPLICA/SLAVE STATUS (None: not a replica), @@read_only (None:
    the server did not answer) and pt-heartbeat's lag (None: no heartbeat table).
    `want` is "", "master" or "replica"."""
    if read_only is None:
        return Verdict(False, want or "node", [f"cannot query mysqld: {error or 'no answer'}"])
    role = "replica" if replica is not None else "master"
    failures: list[str] = []
    if want and want != role:
        failures.append(f"this node is a {role}, not a {want}")
    if role == "master":
        if read_only == "1" or read_only.upper() == "ON":
            failures.append("read_only is ON: not writable")
        return Verdict(not failures, role, failures)
    assert replica is not None
    io = _col(replica, "Slave_IO_Running", "Replica_IO_Running")
    sql = _col(replica, "Slave_SQL_Running", "Replica_SQL_Running")
    lag = _col(replica, "Seconds_Behind_Master", "Seconds_Behind_Source")
    notes: list[str] = []
    if io != "Yes":
        err = _col(replica, "Last_IO_Error")
        state = f"IO thread is {io or '?'}" + (f" ({err})" if err else "")
        if io in RECONNECTING and heartbeat_s is not None:
            notes.append(f"{state}: its data is {heartbeat_s:.1f}s old by pt-heartbeat")
        else:
            failures.append(state)
    if sql != "Yes":
        err = _col(replica, "Last_SQL_Error")
        failures.append(f"SQL thread is {sql or '?'}" + (f" ({err})" if err else ""))
    if heartbeat_s is not None:
        if heartbeat_s > opts.max_lag_s:
            failures.append(
                f"lagging {heartbeat_s:.1f}s behind the master by pt-heartbeat "
                f"(max {opts.max_lag_s:g}s; Seconds_Behind_Master says {lag or 'NULL'})"
            )
    elif lag in ("", "None", "NULL"):
        if io == "Yes" and sql == "Yes":
            failures.append("replication lag is unknown")
    elif float(lag) > opts.max_lag_s:
        failures.append(f"lagging {lag}s behind the master (max {opts.max_lag_s:g}s)")
    return Verdict(not failures, role, failures, notes)


# pt-heartbeat --check's arithmetic in SQL: this server's UTC clock minus the newest
# heartbeat (written with --utc); lab/roles/db/node.py HEARTBEAT_LAG_SQL is the same statement
HEARTBEAT_LAG_SQL = (
    "SELECT TIMESTAMPDIFF(MICROSECOND, MAX(ts), UTC_TIMESTAMP(6)) / 1000000 AS lag "
    "FROM percona.heartbeat WHERE server_id <> @@server_id"
)


def query(opts: Options) -> tuple[dict[str, str] | None, str | None, str, float | None]:
    def run(cur: Any) -> tuple[dict[str, str] | None, str, float | None]:
        try:
            cur.execute("SHOW REPLICA STATUS")
        except Exception:  # older dialect
            cur.execute("SHOW SLAVE STATUS")
        row = cur.fetchone()
        cur.execute("SELECT @@read_only AS ro")
        read_only = str(cur.fetchone()["ro"])
        replica = {k: "" if v is None else str(v) for k, v in row.items()} if row else None
        try:
            cur.execute(HEARTBEAT_LAG_SQL)
            lag = cur.fetchone()["lag"]
            heartbeat = None if lag is None else float(lag)
        except Exception:  # no heartbeat table (yet): Seconds_Behind_Master decides
            heartbeat = None
        return replica, read_only, heartbeat

    result, error = opts.db.query(run, dict_rows=True)
    return (*result[:2], "", result[2]) if result else (None, None, error, None)


def answer(path: str, opts: Options) -> Answer:
    want = {"": "", "/master": "master", "/replica": "replica"}.get(path)
    if want is None:
        return 404, "unknown path; try /, /master or /replica\n", {}
    replica, read_only, error, heartbeat = query(opts)
    verdict = evaluate(replica, read_only, opts, want, error, heartbeat)
    return (200 if verdict.available else 503), verdict.body(), {}


SETTINGS_FILE = "/etc/sysconfig/replcheck"


def main() -> None:
    serve("replcheck", lambda path: answer(path, Options.from_env(settings_from(SETTINGS_FILE))))


if __name__ == "__main__":
    main()
