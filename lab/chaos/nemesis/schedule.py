"""The nemesis' schedules: faults injected on a schedule while a workload runs. A
schedule is either written out or drawn at random from a seed, and the same seed gives
the same schedule."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass

from lab.chaos.history import History
from lab.chaos.nemesis.faults import (
    FaultError,
    deaf,
    desynced,
    frozen_server,
    haproxy_killed,
    isolated,
    killed,
    lying_donor,
    paused,
    replication_stopped,
    restarted,
    stopped,
    vrrp_cut,
)
from lab.infra.errors import find_node
from lab.infra.nodes import Node
from lab.roles.db.galera import GaleraNode
from lab.roles.db.gtid import GtidNode

FaultFactory = Callable[[Node, Sequence[Node]], contextlib.AbstractContextManager[None]]


def _galera(node: Node) -> GaleraNode:
    if not isinstance(node, GaleraNode):
        raise FaultError(f"{node.name}: this fault needs a Galera node, not a {node.role} node")
    return node


def _gtid(node: Node) -> GtidNode:
    if not isinstance(node, GtidNode):
        raise FaultError(f"{node.name}: this fault needs a GTID slave, not a {node.role} node")
    return node


# a schedule's fault names; each takes the target and its peers
FAULTS: dict[str, FaultFactory] = {
    "replication-stopped": lambda node, peers: replication_stopped(_gtid(node)),
    "desync": lambda node, peers: desynced(_galera(node)),
    "freeze-server": lambda node, peers: frozen_server(node),
    "lying-donor": lambda node, peers: lying_donor(_galera(node)),
    "kill": lambda node, peers: killed(node),
    "stop": lambda node, peers: stopped(node),
    "restart": lambda node, peers: restarted(node),
    "pause": lambda node, peers: paused(node),
    "partition": isolated,
    "one-way": deaf,
    "kill-haproxy": lambda node, peers: haproxy_killed(node),
    "vrrp-cut": lambda node, peers: vrrp_cut(node),
}


@dataclass(frozen=True)
class Step:
    at_s: float  # seconds after the workload started
    fault: str
    target: str
    hold_s: float


@dataclass(frozen=True)
class Schedule:
    steps: tuple[Step, ...]
    seed: int | None = None

    @classmethod
    def random(
        cls,
        seed: int,
        targets: Sequence[str],
        faults: Sequence[str] = ("kill", "pause", "partition"),
        count: int = 3,
        hold_s: tuple[float, float] = (3.0, 6.0),
        settle_s: float = 3.0,
    ) -> Schedule:
        """`count` faults, one at a time, each followed by `settle_s` to recover in (a
        run also waits for the lab to be healthy before the next fault: times are
        "not before")."""
        rng = random.Random(seed)
        steps, at = [], 3.0
        for _ in range(count):
            hold = round(rng.uniform(*hold_s), 1)
            steps.append(Step(at, rng.choice(list(faults)), rng.choice(list(targets)), hold))
            at = round(at + hold + settle_s, 1)
        return cls(tuple(steps), seed)

    def describe(self) -> list[dict[str, object]]:
        return [asdict(step) for step in self.steps]


@contextlib.contextmanager
def injected(step: Step, nodes: Sequence[Node], history: History) -> Iterator[None]:
    """One scheduled fault on its target, recorded in the history, healed on exit."""
    node = find_node(nodes, step.target, "the nodes under the nemesis")
    peers = [n for n in nodes if n is not node]
    fault = history.fault(step.fault, step.target)
    try:
        with FAULTS[step.fault](node, peers):
            yield
    finally:
        history.healed(fault)
