"""Database access as an OX node does it: configdb read through readUrl and written
through writeUrl; each context's data in its schema on the registered master, read from
the registered slave unless the replication monitor says the slave is behind."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from lab.oxnode.config import ConfigDb, DbAddress
from lab.oxnode.dbpool import Pool, Pools
from lab.oxnode.errors import OXException
from lab.oxnode.replication import ReplicationMonitor, slave_is_current

T = TypeVar("T")
Cursor = Any  # pymysql cursor


@dataclass(frozen=True)
class ContextRoute:
    """Where a context lives: its schema on a write (master) and read (slave) database."""

    cid: int
    schema: str
    write: Pool
    read: Pool | None  # None: no slave registered, reads go to the master

    @property
    def key(self) -> tuple[str, int]:
        return (f"{self.write.address.host}:{self.write.address.port}/{self.schema}", self.cid)


class Databases:
    def __init__(self, configdb: ConfigDb) -> None:
        self.pools = Pools(configdb.user, configdb.password, configdb.pool)
        self.config_read = self.pools.get(DbAddress.from_url(configdb.read_url))
        self.config_write = self.pools.get(DbAddress.from_url(configdb.write_url))
        # the monitor is active only where reads and writes go to different databases
        self.monitor = ReplicationMonitor(
            configdb.replication_monitor and configdb.read_url != configdb.write_url
        )
        self._routes: dict[int, ContextRoute] = {}
        self._lock = threading.Lock()

    # -- configdb --------------------------------------------------------------------------

    def config_query(
        self, sql: str, args: tuple[object, ...] = (), fresh: bool = False
    ) -> list[tuple[Any, ...]]:
        """A configdb read; `fresh` reads through writeUrl (what was just written)."""
        pool = self.config_write if fresh else self.config_read
        with pool.connection() as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def context_route(self, cid: int) -> ContextRoute:
        with self._lock:
            if cid in self._routes:
                return self._routes[cid]
        sql = (
            "SELECT c.db_schema, w.url, r.url FROM context_server2db_pool c "
            "JOIN db_pool w ON w.db_pool_id = c.write_db_pool_id "
            "LEFT JOIN db_pool r ON r.db_pool_id = c.read_db_pool_id WHERE c.cid = %s"
        )
        rows = self.config_query(sql, (cid,)) or self.config_query(sql, (cid,), fresh=True)
        if not rows:
            raise OXException("CTX-0002", f"Context {cid} does not exist", 200, "USER_INPUT")
        schema, write_url, read_url = rows[0]
        route = ContextRoute(
            cid,
            schema,
            self.pools.get(DbAddress.from_url(write_url)),
            self.pools.get(DbAddress.from_url(read_url)) if read_url else None,
        )
        with self._lock:
            self._routes[cid] = route
        return route

    # -- context data ----------------------------------------------------------------------

    def write(self, cid: int, work: Callable[[Cursor], T]) -> T:
        """Run `work` in a transaction on the master; bump and remember the counter."""
        route = self.context_route(cid)
        with route.write.transaction(route.schema) as cur:
            result = work(cur)
            cur.execute(
                "UPDATE replicationMonitor SET transaction = transaction + 1 WHERE cid = %s",
                (cid,),
            )
            cur.execute("SELECT transaction FROM replicationMonitor WHERE cid = %s", (cid,))
            row = cur.fetchone()
        if row:
            self.monitor.remember(route.key, int(row[0]))
        return result

    def read(self, cid: int, work: Callable[[Cursor], T]) -> T:
        route = self.context_route(cid)
        pool = self._read_pool(route)
        with pool.connection(route.schema) as conn, conn.cursor() as cur:
            return work(cur)

    def _read_pool(self, route: ContextRoute) -> Pool:
        monitor = self.monitor
        if route.read is None or route.read is route.write:
            monitor.count("master_reads_without_slave")
            return route.write
        if not monitor.enabled:
            monitor.count("slave_reads")
            return route.read
        try:
            with route.read.connection(route.schema) as conn, conn.cursor() as cur:
                cur.execute(
                    "SELECT transaction FROM replicationMonitor WHERE cid = %s", (route.cid,)
                )
                row = cur.fetchone()
        except OXException:
            monitor.count("slave_unreachable")
            return route.write
        if slave_is_current(monitor.expected(route.key), int(row[0]) if row else None):
            monitor.count("slave_reads")
            return route.read
        monitor.count("master_instead_of_slave")
        return route.write
