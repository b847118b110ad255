"""The guide's "Galera database setup" as code: nodes configured through
/etc/mysql/ox.conf.d/{ox,wsrep,host}.cnf, the first bootstrapped with --wsrep-new-cluster
and secured, the others joined one at a time, each waited for until Synced."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import docker.errors
import pymysql
from testcontainers.core.network import Network

from lab.diagnosis import FATAL, diagnose
from lab.docker_env import RunIdentity
from lab.errors import ClusterFormationError, StartupError
from lab.galera_config import (
    OX_CONF_D,
    SST_PASSWORD,
    SST_USER,
    GaleraSettings,
    render_host_cnf,
    render_wsrep_cnf,
)
from lab.nodes import Node, container_spec, start_container
from lab.waiting import poll

# The guide's OX database user and password (section "Creating Open-Xchange user").
OX_DB_USER = "openexchange"
OX_DB_PASSWORD = "IntyoyntOat1"
ROOT_PASSWORD = "labroot"  # set by the secure-installation step; root stays local-only
CLUSTERCHECK_USER = "clustercheckuser"
CLUSTERCHECK_PASSWORD = "clustercheckpassword!"
# The guide's verification table: what every node must show.
VERIFY = {
    "wsrep_cluster_status": "Primary",
    "wsrep_local_state": "4",
    "wsrep_local_state_comment": "Synced",
    "wsrep_ready": "ON",
}
JOIN_TIMEOUT_S = 120.0


def connect_as_ox(
    host: str, port: int, database: str | None = None, timeout: float = 5.0
) -> pymysql.Connection:
    """A client connection as OX makes it: the OX user, autocommit, every wait bounded
    so a dead or frozen server is an error, not a hang."""
    return pymysql.connect(
        host=host,
        port=port,
        user=OX_DB_USER,
        password=OX_DB_PASSWORD,
        database=database,
        connect_timeout=timeout,
        read_timeout=timeout,
        write_timeout=timeout,
        autocommit=True,
    )


class NotReady(Exception):
    """The server does not answer yet (retried while waiting)."""


class GaleraNode(Node):
    def sql(self, statement: str, timeout_s: int = 10) -> str:
        """Run SQL as root over the local socket (the operator's `mysql -e`)."""
        result = self.exec(["mariadb", "-N", "-B", "-e", statement], timeout_s=timeout_s)
        if result.exit_code != 0:
            raise NotReady(f"{self.name}: {result.output.strip()}")
        return result.output

    def wsrep_status(self) -> dict[str, str]:
        """`show status like "%wsrep%"`, the guide's key tool, as a dict."""
        out = self.sql("SHOW GLOBAL STATUS LIKE 'wsrep%'", timeout_s=5)
        return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)

    def connect(self, database: str | None = None, timeout: float = 5.0) -> pymysql.Connection:
        """A connection as the OX user, straight to this node (bypassing HAProxy)."""
        return connect_as_ox(self.ip, 3306, database, timeout)

    def verification_failures(self, cluster_size: int) -> list[str]:
        status = self.wsrep_status()
        expected = {"wsrep_cluster_size": str(cluster_size), **VERIFY}
        return [
            f"{key} is {status.get(key, '?')}, expected {value}"
            for key, value in expected.items()
            if status.get(key) != value
        ]


@dataclass(frozen=True)
class GaleraPlan:
    """How to bring a cluster up; the knobs tests turn to reproduce the guide's mistakes."""

    settings: GaleraSettings
    image: str
    create_sst_user: bool = True


def secure_installation_sql(ox_user_host: str, create_sst_user: bool) -> str:
    """mysql_secure_installation's steps, then the users the guide creates on the first node."""
    statements = [
        # no anonymous users, no remote root, root password set, no test database
        "DELETE FROM mysql.global_priv WHERE User=''",
        "DELETE FROM mysql.global_priv WHERE User='root' "
        "AND Host NOT IN ('localhost', '127.0.0.1', '::1')",
        "FLUSH PRIVILEGES",
        f"ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket "
        f"OR mysql_native_password USING PASSWORD('{ROOT_PASSWORD}')",
        "DROP DATABASE IF EXISTS test",
        "DELETE FROM mysql.db WHERE Db='test' OR Db='test\\_%'",
        # clustercheck's own user: it only needs to read status
        f"CREATE USER '{CLUSTERCHECK_USER}'@'localhost' IDENTIFIED BY '{CLUSTERCHECK_PASSWORD}'",
        f"GRANT PROCESS ON *.* TO '{CLUSTERCHECK_USER}'@'localhost'",
        # the OX database user, from the lab network only
        f"CREATE USER '{OX_DB_USER}'@'{ox_user_host}' IDENTIFIED BY '{OX_DB_PASSWORD}'",
        f"GRANT ALL PRIVILEGES ON *.* TO '{OX_DB_USER}'@'{ox_user_host}'",
    ]
    if create_sst_user:
        statements += [
            f"CREATE USER '{SST_USER}'@'localhost' IDENTIFIED BY '{SST_PASSWORD}'",
            "GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* "
            f"TO '{SST_USER}'@'localhost'",
        ]
    statements.append("FLUSH PRIVILEGES")
    return ";\n".join(statements) + ";"


class GaleraCluster:
    def __init__(self, nodes: list[GaleraNode]) -> None:
        self.nodes = nodes

    def node(self, name: str) -> GaleraNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    @classmethod
    def start(
        cls,
        run: RunIdentity,
        network: Network,
        ox_user_host: str,
        plan: GaleraPlan,
        progress: Callable[[str], None] = lambda _: None,
    ) -> GaleraCluster:
        """Bootstrap the first member, secure it, then join the others serially.

        Raises ClusterFormationError naming the node and the cause (with log excerpt) as
        soon as a node's server stops, instead of waiting for a timeout.
        """
        cluster = cls([])
        members = plan.settings.members
        for index, name in enumerate(members):
            started = time.monotonic()
            node = cluster._start_node(run, network, plan, name, index, bootstrap=index == 0)
            cluster.nodes.append(node)
            cluster._wait_synced(node)
            if index == 0:
                node.sql(secure_installation_sql(ox_user_host, plan.create_sst_user))
            verb = "bootstrapped" if index == 0 else "joined"
            progress(f"{name} {verb}, Synced in {time.monotonic() - started:.1f}s")
        return cluster

    def _start_node(
        self,
        run: RunIdentity,
        network: Network,
        plan: GaleraPlan,
        name: str,
        index: int,
        bootstrap: bool,
    ) -> GaleraNode:
        spec = (
            container_spec(run, network, plan.image, "galera", name, cap_add=["NET_ADMIN"])
            .with_env("LAB_BOOTSTRAP", "1" if bootstrap else "0")
            .with_copy_into_container(
                render_wsrep_cnf(plan.settings).encode(), f"{OX_CONF_D}/wsrep.cnf"
            )
            .with_copy_into_container(
                render_host_cnf(name, index + 1).encode(), f"{OX_CONF_D}/host.cnf"
            )
        )
        return GaleraNode(start_container(spec).container)

    def _wait_synced(self, node: GaleraNode, timeout: float = JOIN_TIMEOUT_S) -> dict[str, str]:
        """Poll until the node passes the guide's table; a server that stopped or logged a
        fatal error fails at once, with the cause, instead of running out the timeout."""

        def probe() -> dict[str, str] | None:
            if node.status not in ("running", "created") or FATAL.search(node.logs(tail=40)):
                self._raise_formation_error(node)
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
        rows = []
        for node in self.nodes:
            row = {"node": node.name}
            try:
                status = node.wsrep_status()
                row.update({k: status.get(k, "?") for k in ("wsrep_cluster_size", *VERIFY)})
            except (NotReady, StartupError, docker.errors.APIError) as exc:
                row["error"] = str(exc).splitlines()[0][:100]
            rows.append(row)
        return rows
