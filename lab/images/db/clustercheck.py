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

Settings (environment, Percona's names where it has them), overridden per request by
KEY=VALUE lines in /etc/sysconfig/clustercheck, the file Percona's clustercheck reads:
  AVAILABLE_WHEN_DONOR=0     a Donor/Desynced node (state 2) counts as available when 1
  AVAILABLE_WHEN_READONLY=1  a read_only node counts as available when 1
  CLUSTERCHECK_CONNECT_TIMEOUT=2  seconds; a hung mysqld is a 503, not a hang (checkhttp)
  CLUSTERCHECK_PEER_TIMEOUT=0.2   seconds /master waits for each peer's answer
  CLUSTERCHECK_DRAIN_FILE=/var/tmp/clustercheck.disabled  present: 503 (maintenance)
Runs inside the Galera image with Debian's python3-pymysql; the decision is a pure
function so it is unit-tested without a server.
"""

from __future__ import annotations

import os
import socket
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from checkhttp import Answer, Connection, serve, settings_from

SYNCED = "4"
DONOR_DESYNCED = "2"
STATE_NAMES = {"1": "Joining", "2": "Donor/Desynced", "3": "Joined", "4": "Synced"}


@dataclass(frozen=True)
class Options:
    available_when_donor: bool = False
    available_when_readonly: bool = True
    drain_file: str = "/var/tmp/clustercheck.disabled"
    peer_timeout: float = 0.2
    node_name: str = field(default_factory=socket.gethostname)  # when mysqld cannot say
    db: Connection = field(default_factory=Connection)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Options:
        return cls(
            available_when_donor=env.get("AVAILABLE_WHEN_DONOR", "0") == "1",
            available_when_readonly=env.get("AVAILABLE_WHEN_READONLY", "1") == "1",
            drain_file=env.get("CLUSTERCHECK_DRAIN_FILE", cls.drain_file),
            peer_timeout=float(env.get("CLUSTERCHECK_PEER_TIMEOUT", "0.2")),
            db=Connection.from_env(env),
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
    node = (variables or {}).get("wsrep_node_name") or opts.node_name
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
    def run(cur: Any) -> tuple[dict[str, str], dict[str, str]]:
        cur.execute("SHOW GLOBAL STATUS LIKE 'wsrep_%'")
        status = {k: str(v) for k, v in cur.fetchall()}
        cur.execute(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN "
            "('read_only', 'wsrep_reject_queries', 'wsrep_node_name')"
        )
        return status, {k: str(v) for k, v in cur.fetchall()}

    result, error = opts.db.query(run)
    return (*result, "") if result else (None, None, error)


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


def answer(path: str, opts: Options) -> Answer:
    if path not in ("", "/master"):
        return 404, "unknown path; try / or /master\n", {}
    status, variables, error = query_node(opts)
    verdict = evaluate(status, variables, opts, os.path.exists(opts.drain_file), error)
    body = verdict.body()
    if path == "/master" and verdict.available and status is not None:
        peers = healthy_peer_names(status, verdict.node, opts.peer_timeout)
        if is_master(verdict.node, peers):
            body = f"{verdict.node} is the writer.\n"
        else:
            verdict.available = False
            body = f"{verdict.node} is healthy but not the writer: {min(peers)} is.\n"
    return (200 if verdict.available else 503), body, {"X-Node-Name": verdict.node}


SETTINGS_FILE = "/etc/sysconfig/clustercheck"


def current_options() -> Options:
    """Environment, then the sysconfig file, read again for every request (Percona's
    script is started per request by xinetd, so an edit there takes effect at once)."""
    return Options.from_env(settings_from(SETTINGS_FILE))


def main() -> None:
    serve("clustercheck", lambda path: answer(path, current_options()))


if __name__ == "__main__":
    main()
