#!/usr/bin/env python3
"""clustercheck: HTTP health of this Galera node for HAProxy, after Percona's clustercheck.

GET /        200 when this node may take queries: Synced (wsrep_local_state 4), wsrep_ready
             ON, wsrep_cluster_status Primary, wsrep_reject_queries NONE, not drained;
             503 otherwise, the body naming every condition that failed.
GET /master  200 on exactly one healthy node: the healthy member of this node's primary
             component whose wsrep_node_name sorts first. Names, not wsrep_local_index:
             indexes are reassigned on every view change (a restarted node gets a new
             UUID), which would move the writer whenever any node rejoins; names are
             stable and match the order of HAProxy's write servers.

Settings (environment, Percona's names where it has them):
  AVAILABLE_WHEN_DONOR=0     a Donor/Desynced node (state 2) counts as available when 1
  AVAILABLE_WHEN_READONLY=1  a read_only node counts as available when 1
  CLUSTERCHECK_CONNECT_TIMEOUT=2  seconds; a hung mysqld is a 503, not a hang
  CLUSTERCHECK_PEER_TIMEOUT=0.2   seconds /master waits for each peer's answer
  CLUSTERCHECK_DRAIN_FILE=/var/tmp/clustercheck.disabled  present: 503 (maintenance)
Runs inside the Galera image with Debian's python3-pymysql; the decision is a pure
function so it is unit-tested without a server.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SYNCED = "4"
DONOR_DESYNCED = "2"
STATE_NAMES = {"1": "Joining", "2": "Donor/Desynced", "3": "Joined", "4": "Synced"}


@dataclass(frozen=True)
class Options:
    available_when_donor: bool = False
    available_when_readonly: bool = True
    connect_timeout: float = 2.0
    peer_timeout: float = 0.2
    drain_file: str = "/var/tmp/clustercheck.disabled"
    socket: str = "/run/mysqld/mysqld.sock"
    user: str = "clustercheckuser"
    password: str = "clustercheckpassword!"
    port: int = 9200

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Options:
        return cls(
            available_when_donor=env.get("AVAILABLE_WHEN_DONOR", "0") == "1",
            available_when_readonly=env.get("AVAILABLE_WHEN_READONLY", "1") == "1",
            connect_timeout=float(env.get("CLUSTERCHECK_CONNECT_TIMEOUT", "2")),
            peer_timeout=float(env.get("CLUSTERCHECK_PEER_TIMEOUT", "0.2")),
            drain_file=env.get("CLUSTERCHECK_DRAIN_FILE", cls.drain_file),
            user=env.get("CLUSTERCHECK_USER", cls.user),
            password=env.get("CLUSTERCHECK_PASSWORD", cls.password),
        )


@dataclass
class Verdict:
    available: bool
    node: str
    failures: list[str] = field(default_factory=list)

    def body(self) -> str:
        if self.available:
            return f"{self.node} is synced and available.\n"
        return f"{self.node} is not available: " + "; ".join(self.failures) + "\n"


def evaluate(
    status: dict[str, str] | None,
    variables: dict[str, str] | None,
    opts: Options,
    drained: bool,
    error: str = "",
) -> Verdict:
    """Decide availability from SHOW GLOBAL STATUS / VARIABLES (None: no answer)."""
    node = (variables or {}).get("wsrep_node_name", "?")
    failures: list[str] = []
    if drained:
        failures.append(f"drained for maintenance ({opts.drain_file} exists)")
    if status is None or variables is None:
        failures.append(f"cannot query mysqld: {error or 'no answer'}")
        return Verdict(False, node, failures)
    state = status.get("wsrep_local_state", "")
    state_ok = state == SYNCED or (state == DONOR_DESYNCED and opts.available_when_donor)
    if not state_ok:
        name = STATE_NAMES.get(state, status.get("wsrep_local_state_comment", "unknown"))
        failures.append(f"wsrep_local_state is {state or '?'} ({name}), not 4 (Synced)")
    if status.get("wsrep_ready", "") != "ON":
        failures.append(f"wsrep_ready is {status.get('wsrep_ready', '?')}, not ON")
    if status.get("wsrep_cluster_status", "") != "Primary":
        failures.append(
            f"wsrep_cluster_status is {status.get('wsrep_cluster_status', '?')}, not Primary"
        )
    reject = variables.get("wsrep_reject_queries", "NONE")
    if reject != "NONE":
        failures.append(f"wsrep_reject_queries is {reject}, not NONE")
    if variables.get("read_only", "OFF") == "ON" and not opts.available_when_readonly:
        failures.append("read_only is ON and AVAILABLE_WHEN_READONLY=0")
    return Verdict(not failures, node, failures)


def is_master(me: str, healthy_peers: list[str]) -> bool:
    """The writer is the healthy node whose name sorts first (see the module docstring)."""
    return all(me < peer for peer in healthy_peers)


def query_node(opts: Options) -> tuple[dict[str, str] | None, dict[str, str] | None, str]:
    import pymysql

    try:
        conn = pymysql.connect(
            unix_socket=opts.socket,
            user=opts.user,
            password=opts.password,
            connect_timeout=opts.connect_timeout,
            read_timeout=opts.connect_timeout,
        )
    except Exception as exc:  # any failure to talk to mysqld is a 503 with its reason
        return None, None, str(exc)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS LIKE 'wsrep_%'")
            status = {k: str(v) for k, v in cur.fetchall()}
            cur.execute(
                "SHOW GLOBAL VARIABLES WHERE Variable_name IN "
                "('read_only', 'wsrep_reject_queries', 'wsrep_node_name')"
            )
            variables = {k: str(v) for k, v in cur.fetchall()}
        return status, variables, ""
    except Exception as exc:
        return None, None, str(exc)
    finally:
        conn.close()


def healthy_peer_names(status: dict[str, str], me: str, timeout: float) -> list[str]:
    """Ask each member of this node's component (wsrep_incoming_addresses) for its /, all
    at once and briefly: the whole /master answer must fit in HAProxy's check timeout, and
    a peer that is cut off (no RST, just silence) would otherwise hold it up."""
    hosts = [
        address.rsplit(":", 1)[0].strip()
        for address in status.get("wsrep_incoming_addresses", "").split(",")
    ]

    def ask(host: str) -> str:
        try:
            with urllib.request.urlopen(f"http://{host}:9200/", timeout=timeout) as resp:
                name = resp.headers.get("X-Node-Name", "")
                return name if resp.status == 200 and name != me else ""
        except OSError:
            return ""  # unreachable, silent or 503: not a healthy peer

    hosts = [h for h in hosts if h and h != "AUTO"]
    with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
        return [name for name in pool.map(ask, hosts) if name]


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a checker that hangs up early is normal; nothing worth a traceback


class Handler(BaseHTTPRequestHandler):
    opts = Options()

    def do_GET(self) -> None:
        opts = self.opts
        status, variables, error = query_node(opts)
        verdict = evaluate(status, variables, opts, os.path.exists(opts.drain_file), error)
        body = verdict.body()
        if self.path.rstrip("/") == "/master" and verdict.available and status is not None:
            peers = healthy_peer_names(status, verdict.node, opts.peer_timeout)
            if not is_master(verdict.node, peers):
                verdict.available = False
                body = f"{verdict.node} is healthy but not the writer: {min(peers)} is.\n"
            else:
                body = f"{verdict.node} is the writer.\n"
        elif self.path.rstrip("/") not in ("", "/master"):
            self.send_response(404)
            self.end_headers()
            return
        data = body.encode()
        self.send_response(200 if verdict.available else 503)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Node-Name", verdict.node)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass  # HAProxy polls every few hundred ms; the server's own log stays readable


def main() -> None:
    Handler.opts = Options.from_env(dict(os.environ))
    server = QuietServer(("0.0.0.0", Handler.opts.port), Handler)
    print(f"clustercheck listening on :{Handler.opts.port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
