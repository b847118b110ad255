"""Connection pools per database (OX keeps one per registered db_pool). Every wait is
bounded, so a dead or frozen database is an OX-style error (DBP-0001), not a hang."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pymysql

from lab.oxnode.config import DbAddress, PoolSettings
from lab.oxnode.errors import db_down, pool_exhausted

DEFAULT_POOL = PoolSettings()
IDLE_POOL_SIZE = 8  # connections kept for reuse (OX: maxIdle); more are closed


class Pool:
    """Connections reused as OX's pool does: one idle longer than maxIdleTime or older
    than maxLifeTime is closed instead of handed out; connect and socket timeouts are
    configdb.properties' connectTimeout / socketTimeout; at most maxActive connections
    are handed out at once and a caller waits up to maxWait for one (OX: exhaustedAction
    BLOCK). The chaos workloads use this same pool, so their figures are OX's."""

    def __init__(
        self, address: DbAddress, user: str, password: str, settings: PoolSettings = DEFAULT_POOL
    ) -> None:
        self.address = address
        self.user = user
        self.password = password
        self.settings = settings
        # (connection, opened at, returned at), newest last
        self.idle: queue.LifoQueue[tuple[pymysql.Connection, float, float]] = queue.LifoQueue(
            maxsize=IDLE_POOL_SIZE
        )
        self.opened_at: dict[int, float] = {}
        self.created = 0
        self.discarded = 0  # connections closed after an error (never handed out again)
        self._active = threading.BoundedSemaphore(max(1, settings.max_active))

    def __repr__(self) -> str:
        return f"Pool({self.address.host}:{self.address.port}/{self.address.database})"

    def _open(self) -> pymysql.Connection:
        socket_s = self.settings.socket_timeout_ms / 1000 or None
        try:
            conn = pymysql.connect(
                host=self.address.host,
                port=self.address.port,
                user=self.user,
                password=self.password,
                connect_timeout=self.settings.connect_timeout_ms / 1000,
                read_timeout=socket_s,
                write_timeout=socket_s,
                autocommit=True,
                charset="utf8mb4",
                ssl_disabled=not self.settings.use_ssl,
            )
        except pymysql.err.MySQLError as exc:
            raise db_down(f"{self.address.host}:{self.address.port}", exc.args[-1]) from None
        self.created += 1
        self.opened_at[id(conn)] = time.monotonic()
        return conn

    def _checkout(self) -> pymysql.Connection:
        """The newest idle connection still within maxIdleTime and maxLifeTime, else a
        new one (expired ones are closed, as OX's cleaner does)."""
        now = time.monotonic()
        while True:
            try:
                conn, opened, returned = self.idle.get_nowait()
            except queue.Empty:
                return self._open()
            idle_ms, age_ms = (now - returned) * 1000, (now - opened) * 1000
            if (
                idle_ms <= self.settings.max_idle_time_ms
                and age_ms <= self.settings.max_life_time_ms
            ):
                return conn
            self._close(conn)

    def acquire(self) -> pymysql.Connection:
        """A connection for one unit of work; every acquire is paired with release().
        Waits up to maxWait when maxActive are out (OX's DBP error when it runs out)."""
        if not self._active.acquire(timeout=self.settings.max_wait_ms / 1000):
            raise pool_exhausted(repr(self), self.settings.max_active)
        try:
            return self._checkout()
        except BaseException:
            self._active.release()
            raise

    def release(self, conn: pymysql.Connection, reusable: bool) -> None:
        """Back into the pool, or closed: a connection that failed is discarded, never
        reused, and nothing reconnects it (OX: autoReconnect=false)."""
        try:
            if reusable:
                opened = self.opened_at.get(id(conn), time.monotonic())
                try:
                    self.idle.put_nowait((conn, opened, time.monotonic()))
                except queue.Full:
                    self._close(conn)
            else:
                self.discarded += 1
                self._close(conn)
        finally:
            self._active.release()

    def _close(self, conn: pymysql.Connection) -> None:
        self.opened_at.pop(id(conn), None)
        try:
            conn.close()
        except pymysql.err.Error:
            pass

    def close_idle(self) -> None:
        """Close every idle connection (a workload's end)."""
        while True:
            try:
                conn, _, _ = self.idle.get_nowait()
            except queue.Empty:
                return
            self._close(conn)

    @contextmanager
    def connection(self, schema: str | None = None) -> Iterator[pymysql.Connection]:
        """A pooled connection (schema selected), released when the block ends."""
        conn = self.acquire()
        ok = False
        try:
            if schema or self.address.database:
                conn.select_db(schema or self.address.database)
            yield conn
            ok = True
        except pymysql.err.OperationalError as exc:
            raise db_down(f"{self.address.host}:{self.address.port}", exc.args[-1]) from None
        finally:
            self.release(conn, reusable=ok)

    @contextmanager
    def transaction(self, schema: str | None = None) -> Iterator[pymysql.cursors.Cursor]:
        with self.connection(schema) as conn:
            conn.begin()
            try:
                with conn.cursor() as cur:
                    yield cur
                conn.commit()
            except BaseException:
                conn.rollback()
                raise


class Pools:
    """One pool per (host, port); created on first use, shared by all threads."""

    def __init__(self, user: str, password: str, settings: PoolSettings = DEFAULT_POOL) -> None:
        self.user = user
        self.password = password
        self.settings = settings
        self._pools: dict[tuple[str, int, str], Pool] = {}
        self._lock = threading.Lock()

    def get(self, address: DbAddress) -> Pool:
        key = (address.host, address.port, address.database)
        with self._lock:
            if key not in self._pools:
                self._pools[key] = Pool(address, self.user, self.password, self.settings)
            return self._pools[key]
