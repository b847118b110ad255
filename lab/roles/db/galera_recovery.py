"""Recovering a Galera cluster after every node crashed (Galera's "Restarting the
cluster"): find the node with the highest committed seqno (grastate.dat, or
`mysqld --wsrep-recover` where grastate.dat says -1 after a crash), mark it
safe_to_bootstrap, bootstrap from it and join the others one at a time. A node with a
lower seqno is never the one the cluster restarts from: its missing transactions would
be lost for everyone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from lab.infra.errors import ClusterFormationError, LabError
from lab.infra.nodes import Node, put_file, read_file, rewrite_file
from lab.infra.waiting import poll
from lab.roles.db.galera import GaleraCluster, GaleraNode

GRASTATE = "/var/lib/mysql/grastate.dat"
START_MODE = "/var/lib/mysql/lab-start-mode"  # read once by lab-db-start
RECOVER_LOG = "/var/lib/mysql/lab-wsrep-recover.log"
RECOVERED = re.compile(r"Recovered position:\s*([0-9a-f-]{36}):(-?\d+)")


@dataclass(frozen=True)
class Position:
    node: str
    uuid: str
    seqno: int
    safe_to_bootstrap: bool
    source: str  # grastate.dat or --wsrep-recover


@dataclass(frozen=True)
class Recovery:
    positions: tuple[Position, ...]
    bootstrapped: str
    seconds: float


def parse_grastate(text: str) -> tuple[str, int, bool]:
    fields = dict(
        (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in text.splitlines())
    )
    return (
        fields.get("uuid", ""),
        int(fields.get("seqno", "-1")),
        fields.get("safe_to_bootstrap") == "1",
    )


def choose_bootstrap(positions: list[Position]) -> Position:
    """The highest seqno; on a tie the node grastate.dat already calls safe, then by name."""
    uuids = {p.uuid for p in positions}
    if len(uuids) != 1:
        raise LabError(f"the nodes belong to different cluster histories: {sorted(uuids)}")
    if any(p.seqno < 0 for p in positions):
        raise LabError(f"unknown positions remain: {[p for p in positions if p.seqno < 0]}")
    return sorted(positions, key=lambda p: (-p.seqno, not p.safe_to_bootstrap, p.node))[0]


def put_start_mode(node: Node, mode: str) -> None:
    put_file(node, START_MODE, mode.encode())


def position_of(node: GaleraNode) -> Position:
    """grastate.dat's position, or --wsrep-recover's where the crash left seqno -1."""
    text = (read_file(node, GRASTATE) or b"").decode()
    uuid, seqno, safe = parse_grastate(text)
    if seqno >= 0:
        return Position(node.name, uuid, seqno, safe, "grastate.dat")
    put_start_mode(node, "recover")
    node.start()
    poll(lambda: node.status == "exited", timeout=120, what=f"{node.name}: --wsrep-recover")
    log = (read_file(node, RECOVER_LOG) or b"").decode(errors="replace")
    found = RECOVERED.findall(log)
    if not found:
        raise ClusterFormationError(node.name, "--wsrep-recover found no position", log[-2000:])
    uuid, seqno_text = found[-1]
    return Position(node.name, uuid, int(seqno_text), safe, "--wsrep-recover")


def recover_cluster(
    cluster: GaleraCluster, progress: Callable[[str], None] = lambda _: None
) -> Recovery:
    started = time.monotonic()
    running = [n.name for n in cluster.nodes if n.status in ("running", "paused")]
    if running:
        raise LabError(f"whole-cluster recovery needs every node down; running: {running}")
    # --wsrep-recover reads each node's own datadir: every node at once
    with ThreadPoolExecutor(max_workers=len(cluster.nodes)) as pool:
        positions = list(pool.map(position_of, cluster.nodes))
    for p in positions:
        safe = int(p.safe_to_bootstrap)
        progress(f"{p.node}: {p.uuid}:{p.seqno} ({p.source}, safe_to_bootstrap={safe})")
    best = choose_bootstrap(positions)
    first = cluster.node(best.node)
    grastate = (read_file(first, GRASTATE) or b"").decode()
    grastate = re.sub(r"safe_to_bootstrap:\s*\d", "safe_to_bootstrap: 1", grastate)
    rewrite_file(first, GRASTATE, grastate.encode())
    put_start_mode(first, "bootstrap")
    first.start()
    cluster.wait_synced(first)
    progress(f"{first.name} bootstrapped the cluster again at seqno {best.seqno}")
    for p in sorted(positions, key=lambda p: -p.seqno):
        if p.node != first.name:
            node = cluster.node(p.node)
            node.start()
            cluster.wait_synced(node)
            progress(f"{node.name} rejoined")
    return Recovery(tuple(positions), first.name, time.monotonic() - started)
