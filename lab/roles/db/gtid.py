"""The guide's "Master/Slave database setup" with GTIDs as code, step by step, on
`dbmaster` and `dbslave`; plus its "Preparations" path: an existing database set dumped
with mysqldump --databases and restored into the new master."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from docker.models.containers import Container
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from lab.infra.docker_env import RunIdentity
from lab.infra.errors import StartupError
from lab.infra.nodes import Placement, container_spec, copy_file, start_container, with_files
from lab.infra.waiting import poll
from lab.plan.flavours import Dialect, Flavour
from lab.roles.db.galera_config import OX_CONF_D
from lab.roles.db.gtid_config import (
    READ_ONLY_CNF,
    render_gtid_cnf,
    render_gtid_host_cnf,
    render_read_only_cnf,
)
from lab.roles.db.node import HEARTBEAT_LAG_SQL, DbNode, NotReady, mysql_e
from lab.roles.db.storage import DEFAULT_STORAGE, STORAGE_ENV

# The guide's replication user and password.
REPL_USER = "repl"
REPL_PASSWORD = "IvIjyoffod2"
# The "existing installation" of the guide's Preparations section: configdb, oxdb_N.
LEGACY_DATABASES = ("configdb", "oxdb_5", "oxdb_6", "oxdb_7", "oxdb_8")
BACKUP_SQL = "/root/backup.sql"
MASTER_SQL = "/root/master.sql"
CATCH_UP_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class GtidPlan:
    flavour: Flavour
    image: str
    master: str = "dbmaster"
    slave: str = "dbslave"
    max_lag_s: float = 10.0  # replcheck's threshold for taking the slave out of reads
    files: tuple[Placement, ...] = ()  # the operator's .cnf and replcheck settings
    storage: str = DEFAULT_STORAGE  # disk or fast (lab/roles/db/storage.py)


class GtidNode(DbNode):
    """A master or slave, with its server's SQL dialect from the start (MariaDB's and
    Oracle's replication statements differ)."""

    def __init__(self, container: Container, dialect: Dialect) -> None:
        super().__init__(container)
        self.dialect = dialect

    def replica_status(self) -> dict[str, str] | None:
        """SHOW SLAVE/REPLICA STATUS as a dict (None: not a replica)."""
        out = self.exec(["lab-mysql", "-E", "-e", self.dialect.show_replica_status], timeout_s=10)
        if out.exit_code != 0:
            raise NotReady(f"{self.name}: {out.output.strip()}")
        return parse_replica_status(out.output)

    def gtid_position(self) -> str:
        """gtid_current_pos (MariaDB) or gtid_executed (Oracle), whitespace-free."""
        return "".join(self.sql_value(self.dialect.gtid_position_sql).split())


def parse_replica_status(vertical: str) -> dict[str, str] | None:
    """`SHOW SLAVE/REPLICA STATUS` as the mysql client prints it with -E, as one dict in
    the old field names (Slave_IO_Running, Seconds_Behind_Master, Master_User) whatever
    the server called them (MySQL 8.4+: Replica_*, *_Source); None: not a replica. The
    one place the lab reads a replica's status (replcheck, inside the image, has its own)."""
    rows = [line.split(":", 1) for line in vertical.splitlines() if ":" in line]
    status = {
        k.strip().replace("Replica", "Slave").replace("Source", "Master"): v.strip()
        for k, v in rows
        if not k.strip().startswith("*")
    }
    return status or None


class GtidPair:
    def __init__(self, master: GtidNode, slave: GtidNode) -> None:
        self.master = master
        self.slave = slave
        self.nodes = [master, slave]

    @classmethod
    def start(
        cls,
        run: RunIdentity,
        network: Network | None,
        ox_user_host: str,
        plan: GtidPlan,
        progress: Callable[[str], None] = lambda _: None,
    ) -> GtidPair:
        """Both servers and the "existing installation" start at once; the guide's
        steps then run in its order. Raises StartupError naming the step that failed."""
        dialect = plan.flavour.dialect
        started = time.monotonic()
        names = gtid_node_names(plan)
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {
                name: pool.submit(
                    _start_node, gtid_node_spec(run, network, plan, name, server_id), run, dialect
                )
                for name, server_id in names.items()
            }
            nodes = {name: f.result() for name, f in futures.items()}
            list(pool.map(lambda n: n.wait_answering(), nodes.values()))
            master, slave, old = nodes[plan.master], nodes[plan.slave], nodes[LEGACY_NODE]
            progress(f"{plan.master}, {plan.slave} answering in {time.monotonic() - started:.1f}s")
            # "Steps up to here apply to both the designated master and slave": secure
            # them; the existing installation's dump is taken meanwhile (other servers)
            legacy = pool.submit(seed_and_dump_legacy, old, dialect)
            list(pool.map(lambda n: n.secure(dialect, ox_user_host), (master, slave)))
            legacy_dump = legacy.result()
        copy_file(old, legacy_dump, master, "/root/")
        old.container.remove(force=True, v=True)

        # Master setup: replication user for the slave's host only, restore, read-only, dump.
        slave_host = slave.ip
        master.session(
            [
                mysql_e(
                    f"CREATE USER '{REPL_USER}'@'{slave_host}' IDENTIFIED BY '{REPL_PASSWORD}'; "
                    f"GRANT REPLICATION SLAVE ON *.* TO '{REPL_USER}'@'{slave_host}'"
                ),
                f"lab-mysql < {BACKUP_SQL}",
                mysql_e("SET @@global.read_only = ON"),
                f"lab-mysqldump {' '.join(dialect.dump_flags)} > {MASTER_SQL}",
            ]
        )
        copy_file(master, MASTER_SQL, slave, "/root/")

        # Slave setup: source by GTID auto-position, clean binlogs, load the dump, start.
        slave.session(
            [
                mysql_e(dialect.change_source_sql(master.name, REPL_USER, REPL_PASSWORD)),
                mysql_e(dialect.reset_binlogs),
                f"(echo '{dialect.load_dump_prefix}'; cat {MASTER_SQL}) | lab-mysql",
                mysql_e(dialect.start_replica),
            ]
        )

        # Master setup (continued): "Finally, unset read-only on the master".
        master.sql("SET @@global.read_only = OFF")
        # The slave serves reads only: read_only now and after every restart.
        slave.session(
            [
                mysql_e("; ".join(f"SET GLOBAL {var} = ON" for var in dialect.read_only_vars)),
                f"printf '{render_read_only_cnf(dialect)}' > {READ_ONLY_CNF}",
            ]
        )

        pair = cls(master, slave)
        pair.wait_caught_up()
        progress(f"GTID pair replicating in {time.monotonic() - started:.1f}s")
        return pair

    def lag(self) -> Lag:
        status = self.slave.replica_status() or {}
        seconds = status.get("Seconds_Behind_Master", status.get("Seconds_Behind_Source", ""))
        try:
            beat = self.slave.sql_value(HEARTBEAT_LAG_SQL)
        except NotReady:  # no heartbeat table yet
            beat = ""
        return Lag(
            seconds=int(seconds) if seconds.isdigit() else None,
            transactions=transactions_behind(
                self.master.gtid_position(), self.slave.gtid_position()
            ),
            heartbeat_s=float(beat) if beat not in ("", "NULL") else None,
        )

    def wait_caught_up(self, timeout: float = CATCH_UP_TIMEOUT_S) -> str:
        """Poll until both replication threads run and the slave's GTID position equals
        the master's; returns that position."""

        def caught_up() -> str | None:
            status = self.slave.replica_status() or {}
            running = [v for k, v in status.items() if k.endswith(("_IO_Running", "_SQL_Running"))]
            if running != ["Yes", "Yes"]:
                error = status.get("Last_IO_Error") or status.get("Last_SQL_Error")
                if "No" in running and error:  # a stopped thread does not retry: fail now
                    raise StartupError(f"{self.slave.name}: replication stopped: {error}")
                return None
            position = self.master.gtid_position()
            return position if position == self.slave.gtid_position() else None

        return poll(
            caught_up,
            timeout=timeout,
            what=f"{self.slave.name} to catch up with {self.master.name}",
            retry_on=(NotReady,),
        )


@dataclass(frozen=True)
class Lag:
    """How far the slave is behind: pt-heartbeat's lag, the server's own estimate and
    the GTID count."""

    seconds: int | None  # Seconds_Behind_Master/Source; None while a thread is stopped
    transactions: int  # transactions in the master's GTID set missing on the slave
    # pt-heartbeat's: the slave's clock minus the newest heartbeat (what replcheck uses)
    heartbeat_s: float | None = None

    def describe(self) -> str:
        beat = "?" if self.heartbeat_s is None else f"{self.heartbeat_s:.1f}s"
        sbm = "NULL" if self.seconds is None else f"{self.seconds}s"
        return f"pt-heartbeat {beat}, Seconds_Behind_Master {sbm}, {self.transactions} trx"


def _intervals(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(":"):
        low, _, high = part.partition("-")
        out.append((int(low), int(high or low)))
    return out


def transactions_behind(master: str, slave: str) -> int:
    """Transactions of the master's GTID position missing from the slave's.

    MariaDB positions are domain-server-seq per domain ("0-1-41,1-2-5"): the seq_no gap
    per domain. Oracle GTID sets are uuid:interval[:interval] ("u:1-40:45"): the
    transaction ids in the master's intervals not covered by the slave's."""
    if not master:
        return 0
    if "-" in master.split(",")[0] and ":" not in master:  # MariaDB
        slave_seq = {g.split("-")[0]: int(g.split("-")[2]) for g in slave.split(",") if g}
        return sum(
            max(0, int(g.split("-")[2]) - slave_seq.get(g.split("-")[0], 0))
            for g in master.split(",")
            if g
        )
    slave_sets = {}
    for entry in filter(None, slave.split(",")):
        uuid, _, rest = entry.partition(":")
        slave_sets[uuid] = _intervals(rest)
    behind = 0
    for entry in filter(None, master.split(",")):
        uuid, _, rest = entry.partition(":")
        for low, high in _intervals(rest):
            covered = sum(
                max(0, min(high, s_high) - max(low, s_low) + 1)
                for s_low, s_high in slave_sets.get(uuid, [])
            )
            behind += high - low + 1 - covered
    return behind


def gtid_node_spec(
    run: RunIdentity, network: Network | None, plan: GtidPlan, name: str, server_id: int
) -> DockerContainer:
    spec = (
        container_spec(run, network, plan.image, "gtid", name, cap_add=["NET_ADMIN"])
        .with_env("LAB_CHECK", "replcheck")
        .with_env("LAB_SUPERVISE", "1")
        .with_env(STORAGE_ENV, plan.storage)
        .with_env("REPLCHECK_MAX_LAG", f"{plan.max_lag_s:g}")
        .with_copy_into_container(
            render_gtid_cnf(plan.flavour.dialect).encode(), f"{OX_CONF_D}/gtid.cnf"
        )
        .with_copy_into_container(render_gtid_host_cnf(server_id).encode(), f"{OX_CONF_D}/host.cnf")
    )
    return with_files(spec, plan.files)


def _start_node(spec: DockerContainer, run: RunIdentity, dialect: Dialect) -> GtidNode:
    return GtidNode(start_container(spec, run).container, dialect)


# The Preparations section's "existing installation", dumped and then removed.
LEGACY_NODE = "dbold"


def gtid_node_names(plan: GtidPlan) -> dict[str, int]:
    """Node name -> server_id: the guide's pair and the existing installation."""
    return {plan.master: 1, plan.slave: 2, LEGACY_NODE: 3}


def seed_and_dump_legacy(old: DbNode, dialect: Dialect) -> str:
    """Make the "existing installation" (configdb and some oxdb_N with rows), then take
    the guide's Preparations dump of it. Returns the dump's path inside `old`."""
    statements = []
    for db in LEGACY_DATABASES:
        statements += [
            f"CREATE DATABASE {db}",
            f"CREATE TABLE {db}.legacy (id INT PRIMARY KEY, note VARCHAR(64))",
            f"INSERT INTO {db}.legacy VALUES (1, '{db} before the migration'), (2, 'kept')",
        ]
    old.sql("; ".join(statements))
    flags = " ".join(("--databases", *LEGACY_DATABASES, *dialect.legacy_dump_flags))
    old.shell(f"lab-mysqldump {flags} > {BACKUP_SQL}")
    return BACKUP_SQL
