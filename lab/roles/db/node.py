"""What every database node shares, whatever its topology: the operator's SQL shell,
the OX user's connection, readiness, and the guide's secure-installation step."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import pymysql

from lab.infra.errors import LabError, StartupError
from lab.infra.nodes import Node
from lab.infra.waiting import poll
from lab.plan.flavours import Dialect
from lab.roles.db.galera_config import SST_PASSWORD, SST_USER

# The guide's OX database user and password (section "Creating Open-Xchange user").
OX_DB_USER = "openexchange"
OX_DB_PASSWORD = "IntyoyntOat1"
ROOT_PASSWORD = "labroot"  # set by the secure-installation step; root stays local-only
CHECK_USER = "clustercheckuser"
CHECK_PASSWORD = "clustercheckpassword!"
HEARTBEAT_SCHEMA = "percona"  # pt-heartbeat's --database: percona.heartbeat
# the slave's lag by pt-heartbeat: its clock (UTC) minus the newest heartbeat another
# server (the master) wrote (pt-heartbeat --utc; --check's --master-server-id, without
# having to know the id); replcheck computes the same (lab/images/db/replcheck.py)
HEARTBEAT_LAG_SQL = (
    "SELECT TIMESTAMPDIFF(MICROSECOND, MAX(ts), UTC_TIMESTAMP(6)) / 1000000 AS lag "
    f"FROM {HEARTBEAT_SCHEMA}.heartbeat WHERE server_id <> @@server_id"
)
MY_CNF = "/root/.my.cnf"  # the guide: credentials in /root/.my.cnf, not on the command line


def mysql_e(statement: str) -> str:
    """`mysql -e '...'` as a shell command line (credentials from /root/.my.cnf)."""
    return f"lab-mysql -e {shlex.quote(statement)}"


class NotReady(LabError):
    """The server does not answer yet (retried while waiting)."""


def connect_as_ox(
    host: str,
    port: int,
    database: str | None = None,
    timeout: float = 5.0,
    login: tuple[str, str] = (OX_DB_USER, OX_DB_PASSWORD),
) -> pymysql.Connection:
    """A client connection as OX makes it: the OX user (or the operator's, `login`),
    autocommit, every wait bounded so a dead or frozen server is an error, not a hang,
    and no TLS, as OX's pool without useSSL=true (dbpool.py). Stated, not left to
    PyMySQL: from 1.2 it tries TLS by default and builds a new SSL context for every
    connection, 20 ms of CPU each (measured), which a storm of reconnects turns into
    a client-side stall no OX node has."""
    user, password = login
    return pymysql.connect(
        host=host,
        port=port,
        user=user,
        password=password,
        database=database,
        connect_timeout=timeout,
        read_timeout=timeout,
        write_timeout=timeout,
        autocommit=True,
        ssl_disabled=True,
    )


class DbNode(Node):
    def sql(self, statement: str, timeout_s: int = 30) -> str:
        """Run SQL as root over the local socket (the operator's `mysql -e`)."""
        result = self.exec(["lab-mysql", "-N", "-B", "-e", statement], timeout_s=timeout_s)
        if result.exit_code != 0:
            raise NotReady(f"{self.name}: {result.output.strip()}")
        return result.output

    def sql_value(self, statement: str) -> str:
        return self.sql(statement).strip()

    def shell(self, script: str, timeout_s: int = 120) -> str:
        """Run a shell command line in the node (the guide's dumps and restores)."""
        result = self.exec(["sh", "-c", script], timeout_s=timeout_s)
        if result.exit_code != 0:
            raise StartupError(f"{self.name}: `{script}` failed: {result.output.strip()[-500:]}")
        return result.output

    def session(self, commands: Sequence[str], timeout_s: int = 120) -> str:
        """An operator's shell session on the node: the commands in their order, in one
        exec (each exec costs a round trip); the first that fails ends it, named."""
        script = "\n".join(
            f"{command} || {{ echo {shlex.quote(f'failed: {command}')} >&2; exit 1; }}"
            for command in commands
        )
        return self.shell(script, timeout_s)

    def connect(self, database: str | None = None, timeout: float = 5.0) -> pymysql.Connection:
        """A connection as the OX user, straight to this node (bypassing HAProxy)."""
        return connect_as_ox(self.ip, 3306, database, timeout)

    def wait_answering(self, timeout: float = 60.0) -> None:
        def answers() -> bool:
            if self.status not in ("running", "created"):
                raise StartupError(f"{self.name} stopped during startup:\n{self.logs(tail=20)}")
            return self.sql_value("SELECT 1") == "1"

        poll(answers, timeout=timeout, what=f"{self.name} to answer SQL", retry_on=(NotReady,))

    def secure(self, dialect: Dialect, ox_user_host: str, create_sst_user: bool = False) -> None:
        """mysql_secure_installation's steps, the users the lab needs, then /root/.my.cnf."""
        self.sql(secure_installation_sql(dialect, create_sst_user))
        self.write_my_cnf()
        self.create_ox_user(dialect, ox_user_host)

    def create_ox_user(self, dialect: Dialect, ox_user_host: str) -> None:
        """The guide's OX user, allowed from the lab network only: made per lab, since
        the network's address is the lab's (a seeded state has every other user)."""
        self.sql(ox_user_sql(dialect, ox_user_host))

    def write_my_cnf(self) -> None:
        self.shell(
            f"printf '[client]\\nuser=root\\npassword={ROOT_PASSWORD}\\n' > {MY_CNF} "
            f"&& chmod 600 {MY_CNF}"
        )


def secure_installation_sql(dialect: Dialect, create_sst_user: bool) -> str:
    """No anonymous users, no remote root, root password set, no test database; then the
    health check's user and, for Galera, the SST user. The same statements secure a lab's
    first node (the guide's path) and the image's seeded cluster state (lab-seed-galera)."""
    statements = [
        # DROP USER for what a SELECT finds: portable across MariaDB and Oracle MySQL
        "SET @drop = (SELECT GROUP_CONCAT(CONCAT(QUOTE(User), '@', QUOTE(Host))) "
        "FROM mysql.user WHERE User = '' OR (User = 'root' "
        "AND Host NOT IN ('localhost', '127.0.0.1', '::1')))",
        "SET @stmt = IF(@drop IS NULL, 'DO 0', CONCAT('DROP USER ', @drop))",
        "PREPARE s FROM @stmt",
        "EXECUTE s",
        "DEALLOCATE PREPARE s",
        dialect.root_password_sql.format(password=ROOT_PASSWORD),
        "DROP DATABASE IF EXISTS test",
        f"CREATE USER '{CHECK_USER}'@'localhost' IDENTIFIED BY '{CHECK_PASSWORD}'",
        f"GRANT {dialect.monitor_privileges} ON *.* TO '{CHECK_USER}'@'localhost'",
        # replcheck reads the replication lag from pt-heartbeat's table
        f"GRANT SELECT ON {HEARTBEAT_SCHEMA}.* TO '{CHECK_USER}'@'localhost'",
    ]
    if create_sst_user:
        statements += [
            f"CREATE USER '{SST_USER}'@'localhost' IDENTIFIED BY '{SST_PASSWORD}'",
            f"GRANT {dialect.sst_privileges} ON *.* TO '{SST_USER}'@'localhost'",
        ]
    statements.append("FLUSH PRIVILEGES")
    return ";\n".join(statements) + ";"


def ox_user_sql(dialect: Dialect, ox_user_host: str) -> str:
    """The OX user: every privilege, from the lab network's hosts only."""
    user = f"'{OX_DB_USER}'@'{ox_user_host}'"
    statements = [
        f"CREATE USER {user} IDENTIFIED BY '{OX_DB_PASSWORD}'",
        f"GRANT ALL PRIVILEGES ON *.* TO {user}",
        *(r.format(user=user) for r in dialect.ox_user_restrictions),
    ]
    return ";\n".join(statements) + ";"


def seed_sql(dialect: Dialect) -> str:
    """What the image's seeded cluster state is made of (lab-seed-galera): the secure
    installation and the SST user, then a clean shutdown."""
    return secure_installation_sql(dialect, create_sst_user=True) + "\nSHUTDOWN;"
