"""Lint rules for the groupware nodes (OX's configdb.properties): replication monitor,
socketTimeout against HAProxy's failover, credentials, autoReconnect."""

from __future__ import annotations

from collections.abc import Iterator

from lab.operator.lint.dblb import mark_down
from lab.operator.lint.engine import ERROR, WARNING, Finding, LintContext, jdbc_settings, register
from lab.roles.db.node import OX_DB_PASSWORD, OX_DB_USER


def ox_replication_monitor(context: LintContext) -> Iterator[Finding]:
    found = context.configdb()
    if not found or context.topology.family != "gtid":
        return
    f, props = found
    read, write = props.get("readUrl"), props.get("writeUrl")
    monitor = props.get("com.openexchange.database.replicationMonitor")
    if (
        read
        and write
        and read.value != write.value
        and monitor
        and monitor.value.lower() == "false"
    ):
        yield Finding(
            "OX001",
            ERROR,
            f.path,
            monitor.line,
            "readUrl and writeUrl differ while replicationMonitor=false",
            'the guide\'s "Read requests": OX then reads from the slave without checking '
            "that it has the write it just made (stale reads after every write)",
            "set com.openexchange.database.replicationMonitor=true",
        )


register(
    "OX001",
    "readUrl and writeUrl differ on asynchronous replication without monitor",
    ox_replication_monitor,
)


def ox_socket_timeout(context: LintContext) -> Iterator[Finding]:
    found = context.configdb()
    haproxy = context.haproxy()
    if not found or not haproxy:
        return
    f, _ = found
    socket_ms, where = context.pool_ms("socketTimeout")
    write = context.listener_on(context.write_port())
    if write is None:
        return
    detection = mark_down(haproxy[1], write).worst_ms
    line = int(where.rsplit(":", 1)[1]) if ":" in where else 1
    if socket_ms == 0:
        yield Finding(
            "OX002",
            WARNING,
            f.path,
            line,
            "socketTimeout=0: OX waits for a dead writer without limit",
            "a query on a connection to a killed server waits until TCP gives up "
            "(minutes) unless HAProxy shuts the session",
            "keep OX's socketTimeout=15000",
        )
    elif socket_ms < detection:
        yield Finding(
            "OX002",
            WARNING,
            f.path,
            line,
            f"socketTimeout {socket_ms} ms is shorter than HAProxy's detection ({detection} ms)",
            "queries fail before HAProxy has moved the writer; OX "
            "reports errors instead of waiting out the failover",
            "raise socketTimeout above inter x fall, or check faster",
        )


register("OX002", "JDBC socketTimeout against HAProxy's failover time", ox_socket_timeout)


def configdb_credentials(context: LintContext) -> Iterator[Finding]:
    found = context.configdb()
    if not found:
        return
    f, props = found
    for s in props.values():
        key, _, value = s.value.partition("=")
        expected = {"user": OX_DB_USER, "password": OX_DB_PASSWORD}.get(key)
        if s.key.startswith(("readProperty.", "writeProperty.")) and expected not in (
            None,
            value,
        ):
            yield Finding(
                "OX003",
                ERROR,
                f.path,
                s.line,
                f"{s.key} {key} differs from the database user the lab creates "
                f"({OX_DB_USER}, password {OX_DB_PASSWORD})",
                "this version of the lab cannot create yours; OX's pool would be refused",
                "use the lab's in the copy you test",
            )


register(
    "OX003",
    "configdb.properties' database user or password other than the lab's",
    configdb_credentials,
    blocks_up=True,
)


def auto_reconnect(context: LintContext) -> Iterator[Finding]:
    found = context.configdb()
    if not found:
        return
    f, props = found
    for s, value in jdbc_settings(props, "autoReconnect"):
        if value.strip().lower() == "true":
            yield Finding(
                "OX004",
                ERROR,
                f.path,
                s.line,
                f"{s.key} sets autoReconnect={value.strip()}",
                "OX's documented default is autoReconnect=false: a reconnect in the middle "
                "of a transaction goes on with its statements on a new connection, outside "
                "the transaction that was rolled back, and the pool never sees the failure",
                "set autoReconnect=false (OX's configdb.properties default)",
            )


register("OX004", "autoReconnect=true in configdb.properties", auto_reconnect)
