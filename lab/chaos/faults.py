"""Faults the tests inject (the nemesis). Each is a context manager that heals on exit,
also when the test body fails, so a session-scoped cluster survives a failing test."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from lab.infra.errors import LabError
from lab.infra.nodes import Node
from lab.infra.waiting import poll
from lab.roles.db.galera import GaleraNode
from lab.roles.db.node import NotReady

DRAIN_FILE = "/var/tmp/clustercheck.disabled"  # clustercheck's CLUSTERCHECK_DRAIN_FILE
CLUSTERCHECK_SETTINGS = "/etc/sysconfig/clustercheck"  # Percona's settings file
# the line the lying-donor fault appends (an operator's own settings stay around it);
# a later KEY=VALUE line wins in clustercheck's reader
LYING_DONOR_LINE = "AVAILABLE_WHEN_DONOR=1  # oxlab fault: lying-donor"
REMOVE_LYING_DONOR = f"sed -i '/# oxlab fault: lying-donor$/d' {CLUSTERCHECK_SETTINGS}"
# the database server's process, by the names operators use with pkill / pidof:
# MariaDB's mariadbd, Oracle's and Percona's mysqld (lab-db-start runs it by that name)
SERVER_PROCESS = "mariadbd|mysqld"  # a pkill/pgrep -x pattern
SERVER_COMMANDS = "mariadbd,mysqld"  # the same for ps -C
DONOR_LOCK_MARK = "oxlab_donor_lock"  # names the session that holds a donor's read lock
# HAProxy beside another main process (the pair's keepalived, a groupware node's
# oxnode-run): each image's start script starts it again with its own arguments
START_HAPROXY = (
    "if command -v lab-dblb-pair >/dev/null; then lab-dblb-pair haproxy; "
    "else oxnode-run haproxy; fi"
)
HAPROXY_DOWN_BESIDE_KEEPER = (
    "[ -f /etc/haproxy/haproxy.cfg ] && ! pgrep -x haproxy >/dev/null "
    "&& { command -v lab-dblb-pair >/dev/null || command -v oxnode-run >/dev/null; }"
)
VRRP = "112"  # VRRP's IP protocol number


class FaultError(LabError):
    """A fault could not be injected or healed; the message names node and command."""


def _must(node: Node, cmd: list[str]) -> None:
    result = node.exec(cmd)
    if result.exit_code != 0:
        raise FaultError(f"{node.name}: {' '.join(cmd)} failed: {result.output.strip()}")


@contextmanager
def desynced(node: GaleraNode) -> Iterator[None]:
    """SET GLOBAL wsrep_desync=ON: the node reports Donor/Desynced (state 2), as during SST."""
    node.sql("SET GLOBAL wsrep_desync=ON")
    try:
        yield
    finally:
        node.sql("SET GLOBAL wsrep_desync=OFF")


@contextmanager
def drained(node: Node) -> Iterator[None]:
    """The maintenance switch: clustercheck's drain file makes the node answer 503."""
    _must(node, ["touch", DRAIN_FILE])
    try:
        yield
    finally:
        _must(node, ["rm", "-f", DRAIN_FILE])


@contextmanager
def isolated(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """Cut `node` off from `peers` both ways with iptables inside `node` (no netem, no
    host firewall needed); clients such as HAProxy still reach it, as in a real split."""
    addresses = [peer.ip for peer in peers]
    # one exec for every rule: applied one `docker exec` at a time (100 ms to a second
    # each on a loaded host), the cut is partial for a while (galera1 still talks to
    # galera3 but not to galera2), and with fast evs timeouts that non-transitive view
    # cost the majority its Primary component now and then
    rules = " && ".join(
        f"iptables -I INPUT -s {a} -j DROP && iptables -I OUTPUT -d {a} -j DROP" for a in addresses
    )
    try:
        _must(node, ["sh", "-c", rules])
        yield
    finally:
        # the lab owns every rule in its containers, so flushing heals exactly this fault
        _must(node, ["iptables", "-F", "INPUT"])
        _must(node, ["iptables", "-F", "OUTPUT"])


@contextmanager
def haproxy_killed(node: Node) -> Iterator[None]:
    """SIGKILL of the HAProxy processes only, on a node where something else is the main
    process (keepalived on a pair member, oxnode-run on a groupware node); healed by
    starting HAProxy again."""
    _must(node, ["pkill", "-KILL", "-x", "haproxy"])
    try:
        yield
    finally:
        _must(node, ["sh", "-c", START_HAPROXY])


@contextmanager
def vrrp_cut(node: Node) -> Iterator[None]:
    """VRRP advertisements dropped both ways on `node` (iptables, protocol 112): the
    pair members stop hearing each other and both claim the floating address."""
    try:
        _must(
            node,
            [
                "sh",
                "-c",
                f"iptables -I INPUT -p {VRRP} -j DROP && iptables -I OUTPUT -p {VRRP} -j DROP",
            ],
        )
        yield
    finally:
        _must(node, ["iptables", "-F", "INPUT"])
        _must(node, ["iptables", "-F", "OUTPUT"])


@contextmanager
def rejected(node: Node, clients: Sequence[Node], port: int) -> Iterator[None]:
    """`node` refuses `clients` on `port` with a TCP reset, at once (unlike a silent
    partition): new connections are refused and established ones are reset."""
    addresses = [client.ip for client in clients]
    try:
        for address in addresses:
            _must(
                node,
                [
                    "iptables",
                    "-I",
                    "INPUT",
                    "-p",
                    "tcp",
                    "--dport",
                    str(port),
                    "-s",
                    address,
                    "-j",
                    "REJECT",
                    "--reject-with",
                    "tcp-reset",
                ],
            )
        yield
    finally:
        _must(node, ["iptables", "-F", "INPUT"])


@contextmanager
def frozen_server(node: Node, process: str = SERVER_PROCESS) -> Iterator[None]:
    """SIGSTOP the database server inside the node (the container and its other
    processes, such as clustercheck, keep running): a hung mysqld."""
    _must(node, ["pkill", "-STOP", "-x", process])
    try:
        yield
    finally:
        _must(node, ["pkill", "-CONT", "-x", process])


@contextmanager
def lying_donor(node: GaleraNode, timeout_s: float = 30.0) -> Iterator[None]:
    """The node's clustercheck passes Donor nodes (Percona's AVAILABLE_WHEN_DONOR=1, set
    in its settings file) while the node is desynced and holds FLUSH TABLES WITH READ
    LOCK, as an rsync donor does during a state transfer: its check says 200 while
    writes on it block. The lock lives in a client session started in the container;
    healing kills that session and lifts the desync."""
    _must(
        node,
        [
            "sh",
            "-c",
            f"mkdir -p /etc/sysconfig && echo '{LYING_DONOR_LINE}' >> {CLUSTERCHECK_SETTINGS}",
        ],
    )
    try:
        node.sql("SET GLOBAL wsrep_desync=ON")
        node.container.exec_run(
            [
                "lab-mysql",
                "-e",
                f"FLUSH TABLES WITH READ LOCK; SELECT SLEEP(3600) AS {DONOR_LOCK_MARK}",
            ],
            detach=True,
        )
        poll(
            lambda: bool(donor_lock_sessions(node)),
            timeout=timeout_s,
            what=f"{node.name} to hold the donor's read lock",
            retry_on=(NotReady,),
        )
        yield
    finally:
        for session in donor_lock_sessions(node):
            node.sql(f"KILL {session}")  # the server's session: a dead client keeps it
        node.sql("SET GLOBAL wsrep_desync=OFF")
        _must(node, ["sh", "-c", REMOVE_LYING_DONOR])


# the sessions holding the lock (the query that finds them names the mark too); no
# causal wait, so that it answers on a node that has lost the Primary component
DONOR_LOCK_SESSIONS_SQL = (
    "SET SESSION wsrep_sync_wait=0; SELECT id FROM information_schema.processlist "
    f"WHERE info LIKE '%{DONOR_LOCK_MARK}%' AND info NOT LIKE '%processlist%'"
)


def donor_lock_sessions(node: GaleraNode) -> list[str]:
    return node.sql(DONOR_LOCK_SESSIONS_SQL).split()
