"""Restoring the Primary Component while the nodes still run but none is Primary
(MariaDB's "Recovering a Primary Component", Galera's "Resetting the Quorum"): on the
most advanced node (the highest wsrep_last_committed) run

    SET GLOBAL wsrep_provider_options='pc.bootstrap=YES';

and the others rejoin it by themselves; one that has not rejoined within REJOIN_S (a node
that left as Disconnected may not look for the cluster again) is restarted, and rejoins
by IST. A node holding fewer transactions is never the one bootstrapped: what it lacks
would be lost for everyone. Seen here: a 5 s docker pause at evs.suspect_timeout 3 s left
galera1 Disconnected and galera2, galera3 each non-Primary of size 1, for good.

Whole-cluster crashes (no node running) are galera_recovery.py's: grastate.dat and
--wsrep-recover, then a bootstrap from the most advanced node's files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import docker.errors

from lab.infra.errors import LabError, StartupError
from lab.roles.db.galera import GaleraCluster, GaleraNode
from lab.roles.db.node import NotReady
from lab.roles.health import VERIFY

BOOTSTRAP_SQL = "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'"
REJOIN_S = 30.0  # a running non-Primary node rejoins a new Primary within a view change


def most_advanced(statuses: Mapping[str, Mapping[str, str] | None]) -> str | None:
    """The node to bootstrap, or None when a node is Primary already (the others only
    have to rejoin it). `statuses`: each node's wsrep status, None where it does not
    answer. The highest wsrep_last_committed wins; on a tie, the first by name."""
    answering = {name: s for name, s in statuses.items() if s is not None}
    primary = VERIFY["wsrep_cluster_status"]
    if any(s.get("wsrep_cluster_status") == primary for s in answering.values()):
        return None
    if not answering:
        raise LabError("no Galera node answers: nothing to bootstrap a Primary Component from")
    return min(answering, key=lambda name: (-_committed(answering[name]), name))


def _committed(status: Mapping[str, str]) -> int:
    try:
        return int(status.get("wsrep_last_committed", "-1"))
    except ValueError:
        return -1


def restore_primary(cluster: GaleraCluster, say: Callable[[str], None]) -> list[str]:
    """Make the cluster Primary and Synced again as the documentation says; the steps
    taken, one line each (none when it was healthy)."""
    done: list[str] = []

    def step(line: str) -> None:
        done.append(line)
        say(line)

    statuses = {node.name: _status(node) for node in cluster.nodes}
    chosen = most_advanced(statuses)
    if chosen is not None:
        committed = (statuses[chosen] or {}).get("wsrep_last_committed", "?")
        cluster.node(chosen).sql(BOOTSTRAP_SQL, timeout_s=10)
        step(f"{chosen}: pc.bootstrap=YES (most advanced, wsrep_last_committed {committed})")
    for node in cluster.nodes:
        try:
            cluster.wait_synced(node, timeout=REJOIN_S)
            continue
        except StartupError:
            pass
        node.stop()
        node.start()
        step(f"{node.name}: restarted (had not rejoined within {REJOIN_S:.0f} s)")
        cluster.wait_synced(node)
    return done


def _status(node: GaleraNode) -> dict[str, str] | None:
    if node.not_running():
        return None
    try:
        return node.wsrep_status()
    except (NotReady, StartupError, docker.errors.APIError):
        return None
