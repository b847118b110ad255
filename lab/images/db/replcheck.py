#!/usr/bin/env python3
"""replcheck: HTTP health of a GTID master/slave node for HAProxy, in the spirit of
clustercheck (port 9200, 200 or 503 with a body that says why).

GET /         this node can serve its current role: a replica when both replication
              threads run and it lags at most REPLCHECK_MAX_LAG seconds; a master (not a
              replica) when it answers and read_only is OFF. Roles are read from the
              server, not configured, so a promoted slave is judged as the master it is.
GET /master   a writable master: answers, is not a replica, read_only OFF.
GET /replica  a healthy replica, as above.

Settings (environment): REPLCHECK_MAX_LAG=10 (seconds),
CLUSTERCHECK_CONNECT_TIMEOUT=2, CLUSTERCHECK_USER / CLUSTERCHECK_PASSWORD.
Column names differ by flavour (Slave_IO_Running vs Replica_IO_Running,
Seconds_Behind_Master vs Seconds_Behind_Source); both are understood.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Options:
    max_lag_s: float = 10.0
    connect_timeout: float = 2.0
    socket: str = "/run/mysqld/mysqld.sock"
    user: str = "clustercheckuser"
    password: str = "clustercheckpassword!"
    port: int = 9200

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Options:
        return cls(
            max_lag_s=float(env.get("REPLCHECK_MAX_LAG", "10")),
            connect_timeout=float(env.get("CLUSTERCHECK_CONNECT_TIMEOUT", "2")),
            user=env.get("CLUSTERCHECK_USER", cls.user),
            password=env.get("CLUSTERCHECK_PASSWORD", cls.password),
        )


@dataclass
class Verdict:
    available: bool
    role: str
    failures: list[str] = field(default_factory=list)

    def body(self) -> str:
        if self.available:
            return f"{self.role} is available.\n"
        return f"{self.role} is not available: " + "; ".join(self.failures) + "\n"


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
) -> Verdict:
    """Decide from SHOW REPLICA/SLAVE STATUS (None: not a replica) and @@read_only
    (None: the server did not answer). `want` is "", "master" or "replica"."""
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
    if io != "Yes":
        err = _col(replica, "Last_IO_Error")
        failures.append(f"IO thread is {io or '?'}" + (f" ({err})" if err else ""))
    if sql != "Yes":
        err = _col(replica, "Last_SQL_Error")
        failures.append(f"SQL thread is {sql or '?'}" + (f" ({err})" if err else ""))
    if lag in ("", "None", "NULL"):
        if io == "Yes" and sql == "Yes":
            failures.append("replication lag is unknown")
    elif float(lag) > opts.max_lag_s:
        failures.append(f"lagging {lag}s behind the master (max {opts.max_lag_s:g}s)")
    return Verdict(not failures, role, failures)


def query(opts: Options) -> tuple[dict[str, str] | None, str | None, str]:
    import pymysql
    import pymysql.cursors

    try:
        conn = pymysql.connect(
            unix_socket=opts.socket,
            user=opts.user,
            password=opts.password,
            connect_timeout=opts.connect_timeout,
            read_timeout=opts.connect_timeout,
            cursorclass=pymysql.cursors.DictCursor,
        )
    except Exception as exc:  # any failure to talk to mysqld is a 503 with its reason
        return None, None, str(exc)
    try:
        with conn.cursor() as cur:
            try:
                cur.execute("SHOW REPLICA STATUS")
            except pymysql.err.MySQLError:
                cur.execute("SHOW SLAVE STATUS")
            row = cur.fetchone()
            cur.execute("SELECT @@read_only AS ro")
            read_only = str(cur.fetchone()["ro"])
        replica = {k: "" if v is None else str(v) for k, v in row.items()} if row else None
        return replica, read_only, ""
    except Exception as exc:
        return None, None, str(exc)
    finally:
        conn.close()


class Handler(BaseHTTPRequestHandler):
    opts = Options()

    def do_GET(self) -> None:
        want = {"": "", "/master": "master", "/replica": "replica"}.get(self.path.rstrip("/"))
        if want is None:
            self.send_response(404)
            self.end_headers()
            return
        replica, read_only, error = query(self.opts)
        verdict = evaluate(replica, read_only, self.opts, want, error)
        data = verdict.body().encode()
        self.send_response(200 if verdict.available else 503)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a checker that hangs up early is normal


def main() -> None:
    Handler.opts = Options.from_env(dict(os.environ))
    server = QuietServer(("0.0.0.0", Handler.opts.port), Handler)
    print(f"replcheck listening on :{Handler.opts.port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
