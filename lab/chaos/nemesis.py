"""The nemesis: faults injected on a schedule while a workload runs. A schedule is either
written out or drawn at random from a seed, and the same seed gives the same schedule.

Every fault is a context manager that heals on exit, also when the run fails or is
interrupted. A run that died mid-fault (the process was killed) leaves a kept lab
paused, stopped or cut off; `heal_leftovers` undoes all of that and runs first in every
chaos run, so the next run starts from a healed lab.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

import docker.errors

from lab.chaos.faults import (
    CLUSTERCHECK_SETTINGS,
    DONOR_LOCK_SESSIONS_SQL,
    HAPROXY_DOWN_BESIDE_KEEPER,
    REMOVE_LYING_DONOR,
    SERVER_COMMANDS,
    SERVER_PROCESS,
    START_HAPROXY,
    desynced,
    frozen_server,
    haproxy_killed,
    isolated,
    lying_donor,
    vrrp_cut,
)
from lab.chaos.history import History
from lab.infra.errors import StartupError
from lab.infra.nodes import Node
from lab.roles.db.galera import GaleraNode
from lab.roles.db.gtid import GtidNode
from lab.spec.flavours import DEFAULT_FLAVOUR, Dialect, get_flavour

FaultFactory = Callable[[Node, Sequence[Node]], contextlib.AbstractContextManager[None]]


@contextlib.contextmanager
def killed(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """SIGKILL; healed by starting the container again (its datadir is kept)."""
    node.kill()
    try:
        yield
    finally:
        node.start()


@contextlib.contextmanager
def stopped(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """A clean shutdown (SIGTERM, then SIGKILL after 10 s), as for maintenance."""
    node.stop()
    try:
        yield
    finally:
        node.start()


@contextlib.contextmanager
def restarted(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """A restart: down and up again at once; the hold is the time to come back."""
    node.container.restart(timeout=10)
    yield


@contextlib.contextmanager
def paused(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """docker pause (the cgroup freezer): a node that hangs without dying."""
    node.pause()
    try:
        yield
    finally:
        node.unpause()


@contextlib.contextmanager
def partitioned(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """The node cut off from its peers both ways (a minority of one)."""
    with isolated(node, peers):
        yield


@contextlib.contextmanager
def one_way(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """The node hears nothing from its peers, while they still hear it."""
    addresses = [peer.ip for peer in peers]
    try:
        for address in addresses:
            node.exec(["iptables", "-I", "INPUT", "-s", address, "-j", "DROP"])
        yield
    finally:
        node.exec(["iptables", "-F", "INPUT"])


@contextlib.contextmanager
def desynced_node(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """wsrep_desync=ON: the node reports Donor/Desynced, as while it serves an SST."""
    with desynced(GaleraNode(node.container)):
        yield


@contextlib.contextmanager
def frozen_mysqld(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """SIGSTOP of the database server only: a hung mysqld behind a living container."""
    with frozen_server(node):
        yield


@contextlib.contextmanager
def lying_donor_check(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """A node whose clustercheck passes Donor nodes while it holds a donor's read lock."""
    with lying_donor(GaleraNode(node.container)):
        yield


@contextlib.contextmanager
def replication_stopped(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """The GTID slave receives but does not apply: it lags further every second."""
    slave = GtidNode(node.container, _dialect_of(node))
    slave.sql(slave.dialect.stop_sql_thread)
    try:
        yield
    finally:
        slave.sql(slave.dialect.start_sql_thread)


@contextlib.contextmanager
def haproxy_kill(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """SIGKILL of HAProxy alone (keepalived or the groupware node lives on)."""
    with haproxy_killed(node):
        yield


@contextlib.contextmanager
def vrrp_partition(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """The dblb pair's VRRP cut: both members claim the floating address."""
    with vrrp_cut(node):
        yield


def _dialect_of(node: Node) -> Dialect:
    return get_flavour(node.container.labels.get("ox-lab.flavour", DEFAULT_FLAVOUR)).dialect


FAULTS: dict[str, FaultFactory] = {
    "replication-stopped": replication_stopped,
    "desync": desynced_node,
    "freeze-server": frozen_mysqld,
    "lying-donor": lying_donor_check,
    "kill": killed,
    "stop": stopped,
    "restart": restarted,
    "pause": paused,
    "partition": partitioned,
    "one-way": one_way,
    "kill-haproxy": haproxy_kill,
    "vrrp-cut": vrrp_partition,
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
    node = next(n for n in nodes if n.name == step.target)
    peers = [n for n in nodes if n is not node]
    fault = history.fault(step.fault, step.target)
    try:
        with FAULTS[step.fault](node, peers):
            yield
    finally:
        history.healed(fault)


@dataclass
class Healing:
    """What `heal_leftovers` did: one line per healed and per unhealable leftover."""

    healed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


LEFTOVER_STEPS: tuple[tuple[str, str], ...] = (
    # (what it heals, shell command run in every running lab container)
    (
        "firewall rules flushed",
        "if iptables -S 2>/dev/null | grep -q -- '-j'; then "
        "iptables -F INPUT && iptables -F OUTPUT && echo healed; fi",
    ),
    (
        "mysqld continued",
        f"if ps -o stat= -C {SERVER_COMMANDS} 2>/dev/null | grep -q T; then "
        f"pkill -CONT -x '{SERVER_PROCESS}' && echo healed; fi",
    ),
    (
        "lying clustercheck settings removed",
        f"if grep -qs 'oxlab fault' {CLUSTERCHECK_SETTINGS}; then {REMOVE_LYING_DONOR} "
        "&& echo healed; fi",
    ),
    (
        "donor lock released",
        "command -v lab-mysql >/dev/null || exit 0; "
        f'ids=$(lab-mysql -N -e "{DONOR_LOCK_SESSIONS_SQL}") || exit 0; '
        '[ -z "$ids" ] && exit 0; for id in $ids; do lab-mysql -e "KILL $id"; done; '
        "lab-mysql -e 'SET GLOBAL wsrep_desync=OFF' && echo healed",
    ),
    (
        "HAProxy started again",
        f"if {HAPROXY_DOWN_BESIDE_KEEPER}; then {{ {START_HAPROXY}; }} && echo healed; fi",
    ),
)


def heal_leftovers(nodes: Sequence[Node], say: Callable[[str], None] | None = None) -> Healing:
    """Undo what a run that died mid-fault left behind: unpause, start, flush firewall
    rules, SIGCONT a stopped server, remove a lying clustercheck setting, release a donor
    lock. What cannot be healed is one line per resource in `failed`, and `say` (the
    next run's progress) tells it before the run starts; a container that no longer
    exists is not the lab's to heal."""
    healing = Healing()
    for node in nodes:
        try:
            status = node.status
        except (StartupError, docker.errors.NotFound):
            continue
        except docker.errors.DockerException as exc:
            healing.failed.append(f"{node.name}: cannot inspect the container: {exc}")
            continue
        try:
            if status == "paused":
                node.unpause()
                healing.healed.append(f"{node.name}: unpaused")
            elif status in ("exited", "created"):
                node.start()
                healing.healed.append(f"{node.name}: started")
        except docker.errors.DockerException as exc:
            healing.failed.append(f"{node.name}: could not start or unpause it ({status}): {exc}")
            continue
        for healed, command in LEFTOVER_STEPS:
            try:
                result = node.exec(["sh", "-c", command])
            except docker.errors.DockerException as exc:
                healing.failed.append(f"{node.name}: {healed} failed: {exc}")
                continue
            if result.exit_code != 0:
                healing.failed.append(
                    f"{node.name}: {healed} failed: {result.output.strip()[:200]}"
                )
            elif "healed" in result.output:
                healing.healed.append(f"{node.name}: {healed}")
    if say:
        for line in healing.healed:
            say(f"healed a leftover of an earlier run: {line}")
        for line in healing.failed:
            say(f"could NOT heal a leftover of an earlier run: {line}")
    return healing
