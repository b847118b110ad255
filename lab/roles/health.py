"""The one health check of a cluster, whether its nodes are the lab's containers or the
operator's SSH hosts: the guide's verification table for a Galera node, HAProxy's own
view of its servers, and one way to wait for (or refuse) a cluster that is not healthy.
`Lab.health_problems` (containers) and `lab verify` (hosts and containers) both judge
with these functions; they differ only in how they read the status."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from lab.infra.errors import StartupError
from lab.infra.waiting import poll

# The guide's verification table ("Galera database setup"): what every node must show.
VERIFY = {
    "wsrep_cluster_status": "Primary",
    "wsrep_local_state": "4",
    "wsrep_local_state_comment": "Synced",
    "wsrep_ready": "ON",
}
UP = "UP"
SETTLE_BEFORE_FAULT_S = 20.0  # a server rising (HAProxy's rise 2 x inter 2s) is waited out


def wsrep_problems(status: dict[str, str], expected_size: int, clusters: int = 1) -> list[str]:
    """What one node's wsrep status variables show against the guide's table, in a
    cluster of `expected_size` nodes (empty: the node is healthy). `clusters` is how many
    different cluster state UUIDs the nodes report: more than one is a split cluster."""
    problems = []
    comment = status.get("wsrep_local_state_comment", "?")
    if comment != VERIFY["wsrep_local_state_comment"]:
        problems.append(f"wsrep_local_state_comment is {comment}, not Synced")
    state = status.get("wsrep_cluster_status", "?")
    if state != VERIFY["wsrep_cluster_status"]:
        problems.append(f"wsrep_cluster_status is {state}, not Primary")
    size = status.get("wsrep_cluster_size", "?")
    if size != str(expected_size):
        problems.append(f"wsrep_cluster_size is {size}, the cluster has {expected_size} nodes")
    for key in ("wsrep_ready", "wsrep_connected"):
        if status.get(key) != "ON":
            problems.append(f"{key} is {status.get(key, '?')}")
    if clusters > 1:
        problems.append(f"the nodes report {clusters} different cluster state UUIDs")
    return problems


def servers_not_up(servers: Iterable[tuple[str, str, str]]) -> list[str]:
    """HAProxy's (listener, server, status) rows that are not UP: DOWN, rising
    ("DOWN 1/2"), falling ("UP 1/3"), MAINT or unchecked ("no check") all count,
    as in "listener/server STATUS"."""
    return [f"{listener}/{server} {status}" for listener, server, status in servers if status != UP]


class Unhealthy(StartupError):
    """The cluster did not become healthy within the deadline; names what still was not."""


def wait_healthy(
    problems: Callable[[], list[str]], *, timeout: float, what: str, not_before: float = 0.0
) -> None:
    """Poll `problems()` until it is empty. After `timeout` seconds, Unhealthy naming
    `what` and every problem still found: a transient state (a server rising after an
    earlier run, a node finishing IST) is waited out, a broken cluster is not hidden.

    `not_before` (a time.monotonic() moment): only health seen from then on counts. After
    a fault, the members' eviction window since the heal: a node thawed after more than
    evs.suspect_timeout can still split the view seconds later (seen: every node
    non-Primary 3 s after a 5 s pause that a first look had passed as healthy)."""
    last: list[str] = []

    def healthy() -> bool:
        nonlocal last
        last = problems()
        return not last and time.monotonic() >= not_before

    try:
        poll(healthy, timeout=timeout, what=what, interval=0.3)
    except StartupError as exc:
        said = "; ".join(last) or "healthy, but not yet past the eviction window of the heal"
        raise Unhealthy(f"{exc}: {said}") from None
