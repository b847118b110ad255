"""Database flavours as data plus dialect: where a flavour's packages come from, which
topologies it runs, and how it spells the guide's steps (datadir initialisation, GTID
settings, replication SQL, dump flags). No Docker here, so the table is unit-testable and
validated before anything starts."""

from __future__ import annotations

from dataclasses import dataclass

from lab.infra.errors import lookup

MARIADB = "mariadb"
ORACLE = "oracle"  # Oracle MySQL and Percona, which follow its dialect


@dataclass(frozen=True)
class Dialect:
    """How one SQL family words the guide's replication steps (MySQL 8.4+ removed
    CHANGE MASTER, START SLAVE, SHOW SLAVE STATUS and RESET MASTER)."""

    family: str
    init_datadir: tuple[str, ...]
    gtid_cnf: tuple[str, ...]
    change_source: str  # format fields: host, user, password
    reset_binlogs: str
    start_replica: str
    stop_replica: str
    show_replica_status: str
    gtid_position_sql: str
    dump_flags: tuple[str, ...]
    legacy_dump_flags: tuple[str, ...]  # the guide's "Preparations" dump, without GTIDs
    load_dump_prefix: str  # run before the dump on the slave, in the same session
    read_only_vars: tuple[str, ...]
    root_password_sql: str  # format field: password
    monitor_privileges: str  # clustercheck/replcheck: status and replica status only
    sst_privileges: str
    ox_user_restrictions: tuple[str, ...]  # format field: user; so read_only binds OX
    delay_sql: str  # format field: seconds (delayed replication, to make lag on purpose)
    stop_sql_thread: str
    start_sql_thread: str
    stop_io_thread: str
    reset_replica_all: str  # forget the source: what a promoted slave runs
    server_process: str  # the server's process name: what `pkill -STOP NAME` matches

    def change_source_sql(self, host: str, user: str, password: str) -> str:
        return self.change_source.format(host=host, user=user, password=password)


MARIADB_DIALECT = Dialect(
    family=MARIADB,
    # the guide: "MariaDB 10.0, 10.1" use mysql_install_db (now mariadb-install-db)
    init_datadir=(
        "mariadb-install-db",
        "--user=mysql",
        "--datadir=/var/lib/mysql",
        "--skip-test-db",
    ),
    # "GTID mode is on by default on MariaDB"
    gtid_cnf=("log_slave_updates = ON",),
    change_source=(
        "CHANGE MASTER TO MASTER_HOST='{host}', MASTER_USER='{user}', "
        "MASTER_PASSWORD='{password}', MASTER_USE_GTID=slave_pos"
    ),
    reset_binlogs="RESET MASTER",
    start_replica="START SLAVE",
    stop_replica="STOP SLAVE",
    show_replica_status="SHOW SLAVE STATUS",
    gtid_position_sql="SELECT @@gtid_current_pos",
    dump_flags=(
        "--all-databases",
        "--triggers",
        "--routines",
        "--events",
        "--master-data",
        "--gtid",
        # mysql.user is a view over mysql.global_priv since 10.4; restoring it over the
        # slave's own fails ("Table 'user' already exists"); users come with global_priv
        "--ignore-table=mysql.user",
    ),
    legacy_dump_flags=(),
    # mariadb-dump does not switch the binlog off: loading must not create slave GTIDs
    load_dump_prefix="SET SESSION sql_log_bin=0;",
    read_only_vars=("read_only",),
    root_password_sql=(
        "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket "
        "OR mysql_native_password USING PASSWORD('{password}')"
    ),
    monitor_privileges="PROCESS, SLAVE MONITOR",
    sst_privileges="RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR",
    # since 10.11 read_only binds everyone without READ_ONLY ADMIN, which ALL includes
    ox_user_restrictions=("REVOKE READ_ONLY ADMIN ON *.* FROM {user}",),
    delay_sql="CHANGE MASTER TO MASTER_DELAY={seconds}",
    stop_sql_thread="STOP SLAVE SQL_THREAD",
    start_sql_thread="START SLAVE SQL_THREAD",
    stop_io_thread="STOP SLAVE IO_THREAD",
    reset_replica_all="RESET SLAVE ALL",
    server_process="mariadbd",
)

ORACLE_DIALECT = Dialect(
    family=ORACLE,
    init_datadir=("mysqld", "--initialize-insecure", "--user=mysql", "--datadir=/var/lib/mysql"),
    gtid_cnf=("log_replica_updates = ON", "enforce_gtid_consistency = ON", "gtid_mode = ON"),
    change_source=(
        "CHANGE REPLICATION SOURCE TO SOURCE_HOST='{host}', SOURCE_USER='{user}', "
        "SOURCE_PASSWORD='{password}', SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1"
    ),
    reset_binlogs="RESET BINARY LOGS AND GTIDS",
    start_replica="START REPLICA",
    stop_replica="STOP REPLICA",
    show_replica_status="SHOW REPLICA STATUS",
    gtid_position_sql="SELECT @@GLOBAL.gtid_executed",
    dump_flags=("--all-databases", "--triggers", "--routines", "--events", "--set-gtid-purged=ON"),
    legacy_dump_flags=("--set-gtid-purged=OFF",),
    load_dump_prefix="",  # the dump sets SQL_LOG_BIN=0 itself with --set-gtid-purged=ON
    read_only_vars=("read_only", "super_read_only"),
    root_password_sql="ALTER USER 'root'@'localhost' IDENTIFIED BY '{password}'",
    monitor_privileges="PROCESS, REPLICATION CLIENT",
    sst_privileges="RELOAD, PROCESS, LOCK TABLES, REPLICATION CLIENT",
    ox_user_restrictions=(),  # super_read_only binds SUPER users too
    delay_sql="CHANGE REPLICATION SOURCE TO SOURCE_DELAY={seconds}",
    stop_sql_thread="STOP REPLICA SQL_THREAD",
    start_sql_thread="START REPLICA SQL_THREAD",
    stop_io_thread="STOP REPLICA IO_THREAD",
    reset_replica_all="RESET REPLICA ALL",
    server_process="mysqld",
)


@dataclass(frozen=True)
class Flavour:
    name: str
    description: str
    dialect: Dialect
    topologies: tuple[str, ...]
    base_image: str  # tag the Dockerfiles' ARG BASE expects
    debian_suite: str = ""  # made by debootstrap when absent; "" = registry image only
    server_packages: tuple[str, ...] = ()
    apt_options: str = ""  # e.g. sid's Release file may be expired
    # the server packages (and what they depend on) come from this suite, pinned below
    # the base suite's (lab/images/db/lab-apt-pin): everything else stays the base's
    pinned_suite: str = ""
    galera_provider: str = "/usr/lib/galera/libgalera_smm.so"
    # How the first node founds a cluster: what MariaDB's galera_new_cluster and PXC's
    # `service mysql bootstrap-pxc` pass to the server (the guide's "bootstrap" step).
    galera_bootstrap: tuple[str, ...] = ("--wsrep-new-cluster",)

    @property
    def from_registry(self) -> bool:
        """Only a registry serves this flavour: used when pullable, skipped otherwise."""
        return not self.debian_suite


MARIADB_PACKAGES = ("mariadb-server", "mariadb-client", "galera-4", "mariadb-backup")

FLAVOURS: dict[str, Flavour] = {
    f.name: f
    for f in (
        Flavour(
            name="mariadb-10.11",
            description="MariaDB 10.11 + galera-4 26.4 from Debian bookworm",
            dialect=MARIADB_DIALECT,
            topologies=("galera", "gtid", "guide", "guide-galera"),
            base_image="debian:bookworm-slim",
            debian_suite="bookworm",
            server_packages=MARIADB_PACKAGES,
        ),
        Flavour(
            name="mariadb-11.8",
            description="MariaDB 11.8 + galera-4 from Debian trixie",
            dialect=MARIADB_DIALECT,
            topologies=("galera", "gtid", "guide", "guide-galera"),
            base_image="debian:trixie-slim",
            debian_suite="trixie",
            server_packages=MARIADB_PACKAGES,
        ),
        Flavour(
            name="mysql-9",
            description="Oracle MySQL 9 (Debian's mysql-server from sid, on trixie)",
            dialect=ORACLE_DIALECT,
            topologies=("gtid", "guide"),
            base_image="debian:trixie-slim",
            debian_suite="trixie",
            pinned_suite="sid",
            server_packages=("mysql-server", "mysql-client"),
            apt_options="-o Acquire::Check-Valid-Until=false",
        ),
        Flavour(
            name="mysql-8.4",
            description="Oracle MySQL 8.4 LTS (registry image mysql:8.4)",
            dialect=ORACLE_DIALECT,
            topologies=("gtid",),
            base_image="mysql:8.4",
        ),
        Flavour(
            name="pxc-8.0",
            description="Percona XtraDB Cluster 8.0 (registry image only)",
            dialect=ORACLE_DIALECT,
            topologies=("galera", "gtid"),
            base_image="percona/percona-xtradb-cluster:8.0",
            galera_provider="/usr/lib64/galera4/libgalera_smm.so",
        ),
    )
}

DEFAULT_FLAVOUR = "mariadb-10.11"


def get_flavour(name: str) -> Flavour:
    return lookup(FLAVOURS, name, "flavour")
