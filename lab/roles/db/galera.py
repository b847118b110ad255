"""The guide's "Galera database setup" as code: nodes configured through
/etc/mysql/ox.conf.d/{ox,wsrep,host}.cnf, the first bootstrapped with --wsrep-new-cluster
and secured, the others joined one at a time, each waited for until Synced."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import docker.errors
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from lab.infra.docker_env import RunIdentity
from lab.infra.errors import ClusterFormationError, StartupError, find_node
from lab.infra.nodes import Placement, container_spec, start_container, with_files
from lab.infra.waiting import poll
from lab.roles.db.diagnosis import FATAL, diagnose
from lab.roles.db.galera_config import (
    DEFAULT_JOIN,
    OX_CONF_D,
    GaleraSettings,
    render_gvwstate,
    render_host_cnf,
    render_wsrep_cnf,
)
from lab.roles.db.node import OX_DB_USER, DbNode, NotReady
from lab.roles.db.storage import DEFAULT_STORAGE, STORAGE_ENV
from lab.roles.health import VERIFY, wsrep_problems

JOIN_TIMEOUT_S = 120.0
# What a server's log says about how it came by its data (MariaDB 10.11 + Galera 26.4)
SERVER_START = re.compile(r"\[Note\] (?:Starting MariaDB|.*mysqld.*starting as process)")
TRANSFER_REQUIRED = re.compile(
    r"State transfer required:\s*Group state: \S+\s*Local state: ([\w-]+):(-?\d+)"
)
# the state the SST script handed over; the joiner's own when the donor chose an IST
# (the script's "bypass"), a new one after a full SST
INSTALLED = re.compile(r"Installed new state from SST: ([\w-]+):(-?\d+)")
IST_DONE = re.compile(r"Receiving IST: \d+ writesets|\bIST completed on joiner")
SST_DONE = re.compile(r"\bSST completed on joiner|SST succeeded for position")
SST_SCRIPT = re.compile(r"wsrep_sst_(\w+) --role 'joiner'")
BOOTSTRAPPED = re.compile(r"gcomm: bootstrapping new group|'wsrep-new-cluster' option used")
VIEW_RESTORED = "restore pc from disk successfully"
# the start is over: no transfer can follow (a restored view is logged before the
# server learns whether it is behind the group)
SYNCED = re.compile(r"Server status change joined -> synced|Synchronized with group")
JOINING = "joining"
STARTING = "server starting"  # the container runs, its server has not logged its start


def settled(joined: str) -> bool:
    """A way in that a later look at the same start cannot change."""
    return joined in ("IST", "bootstrapped", "seeded, no transfer") or joined.startswith("SST")


def how_joined(log: str, start: int = -1) -> str:
    """How one start of the server (default: the latest; 0: the container's first) came
    by its data, from its log: a state transfer (SST with its method, or IST), a
    bootstrap, the lab's seeded view restored, or none."""
    starts = [m.start() for m in SERVER_START.finditer(log)] or [0]
    ends = [*starts[1:], len(log)]
    latest = log[starts[start] : ends[start]]
    required = TRANSFER_REQUIRED.search(latest)
    if required:
        after = latest[required.start() :]
        installed = INSTALLED.search(after)
        if installed:
            bypass = installed.groups() == required.groups()
            script = SST_SCRIPT.search(after)
            return "IST" if bypass else f"SST ({script.group(1)})" if script else "SST"
        if IST_DONE.search(after):
            return "IST"
        if SST_DONE.search(after):
            return "SST"
        return "state transfer running"
    if BOOTSTRAPPED.search(latest):
        return "bootstrapped"
    if VIEW_RESTORED in latest:
        return "seeded, no transfer" if SYNCED.search(latest) else JOINING
    return "none"


class _Stopped(Exception):
    """Another node's failure ended this node's wait (never leaves this module)."""


class GaleraNode(DbNode):
    # how the server of the container's start at this host time came by its data, once
    # that is settled: Docker reads a long-lived node's whole log to answer logs(since=)
    _joined: tuple[float, str] | None = None

    def how_joined(self, start: int = -1) -> str:
        """How the server's latest start (or start number `start` of the container's
        whole log) came by its data. The latest start reads the log since the container
        last started only: a long-lived node's whole log is megabytes of warnings, which
        `lab status` must not read under load."""
        since = self.started_at() if start == -1 else None
        if since is None:
            return how_joined(self.logs(), start)
        if self._joined and self._joined[0] == since:
            return self._joined[1]
        recent = self.logs(since=since)
        if not SERVER_START.search(recent):
            # the container started again, its server not yet (galera_recovery runs
            # first after a crash): the previous start's way in is not this one's
            return STARTING
        joined = how_joined(recent)
        if settled(joined):
            self._joined = (since, joined)  # a start's way in never changes
        return joined

    def require_user(self, user: str) -> None:
        """The user is here: a causal read (wsrep_sync_wait) waits until this node has
        applied every write the cluster committed before it."""
        count = self.sql_value(
            "SET SESSION wsrep_sync_wait = 1; "
            f"SELECT COUNT(*) FROM mysql.user WHERE User = '{user}'"
        )
        if count == "0":
            raise ClusterFormationError(self.name, f"user {user} did not replicate here", "")

    def wsrep_status(self) -> dict[str, str]:
        """`show status like "%wsrep%"`, the guide's key tool, as a dict."""
        out = self.sql("SHOW GLOBAL STATUS LIKE 'wsrep%'", timeout_s=5)
        return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)

    def verification_failures(self, cluster_size: int) -> list[str]:
        """The guide's verification table on this node (roles/health.py, the same
        judgment `lab verify` makes of an operator's host)."""
        return wsrep_problems(self.wsrep_status(), cluster_size)


@dataclass(frozen=True)
class GaleraPlan:
    """How to bring a cluster up; the knobs tests turn to reproduce the guide's mistakes."""

    settings: GaleraSettings
    image: str
    create_sst_user: bool = True
    files: tuple[Placement, ...] = ()  # the operator's .cnf and clustercheck settings
    join: str = DEFAULT_JOIN  # "seeded" or "sst" (the guide's path), see JOIN_MODES
    storage: str = DEFAULT_STORAGE  # disk or fast (lab/roles/db/storage.py)

    @property
    def seeded(self) -> bool:
        return self.join == "seeded"


class GaleraCluster:
    def __init__(self, nodes: list[GaleraNode]) -> None:
        self.nodes = nodes

    def node(self, name: str) -> GaleraNode:
        return find_node(self.nodes, name, "the Galera cluster")

    @classmethod
    def start(
        cls,
        run: RunIdentity,
        network: Network | None,
        ox_user_host: str,
        plan: GaleraPlan,
        progress: Callable[[str], None] = lambda _: None,
    ) -> GaleraCluster:
        """Seeded: every member starts from the image's seeded state at once. SST (the
        guide's path): bootstrap the first member, secure it, then join the others
        serially, each by a full state transfer.

        Raises ClusterFormationError naming the node and the cause (with log excerpt) as
        soon as a node's server stops, instead of waiting for a timeout.
        """
        if plan.seeded:
            return cls._start_seeded(run, network, ox_user_host, plan, progress)
        cluster = cls([])
        members = plan.settings.members
        for index, name in enumerate(members):
            started = time.monotonic()
            node = GaleraNode(
                start_container(galera_node_spec(run, network, plan, index), run).container
            )
            cluster.nodes.append(node)
            cluster.wait_synced(node)
            if index == 0:
                node.secure(plan.settings.flavour.dialect, ox_user_host, plan.create_sst_user)
            else:
                node.write_my_cnf()  # root's password arrived with the state transfer
            verb = "bootstrapped" if index == 0 else "joined"
            progress(f"{name} {verb}, Synced in {time.monotonic() - started:.1f}s")
        return cluster

    @classmethod
    def _start_seeded(
        cls,
        run: RunIdentity,
        network: Network | None,
        ox_user_host: str,
        plan: GaleraPlan,
        progress: Callable[[str], None],
    ) -> GaleraCluster:
        """Every member starts at once from the seeded state and the lab's primary view;
        Galera restores that view when all have met, at the seeded uuid:seqno, so none
        needs a state transfer and none has to wait its turn (the guide joins "serially"
        to protect state transfers). The OX user, whose host is this lab's network, is
        then made on the first and reaches the others."""
        started = time.monotonic()
        specs = [galera_node_spec(run, network, plan, i) for i in range(len(plan.settings.members))]
        cluster = cls([])
        with ThreadPoolExecutor(max_workers=len(specs)) as pool:
            cluster.nodes += pool.map(
                lambda s: GaleraNode(start_container(s, run).container), specs
            )
        cluster.wait_all_synced()
        first = cluster.nodes[0]
        progress(
            f"{', '.join(plan.settings.members)} started from the seeded state, primary view "
            f"restored with no state transfer, all Synced in {time.monotonic() - started:.1f}s"
        )
        first.create_ox_user(plan.settings.flavour.dialect, ox_user_host)
        for node in cluster.nodes[1:]:
            node.require_user(OX_DB_USER)
        return cluster

    def wait_all_synced(self) -> None:
        """Every node Synced, waited for side by side; the first that fails ends the
        others' waits at once (they would wait for a primary view that cannot form)."""
        failed = threading.Event()

        def wait(node: GaleraNode) -> None:
            try:
                self.wait_synced(node, stop=failed)
            except BaseException:
                failed.set()
                raise

        with ThreadPoolExecutor(max_workers=len(self.nodes)) as pool:
            futures = [pool.submit(wait, node) for node in self.nodes]
        errors = [f.exception() for f in futures]
        own = [e for e in errors if e is not None and not isinstance(e, _Stopped)]
        if own:
            raise own[0]

    def wait_synced(
        self,
        node: GaleraNode,
        timeout: float = JOIN_TIMEOUT_S,
        stop: threading.Event | None = None,
    ) -> dict[str, str]:
        """Poll until the node passes the guide's table; a server that stopped or logged a
        fatal error fails at once, with the cause, instead of running out the timeout."""

        def probe() -> dict[str, str] | None:
            if node.status not in ("running", "created") or FATAL.search(node.logs(tail=40)):
                self._raise_formation_error(node)
            if stop is not None and stop.is_set():
                raise _Stopped(node.name)
            status = node.wsrep_status()
            if all(status.get(k) == v for k, v in VERIFY.items()):
                return status
            return None

        try:
            return poll(
                probe,
                timeout=timeout,
                what=f"{node.name} to be Synced",
                retry_on=(NotReady, docker.errors.APIError),
            )
        except StartupError as exc:
            if isinstance(exc, ClusterFormationError):
                raise
            self._raise_formation_error(node, timed_out=True)
            raise  # unreachable: _raise_formation_error always raises

    def _raise_formation_error(self, node: GaleraNode, timed_out: bool = False) -> None:
        logs = {node.name: node.logs(tail=300)}
        logs.update({n.name: n.logs(tail=300) for n in self.nodes if n is not node})
        reason, excerpt = diagnose(logs)
        if timed_out and not excerpt:
            reason = "not Synced and no error logged (is the cluster address reachable?)"
        verb = "bootstrap" if node is self.nodes[0] else "join the cluster"
        when = "within the deadline" if timed_out else f"(container {node.status})"
        raise ClusterFormationError(node.name, f"failed to {verb} {when}: {reason}", excerpt)

    def status_table(self) -> list[dict[str, str]]:
        """The guide's verification table, one row per node (unreachable nodes say so)."""

        # every node at once, and on each node the status query beside the log read: a
        # status page must answer quickly under load
        with ThreadPoolExecutor(max_workers=2 * len(self.nodes) or 1) as pool:

            def row_of(node: GaleraNode) -> dict[str, str]:
                row = {"node": node.name}
                down = node.not_running()
                if down:
                    row["error"] = down
                    return row
                joined = pool.submit(node.how_joined)
                try:
                    status = node.wsrep_status()
                    row.update({k: status.get(k, "?") for k in ("wsrep_cluster_size", *VERIFY)})
                    row["joined by"] = joined.result()
                except (NotReady, StartupError, docker.errors.APIError) as exc:
                    row["error"] = str(exc).splitlines()[0][:100]
                return row

            return list(pool.map(row_of, self.nodes))


def galera_node_spec(
    run: RunIdentity, network: Network | None, plan: GaleraPlan, index: int
) -> DockerContainer:
    """Member `index` of the plan: the first bootstraps, the others join."""
    name = plan.settings.members[index]
    members = plan.settings.members
    gvwstate = render_gvwstate(run.run_id, members, name) if plan.seeded else ""
    spec = (
        container_spec(run, network, plan.image, "galera", name, cap_add=["NET_ADMIN"])
        .with_env("LAB_CHECK", "clustercheck")
        .with_env("LAB_DATADIR", "seeded" if plan.seeded else "fresh")
        .with_env(STORAGE_ENV, plan.storage)
        .with_env("LAB_GVWSTATE", gvwstate)
        .with_env("LAB_BOOTSTRAP", "1" if index == 0 and not plan.seeded else "0")
        .with_env("LAB_BOOTSTRAP_ARGS", " ".join(plan.settings.flavour.galera_bootstrap))
        .with_copy_into_container(
            render_wsrep_cnf(plan.settings).encode(), f"{OX_CONF_D}/wsrep.cnf"
        )
        .with_copy_into_container(
            render_host_cnf(name, index + 1).encode(), f"{OX_CONF_D}/host.cnf"
        )
    )
    return with_files(spec, plan.files)
