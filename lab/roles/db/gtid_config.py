"""Render the guide's GTID master/slave files: /etc/mysql/ox.conf.d/gtid.cnf (the same on
master and slave) and host.cnf (the unique server-id). Pure functions, unit-tested."""

from __future__ import annotations

from lab.plan.flavours import Dialect

READ_ONLY_CNF = "/etc/mysql/ox.conf.d/readonly.cnf"


def render_gtid_cnf(dialect: Dialect) -> str:
    return "\n".join(
        [
            f"# gtid.cnf: GTID replication ({dialect.family} dialect), master and slave alike",
            "[mysqld]",
            *dialect.gtid_cnf,
            "# binary log and crash-safe replication (OX's my.cnf advice)",
            "log_bin = mysql-bin",
            "binlog_format = ROW",
            "sync_binlog = 1",
            "relay_log_recovery = ON",
            "",
        ]
    )


def render_gtid_host_cnf(server_id: int) -> str:
    """The guide: "Use a unique server-id for each server; like 1 for the master, 2 for slave"."""
    return f"# host.cnf: node-local settings\n[mysqld]\nserver_id = {server_id}\n"


def render_read_only_cnf(dialect: Dialect) -> str:
    """Keeps a slave read-only across restarts (written once the slave is set up)."""
    return "[mysqld]\n" + "".join(f"{var} = ON\n" for var in dialect.read_only_vars)
