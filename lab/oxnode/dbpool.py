"""Connection pools per database (OX keeps one per registered db_pool). Every wait is
bounded, so a dead or frozen database is an OX-style error (DBP-0001), not a hang."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pymysql

from lab.oxnode.config import DbAddress
from lab.oxnode.errors import db_down

CONNECT_TIMEOUT_S = 3.0
QUERY_TIMEOUT_S = 10.0


class Pool:
    def __init__(self, address: DbAddress, user: str, password: str, size: int = 8) -> None:
        self.address = address
        self.user = user
        self.password = password
        self.idle: queue.LifoQueue[pymysql.Connection] = queue.LifoQueue(maxsize=size)
        self.created = 0

    def __repr__(self) -> str:
        return f"Pool({self.address.host}:{self.address.port}/{self.address.database})"

    def _open(self, database: str | None) -> pymysql.Connection:
        try:
            conn = pymysql.connect(
                host=self.address.host,
                port=self.address.port,
                user=self.user,
                password=self.password,
                database=database,
                connect_timeout=CONNECT_TIMEOUT_S,
                read_timeout=QUERY_TIMEOUT_S,
                write_timeout=QUERY_TIMEOUT_S,
                autocommit=True,
                charset="utf8mb4",
            )
        except pymysql.err.MySQLError as exc:
            raise db_down(f"{self.address.host}:{self.address.port}", exc.args[-1]) from None
        self.created += 1
        return conn

    @contextmanager
    def connection(self, schema: str | None = None) -> Iterator[pymysql.Connection]:
        """A pooled connection (schema selected); broken connections are not returned."""
        try:
            conn = self.idle.get_nowait()
        except queue.Empty:
            conn = self._open(None)
        ok = False
        try:
            if schema or self.address.database:
                conn.select_db(schema or self.address.database)
            yield conn
            ok = True
        except pymysql.err.OperationalError as exc:
            raise db_down(f"{self.address.host}:{self.address.port}", exc.args[-1]) from None
        finally:
            if ok:
                try:
                    self.idle.put_nowait(conn)
                except queue.Full:
                    conn.close()
            else:
                conn.close()

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

    def __init__(self, user: str, password: str) -> None:
        self.user = user
        self.password = password
        self._pools: dict[tuple[str, int, str], Pool] = {}
        self._lock = threading.Lock()

    def get(self, address: DbAddress) -> Pool:
        key = (address.host, address.port, address.database)
        with self._lock:
            if key not in self._pools:
                self._pools[key] = Pool(address, self.user, self.password)
            return self._pools[key]
