"""The faults injected into lab containers. Each is a context manager that heals on
exit, also when the test body fails, so a session-scoped cluster survives a failing
test; `schedule.FAULTS` names them for the schedules, tests use them directly."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from lab.chaos.nemesis import firewall
from lab.infra.errors import LabError
from lab.infra.nodes import Node
from lab.infra.remote import Remote
from lab.infra.waiting import poll
from lab.roles.db.galera import GaleraNode
from lab.roles.db.gtid import GtidNode
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


class FaultError(LabError):
    """A fault could not be injected or healed, in a container or on an SSH host; the
    message names the node or host and the command."""


def must(remote: Remote, command: str) -> None:
    """A fault's command as root on a container or an SSH host; FaultError naming the
    machine and the command when it fails (one way for both transports)."""
    result = remote.sh(command)
    if result.exit_code != 0:
        raise FaultError(f"{remote.name}: `{command}` failed: {result.output.strip()[-200:]}")


def freeze_command(process: str = SERVER_PROCESS) -> str:
    """SIGSTOP of a process by name: a hung server on a living machine."""
    return f"pkill -STOP -x '{process}'"


def thaw_command(process: str = SERVER_PROCESS) -> str:
    return f"pkill -CONT -x '{process}'"


@contextmanager
def desynced(node: GaleraNode, timeout_s: float = 30.0) -> Iterator[None]:
    """SET GLOBAL wsrep_desync=ON: the node reports Donor/Desynced (state 2), as during SST.
    A node desyncs only from Synced in a Primary component: right after a membership change
    Galera refuses (ERROR 1396 "Operation 'desync' failed") until the view settles."""
    poll(
        lambda: node.sql("SET GLOBAL wsrep_desync=ON") is not None,
        timeout=timeout_s,
        what=f"{node.name} to accept wsrep_desync=ON",
        retry_on=(NotReady,),
    )
    try:
        yield
    finally:
        node.sql("SET GLOBAL wsrep_desync=OFF")


@contextmanager
def undone(inject: Callable[[], object], heal: Callable[[], object]) -> Iterator[None]:
    """inject(), the block, then heal() in a finally: every fault's shape."""
    inject()
    try:
        yield
    finally:
        heal()


def drained(node: Node) -> AbstractContextManager[None]:
    """The maintenance switch: clustercheck's drain file makes the node answer 503."""
    return undone(
        lambda: must(node, f"touch {DRAIN_FILE}"), lambda: must(node, f"rm -f {DRAIN_FILE}")
    )


def killed(node: Node) -> AbstractContextManager[None]:
    """SIGKILL; healed by starting the container again (its datadir is kept)."""
    return undone(node.kill, node.start)


def stopped(node: Node) -> AbstractContextManager[None]:
    """A clean shutdown (SIGTERM, then SIGKILL after 10 s), as for maintenance."""
    return undone(node.stop, node.start)


@contextmanager
def restarted(node: Node) -> Iterator[None]:
    """A restart: down and up again at once; the hold is the time to come back."""
    node.container.restart(timeout=10)
    yield


def paused(node: Node) -> AbstractContextManager[None]:
    """docker pause (the cgroup freezer): a node that hangs without dying."""
    return undone(node.pause, node.unpause)


@contextmanager
def firewalled(node: Node, rules: str) -> Iterator[None]:
    """iptables rules (from `firewall`) inside `node`, flushed on heal: no netem and no
    host firewall needed, and the lab owns every rule in its containers."""
    try:
        must(node, rules)
        yield
    finally:
        must(node, firewall.FLUSH)


def isolated(node: Node, peers: Sequence[Node]) -> AbstractContextManager[None]:
    """`node` cut off from `peers` both ways; clients such as HAProxy still reach it."""
    return firewalled(node, firewall.cut_off([peer.ip for peer in peers]))


def deaf(node: Node, peers: Sequence[Node]) -> AbstractContextManager[None]:
    """`node` hears nothing from its peers, while they still hear it."""
    return firewalled(node, firewall.deaf_to([peer.ip for peer in peers]))


def vrrp_cut(node: Node) -> AbstractContextManager[None]:
    """VRRP advertisements dropped both ways on `node`: the pair members stop hearing
    each other and both claim the floating address."""
    return firewalled(node, firewall.protocol_dropped(firewall.VRRP))


def rejected(node: Node, clients: Sequence[Node], port: int) -> AbstractContextManager[None]:
    """`node` refuses `clients` on `port` with a TCP reset, at once (unlike a silent
    partition): new connections are refused and established ones are reset."""
    return firewalled(node, firewall.tcp_reset(port, [client.ip for client in clients]))


def haproxy_killed(node: Node) -> AbstractContextManager[None]:
    """SIGKILL of the HAProxy processes only, on a node where something else is the main
    process (keepalived on a pair member, oxnode-run on a groupware node); healed by
    starting HAProxy again."""
    return undone(lambda: must(node, "pkill -KILL -x haproxy"), lambda: must(node, START_HAPROXY))


def frozen_server(node: Node, process: str = SERVER_PROCESS) -> AbstractContextManager[None]:
    """SIGSTOP the database server inside the node (the container and its other
    processes, such as clustercheck, keep running): a hung mysqld."""
    return undone(
        lambda: must(node, freeze_command(process)), lambda: must(node, thaw_command(process))
    )


@contextmanager
def lying_donor(node: GaleraNode, timeout_s: float = 30.0) -> Iterator[None]:
    """The node's clustercheck passes Donor nodes (Percona's AVAILABLE_WHEN_DONOR=1, set
    in its settings file) while the node is desynced and holds FLUSH TABLES WITH READ
    LOCK, as an rsync donor does during a state transfer: its check says 200 while
    writes on it block. The lock lives in a client session started in the container;
    healing kills that session and lifts the desync."""
    must(node, f"mkdir -p /etc/sysconfig && echo '{LYING_DONOR_LINE}' >> {CLUSTERCHECK_SETTINGS}")
    try:
        with desynced(node, timeout_s):
            lock = f"FLUSH TABLES WITH READ LOCK; SELECT SLEEP(3600) AS {DONOR_LOCK_MARK}"
            node.spawn(f"lab-mysql -e '{lock}'")
            try:
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
    finally:
        must(node, REMOVE_LYING_DONOR)


# the sessions holding the lock (the query that finds them names the mark too); no
# causal wait, so that it answers on a node that has lost the Primary component
DONOR_LOCK_SESSIONS_SQL = (
    "SET SESSION wsrep_sync_wait=0; SELECT id FROM information_schema.processlist "
    f"WHERE info LIKE '%{DONOR_LOCK_MARK}%' AND info NOT LIKE '%processlist%'"
)


def donor_lock_sessions(node: GaleraNode) -> list[str]:
    return node.sql(DONOR_LOCK_SESSIONS_SQL).split()


@contextmanager
def replication_stopped(slave: GtidNode) -> Iterator[None]:
    """The GTID slave receives but does not apply: it lags further every second."""
    slave.sql(slave.dialect.stop_sql_thread)
    try:
        yield
    finally:
        slave.sql(slave.dialect.start_sql_thread)
