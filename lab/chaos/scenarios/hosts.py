"""Chaos scenarios on the operator's hosts, the control-node way Jepsen runs them: the
clients run here and connect to the cluster's own ports with the operator's OX database
user; the faults are commands over SSH (lab/chaos/nemesis/hosts.py); the history, checkers
and report are the container scenarios' own. Only scenarios whose faults an SSH host
supports run here; a refusal, not a guess, when the cluster is unhealthy before."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pymysql

from lab.chaos.checkers.writes import READ_INSERTS
from lab.chaos.clients.groupware import GroupwareFront, GroupwareWorkload
from lab.chaos.clients.workloads import AGGRESSIVE, OX_POOL, InsertWorkload, client_kind
from lab.chaos.history import History, recovery_time
from lab.chaos.nemesis.hosts import (
    FaultJournal,
    heal_pending,
    partitioned,
    process_frozen,
    service_killed,
    service_stopped,
)
from lab.chaos.nemesis.schedule import Schedule
from lab.chaos.runner import ChaosRun, measure, write_gap
from lab.infra.errors import LabError
from lab.infra.hosts.remote import Host
from lab.infra.waiting import poll
from lab.oxnode.config import PoolSettings
from lab.roles.dblb.haproxy_config import READ_PORT, WRITE_PORT
from lab.verify.checks.front import ca_of
from lab.verify.checks.groupware import names_of
from lab.verify.run import verify
from lab.verify.target import Target

SETTLE_TIMEOUT_S = 180.0
WRITES_AFTER = 20  # inserts per client kind on the new writer before the heal
HOLD_S = 8.0  # how long a freeze or partition lasts
CLIENTS = ((OX_POOL, 2), (AGGRESSIVE, 1))


class Refused(LabError):
    """The cluster is not healthy before the fault: no fault is injected."""


@dataclass(frozen=True)
class HostFront:
    """The dblb host's listeners as the workloads' clients reach them."""

    address: str
    user: str
    password: str

    @property
    def ip(self) -> str:
        return self.address

    def connect(self, write: bool = True, timeout: float = 5.0) -> pymysql.Connection:
        return pymysql.connect(
            host=self.address,
            port=WRITE_PORT if write else READ_PORT,
            user=self.user,
            password=self.password,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            autocommit=True,
        )


def health_problems(target: Target) -> list[str]:
    """What the guide's database checks find wrong (empty: healthy)."""
    sections = ("galera", "haproxy") if target.layout == "galera" else ("gtid",)
    return [r.line() for r in verify(target, sections).failed]


def require_healthy(target: Target) -> None:
    problems = health_problems(target)
    if problems:
        raise Refused("refusing to inject faults into an unhealthy cluster: " + "; ".join(problems))


def wait_healthy(target: Target) -> None:
    poll(
        lambda: not health_problems(target),
        timeout=SETTLE_TIMEOUT_S,
        interval=2.0,
        what="the cluster healthy again after the fault",
    )


def writer_of(target: Target, front: HostFront) -> Host:
    """The Galera host HAProxy's write listener sends connections to now."""
    with front.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@hostname")
        name = str(cur.fetchone()[0])
    for host in target.role("galera"):
        if name in names_of(host):
            return host
    raise LabError(f"the write listener answers as {name!r}, which is no galera host")


@contextlib.contextmanager
def inserting(
    front: HostFront, target: Target, seed: int, history: History
) -> Iterator[list[InsertWorkload]]:
    """OX's pool and the aggressive client inserting through the write listener."""
    creds = target.credentials
    numbers = itertools.count(1)
    workloads = []
    for (kind, clients), first in zip(CLIENTS, (0, 50), strict=True):
        workload = InsertWorkload(
            front,
            clients,
            seed,
            history,
            client=client_kind(kind, PoolSettings()),
            numbers=numbers,
            login=(creds.db_user, creds.db_password),
        )
        workload.first_process = first
        workloads.append(workload)
    workloads[0].setup()
    with contextlib.ExitStack() as running:
        for workload in workloads:
            running.enter_context(workload.running())
        poll(lambda: history.acked() > 20, timeout=30, what="inserts to get going")
        yield workloads


def writer_kill(target: Target, seed: int, journal: FaultJournal) -> ChaosRun:
    """SIGKILL of the database service on the Galera host holding HAProxy's write role
    (systemctl kill), while OX's pool and the aggressive client insert: the write gap
    each client saw, and nothing acknowledged lost."""
    dblb = target.role("dblb")[0]
    front = HostFront(dblb.address, target.credentials.db_user, target.credentials.db_password)
    history = History()
    run = ChaosRun("writer-kill", "hosts", Schedule((), seed), history)
    writer = writer_of(target, front)
    with inserting(front, target, seed, history) as workloads:
        fault = history.fault("kill", writer.name)
        with service_killed(writer, journal):
            poll(
                lambda: all(
                    len(on_new_writer(history, writer.name, fault.start, k)) >= WRITES_AFTER
                    for k, _ in CLIENTS
                ),
                timeout=SETTLE_TIMEOUT_S,
                what=f"{WRITES_AFTER} inserts per client kind on another node after "
                f"{writer.name}'s database was killed",
            )
        history.healed(fault)
    wait_healthy(target)
    run.measurements = measure(history)
    for kind, _ in CLIENTS:
        moved = on_new_writer(history, writer.name, fault.start, kind)
        run.probes.append(
            {
                "client": client_kind(kind, PoolSettings()).description,
                "killed": writer.name,
                "new_writer": moved[0].node,
                "write_gap_s": round(write_gap(history, fault.start, writer.name, kind), 3),
                "over": "SSH",
            }
        )
    history.final(READ_INSERTS, sorted(workloads[0].present()))
    run.judge("no-acknowledged-write-lost")
    return run


def on_new_writer(history: History, old: str, since: float, kind: str) -> list:  # type: ignore[type-arg]
    return [
        op
        for op in history.ops
        if op.f == "insert"
        and op.outcome == "ok"
        and op.node not in ("", old)
        and op.start > since
        and history.clients.get(op.process) == kind
    ]


def _held(
    target: Target,
    seed: int,
    journal: FaultJournal,
    name: str,
    fault: str,
    inject: Callable[[Host, list[Host]], contextlib.AbstractContextManager[None]],
) -> ChaosRun:
    """A non-writer Galera host frozen or cut off for HOLD_S while clients insert:
    the others go on, it comes back, nothing acknowledged is lost."""
    dblb = target.role("dblb")[0]
    front = HostFront(dblb.address, target.credentials.db_user, target.credentials.db_password)
    history = History()
    run = ChaosRun(name, "hosts", Schedule((), seed), history)
    writer = writer_of(target, front)
    victim = next(h for h in target.role("galera") if h is not writer)
    peers = [h for h in target.role("galera") if h is not victim]
    with inserting(front, target, seed, history) as workloads:
        event = history.fault(fault, victim.name)
        with inject(victim, peers):
            at = history.now()
            poll(
                lambda: history.now() - at >= HOLD_S,
                timeout=HOLD_S + 5,
                interval=0.2,
                what="the hold",
            )
        history.healed(event)
    wait_healthy(target)
    run.measurements = measure(history)
    history.final(READ_INSERTS, sorted(workloads[0].present()))
    run.judge("no-acknowledged-write-lost")
    return run


def freeze(target: Target, seed: int, journal: FaultJournal) -> ChaosRun:
    return _held(target, seed, journal, "pause", "freeze", lambda h, _: process_frozen(h, journal))


def partition(target: Target, seed: int, journal: FaultJournal) -> ChaosRun:
    return _held(
        target, seed, journal, "partition", "partition", lambda h, p: partitioned(h, p, journal)
    )


def filestore_outage(target: Target, seed: int, journal: FaultJournal) -> ChaosRun:
    """The NFS server stopped (`systemctl stop` on the filestore host) for HOLD_S while
    browsers work through the operator's front end as their test user: file operations
    fail with OX's FLS error, not an internal one; nobody is logged out; afterwards
    uploads work again and every file downloads as it was uploaded. The browsers' files
    and folders stay in the test user's personal folder (chaos-*), as a user's would."""
    web, filestore = target.role("web")[0], target.role("filestore")[0]
    creds = target.credentials
    front = GroupwareFront(
        f"https://{web.address}", ca_of(target), creds.ox_login, creds.ox_password
    )
    workload = GroupwareWorkload(front, clients=4, seed=seed)
    history = workload.history
    run = ChaosRun("filestore-outage", "hosts", Schedule((), seed), history)
    with workload.running():
        poll(lambda: workload.acked("upload") > 3, timeout=60, what="uploads to get going")
        fault = history.fault("stop", filestore.name)
        with service_stopped(filestore, journal):
            at = history.now()
            poll(lambda: history.now() - at >= HOLD_S, timeout=HOLD_S + 5, what="the hold")
        history.healed(fault)
        poll(
            lambda: recovery_time(history, fault, "upload") is not None,
            timeout=SETTLE_TIMEOUT_S,
            what=f"uploads to work again after {filestore.name}'s NFS server started",
        )
    run.measurements = measure(history)
    run.probes.append(
        {
            "stopped": filestore.name,
            "upload_recovery_s": recovery_time(history, fault, "upload"),
            "over": "SSH",
        }
    )
    for checker in ("sessions-kept", "files-intact", "clear-storage-errors"):
        run.judge(checker)
    return run


# scenario name (as `lab chaos list` has it) -> what runs it on hosts and the roles it
# needs beyond the database layout's
HOST_SCENARIOS: dict[str, Callable[[Target, int, FaultJournal], ChaosRun]] = {
    "writer-kill": writer_kill,
    "pause": freeze,
    "partition": partition,
    "filestore-outage": filestore_outage,
}
NEEDS_ROLES = {"filestore-outage": ("web", "groupware", "filestore")}


def run_on_hosts(
    name: str, target: Target, seed: int, journal: FaultJournal, say: Callable[[str], None]
) -> ChaosRun:
    """Heal what an earlier run left (saying so), refuse an unhealthy cluster, run."""
    scenario = HOST_SCENARIOS.get(name)
    if scenario is None:
        raise LabError(
            f"scenario {name!r} needs faults an SSH host does not offer; on hosts: "
            + ", ".join(HOST_SCENARIOS)
        )
    if target.layout != "galera":
        raise LabError(
            f"{name} on hosts needs the Galera layout; {target.source} is {target.layout}"
        )
    missing = [r for r in NEEDS_ROLES.get(name, ()) if not target.role(r)]
    if missing:
        raise LabError(
            f"{name} on hosts needs hosts in {', '.join(missing)}; {target.source} has none"
        )
    target.preflight()
    for line in heal_pending(target.hosts, journal):
        say(line)
    require_healthy(target)
    return scenario(target, seed, journal)
