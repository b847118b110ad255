"""Where a scenario runs: the lab's containers (`InLab`) or the operator's own machines
over SSH (`OnHosts`, the control-node way Jepsen runs). A scenario written against a
Place is written once: the same clients, fault, wait and checkers on both; a Place says
only how its nodes are reached, how a fault is made and healed there, and what more it
can show (sysbench beside the clients and HAProxy's log as evidence need the lab's
containers; on hosts the timing is the operator's own, not a profile's)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import pymysql

from lab.chaos.clients.groupware import GroupwareFront
from lab.chaos.clients.sysbench import Sysbench
from lab.chaos.clients.workloads import OX_POOL, ClientKind, InsertWorkload, client_kind
from lab.chaos.history import History
from lab.chaos.nemesis.faults import killed
from lab.chaos.nemesis.hosts import (
    FaultJournal,
    partitioned,
    process_frozen,
    service_killed,
    service_stopped,
)
from lab.chaos.nemesis.schedule import Step, injected
from lab.chaos.report import gap_evidence
from lab.chaos.runner import (
    CONTAINERS,
    HOSTS_PROFILE,
    SETTLE_TIMEOUT_S,
    SSH,
    ChaosRun,
    Where,
    settle,
    stock_clients,
    workload_client,
)
from lab.infra.errors import LabError, find_node, lookup
from lab.infra.remote import Remote
from lab.oxnode.config import PoolSettings
from lab.plan.failover import eviction_of, provider_options
from lab.roles.db.node import OX_DB_PASSWORD, OX_DB_USER, connect_as_ox
from lab.roles.dblb.haproxy_config import READ_PORT, WRITE_PORT
from lab.roles.health import wait_healthy
from lab.roles.system import Lab
from lab.verify.checks.database import wsrep_status
from lab.verify.checks.groupware import names_of
from lab.verify.checks.web import ca_of
from lab.verify.run import verify
from lab.verify.target import Target

Gaps = list[tuple[str, float | None, str]]  # (client, its gap in seconds, what else to know)


class Front(Protocol):
    """The database front end clients connect through (HAProxy's listeners)."""

    @property
    def ip(self) -> str: ...

    def connect(self, write: bool = True, timeout: float = 5.0) -> pymysql.Connection: ...


class Place(Where, Protocol):
    """Where a scenario runs (transport, profile, prepare, settle and injected come
    from run_schedule's Where), and what a scenario asks of it."""

    @property
    def front(self) -> Front:
        """HAProxy's listeners the clients connect through."""
        ...

    login: tuple[str, str]  # the OX database user (the operator's own on their hosts)

    def galera(self) -> Sequence[Remote]: ...

    def writer(self) -> Remote:
        """The Galera node HAProxy's write listener sends connections to now."""
        ...

    def client(self, kind: str | None = None) -> ClientKind:
        """`kind`'s client (None: the one chosen for the run) with OX's pool settings."""
        ...

    def killed(self, node: Remote) -> contextlib.AbstractContextManager[None]: ...

    def eviction_s(self) -> float:
        """How long a silent Galera member stays in the view (its writes may stall)."""
        ...

    def describe_health(self) -> str:
        """One line: what keeps the cluster from healthy right now, or healthy (for a
        run that stalls before its fault: was it the cluster or the clients?)."""
        ...

    def wsrep_status(self, node: Remote) -> dict[str, str]: ...

    def groupware_front(self) -> GroupwareFront:
        """The web front end as browsers reach it, logged in as the test user."""
        ...

    def filestore(self) -> Remote: ...

    def stock(self) -> list[Sysbench]:
        """Stock clients (sysbench) to run beside the scenario's own, where it can."""
        ...

    def explain_gaps(
        self, writer: str, peers: Sequence[Remote], killed_at: float, gaps: Gaps
    ) -> tuple[dict[str, Any] | None, list[str]]:
        """The evidence of a failover and one sentence per cause (none where the place
        cannot read HAProxy's log)."""
        ...


@dataclass
class InLab:
    """The lab's containers: the lab's profile, sysbench beside, HAProxy's log read."""

    lab: Lab
    transport: str = CONTAINERS
    login: tuple[str, str] = (OX_DB_USER, OX_DB_PASSWORD)

    def __post_init__(self) -> None:
        self.profile = self.lab.plan.profile.name

    @property
    def front(self) -> Front:
        assert self.lab.dblb, "a lab with HAProxy in front of its databases"
        return self.lab.dblb

    def galera(self) -> Sequence[Remote]:
        assert self.lab.galera
        return self.lab.galera.nodes

    def writer(self) -> Remote:
        assert self.lab.galera
        return self.lab.galera.node(self.lab.wait_writable())

    def client(self, kind: str | None = None) -> ClientKind:
        return workload_client(self.lab, kind)

    def prepare(self, run: ChaosRun) -> None:
        run.prepare(self.lab)

    def killed(self, node: Remote) -> contextlib.AbstractContextManager[None]:
        return killed(node)  # type: ignore[arg-type]  # a lab node is a container Node

    def settle(self, history: History | None = None) -> None:
        settle(self.lab, history)

    def describe_health(self) -> str:
        return self.lab.describe_health()

    def injected(
        self, step: Step, nodes: Sequence[Any], history: History
    ) -> contextlib.AbstractContextManager[None]:
        return injected(step, nodes, history)

    def eviction_s(self) -> float:
        return self.lab.plan.profile.eviction_s

    def wsrep_status(self, node: Remote) -> dict[str, str]:
        return node.wsrep_status()  # type: ignore[attr-defined, no-any-return]  # a GaleraNode

    def groupware_front(self) -> GroupwareFront:
        assert self.lab.web, "a lab with the guide's front end"
        return GroupwareFront.of(self.lab.web)

    def filestore(self) -> Remote:
        assert self.lab.ox and self.lab.ox.filestore, "a lab with the NFS filestore"
        return self.lab.ox.filestore

    def stock(self) -> list[Sysbench]:
        return stock_clients(self.lab, reads=False)

    def explain_gaps(
        self, writer: str, peers: Sequence[Remote], killed_at: float, gaps: Gaps
    ) -> tuple[dict[str, Any] | None, list[str]]:
        assert self.lab.dblb
        evidence = gap_evidence.collect(self.lab.dblb.serving(), peers, writer, killed_at)  # type: ignore[arg-type]
        return asdict(evidence), gap_evidence.explain(evidence, self.lab.plan.profile, gaps)


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
        return connect_as_ox(
            self.address,
            WRITE_PORT if write else READ_PORT,
            timeout=timeout,
            login=(self.user, self.password),
        )


def health_problems(target: Target) -> list[str]:
    """What the guide's database checks find wrong on the hosts (empty: healthy): the
    same judgment (roles/health.py) the lab makes of its containers."""
    sections = ("galera", "dblb") if target.layout == "galera" else ("gtid",)
    return [r.line() for r in verify(target, sections).failed]


def settled(target: Target, not_before: float = 0.0) -> None:
    """Healthy again after the fault, before the final read (seen at `not_before`, a
    time.monotonic() moment, or later: runner.settle says why)."""
    wait_healthy(
        lambda: health_problems(target),
        timeout=SETTLE_TIMEOUT_S,
        what="the cluster healthy again after the fault",
        not_before=not_before,
    )


@dataclass
class OnHosts:
    """The operator's machines over SSH: the faults journaled on the control node, the
    clients through the dblb host's own listeners as the operator's OX database user."""

    target: Target
    journal: FaultJournal
    transport: str = SSH
    profile: str = HOSTS_PROFILE
    _eviction_s: float | None = None

    def __post_init__(self) -> None:
        creds = self.target.credentials
        dblb = self.target.role("dblb")[0]
        self.front: Front = HostFront(dblb.address, creds.db_user, creds.db_password)
        self.login = (creds.db_user, creds.db_password)

    def galera(self) -> Sequence[Remote]:
        return self.target.role("galera")

    def writer(self) -> Remote:
        with self.front.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT @@hostname")
            name = str(cur.fetchone()[0])
        for host in self.target.role("galera"):
            if name in names_of(host):
                return host
        raise LabError(f"the write listener answers as {name!r}, which is no galera host")

    def client(self, kind: str | None = None) -> ClientKind:
        return client_kind(kind or OX_POOL, PoolSettings())

    def prepare(self, run: ChaosRun) -> None:
        """Done by run_on_hosts before the scenario (hosts answer, leftovers healed,
        the cluster healthy or Refused)."""

    def killed(self, node: Remote) -> contextlib.AbstractContextManager[None]:
        return service_killed(node, self.journal)  # type: ignore[arg-type]  # an SSH Host

    def settle(self, history: History | None = None) -> None:
        healed = history.last_heal() if history else None
        settled(self.target, healed + self.eviction_s() if healed is not None else 0.0)

    def describe_health(self) -> str:
        return "the hosts: " + ("; ".join(health_problems(self.target)) or "healthy")

    @contextlib.contextmanager
    def injected(self, step: Step, nodes: Sequence[Any], history: History) -> Iterator[None]:
        """The scheduled fault as an SSH host suffers it, journaled on the control node."""
        host = find_node(nodes, step.target, "the hosts under the nemesis")
        peers = [n for n in nodes if n is not host]
        faults: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
            "pause": lambda: process_frozen(host, self.journal),
            "partition": lambda: partitioned(host, peers, self.journal),
            "kill": lambda: service_killed(host, self.journal),
            "stop": lambda: service_stopped(host, self.journal),
        }
        make = lookup(faults, step.fault, "fault on SSH hosts")
        fault = history.fault(step.fault, step.target)
        try:
            with make():
                yield
        finally:
            history.healed(fault)

    def eviction_s(self) -> float:
        """The cluster's own eviction time, from the running options of the first Galera
        host that answers (after a fault, the one it killed may still be starting), read
        once: it is the cluster's setting, which no fault changes."""
        if self._eviction_s is None:
            errors = []
            for host in self.target.role("galera"):
                try:
                    text = host.sql("SELECT @@global.wsrep_provider_options")
                except LabError as exc:
                    errors.append(str(exc))
                    continue
                self._eviction_s = eviction_of(provider_options(text))
                break
            else:
                raise LabError(
                    "no Galera host answers for its provider options: " + "; ".join(errors)
                )
        return self._eviction_s

    def wsrep_status(self, node: Remote) -> dict[str, str]:
        return wsrep_status(node)  # type: ignore[arg-type]  # an SSH Host

    def groupware_front(self) -> GroupwareFront:
        """The operator's front end over HTTPS (their CA), as their test user."""
        web, creds = self.target.role("web")[0], self.target.credentials
        return GroupwareFront(
            f"https://{web.address}", ca_of(self.target), creds.ox_login, creds.ox_password
        )

    def filestore(self) -> Remote:
        return self.target.role("filestore")[0]

    def stock(self) -> list[Sysbench]:
        return []  # sysbench runs in a lab container beside the cluster

    def explain_gaps(
        self, writer: str, peers: Sequence[Remote], killed_at: float, gaps: Gaps
    ) -> tuple[dict[str, Any] | None, list[str]]:
        return None, []


def insert_workloads(
    place: Place, kinds: Sequence[tuple[str, int]], seed: int, history: History
) -> list[InsertWorkload]:
    """One InsertWorkload per client kind (kind, clients), all inserting one sequence of
    numbers into one table through the place's write listener, as its OX user; their
    processes numbered 0, 50, 100... so each kind's figures can be told apart."""
    numbers = itertools.count(1)  # one sequence: the inserts checker sees one table
    workloads = []
    for index, (kind, clients) in enumerate(kinds):
        workload = InsertWorkload(
            place.front,
            clients,
            seed,
            history,
            client=place.client(kind),
            numbers=numbers,
            login=place.login,
        )
        workload.first_process = 50 * index
        workloads.append(workload)
    return workloads
