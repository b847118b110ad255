"""Recorded database workloads for chaos runs, through HAProxy's listeners as OX uses
them: several clients sharing OX's connection pool (lab/oxnode/dbpool.py, the pool the
groupware nodes use) with the operator's JDBC settings, every operation recorded in a
History with its outcome. The client kind decides the pool's settings:

  ox-pool     configdb.properties' connectTimeout / socketTimeout / maxIdleTime /
              maxLifeTime / maxActive / maxWait (the operator's, else OX's defaults)
  aggressive  2 s connect and socket timeouts: the lab's first client, kept so operators
              can compare with a client tuned for fast failover

Either way a connection that failed is discarded (autoReconnect=false): the next
operation takes another from the pool, nothing reconnects inside a transaction.

An error is `fail` only when the transaction certainly did not commit: nothing was sent
yet, or the server said it rolled back (deadlock / Galera certification conflict, lock
wait timeout, node not ready). A lost connection after sending is `info`: it may have
committed, and checkers must allow both."""

from __future__ import annotations

import contextlib
import itertools
import random
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import pymysql

from lab.chaos.clients.threads import clients_running
from lab.chaos.history import CONFLICT, History
from lab.infra.errors import LabError
from lab.oxnode.config import DbAddress, PoolSettings
from lab.oxnode.dbpool import Pool
from lab.oxnode.errors import OXException
from lab.roles.db.node import OX_DB_PASSWORD, OX_DB_USER
from lab.roles.dblb.haproxy_config import READ_PORT, WRITE_PORT

DATABASE = "oxlab_chaos"
# MySQL errors, raised by a statement before COMMIT, after which the transaction is
# known to be rolled back or never ran.
ROLLED_BACK = {
    1205,  # ER_LOCK_WAIT_TIMEOUT
    1213,  # ER_LOCK_DEADLOCK: also Galera's certification failure
    1047,  # ER_UNKNOWN_COM_ERROR: WSREP has not yet prepared node for application use
    1180,  # ER_ERROR_DURING_COMMIT
}
DEADLOCK = 1213
# At COMMIT only a certification failure (reported as a deadlock) says for certain that
# the write set was rolled back; 1047 (the node left the Primary component) or 1180
# while committing may come after the write set was replicated and applied elsewhere.
ROLLED_BACK_AT_COMMIT = {DEADLOCK}
RETRY_PAUSE_S = 0.05  # a client's pause after an error, before its next operation
OX_POOL = "ox-pool"
AGGRESSIVE = "aggressive"


@dataclass(frozen=True)
class ClientKind:
    """How a workload's clients talk to the database: a name for reports, the pool's
    settings, and what a person should read into its figures."""

    name: str
    pool: PoolSettings
    description: str


class ClientFront(Protocol):
    """Where the workload's clients connect: HAProxy's listeners (one dblb, the
    keepalived pair's address, an operator's dblb host)."""

    @property
    def ip(self) -> str: ...

    def connect(self, write: bool = True, timeout: float = 5.0) -> pymysql.Connection: ...


def client_kind(name: str, ox_pool: PoolSettings) -> ClientKind:
    """`ox-pool` with the operator's settings (`ox_pool`), or the `aggressive` client."""
    if name == OX_POOL:
        p = ox_pool
        return ClientKind(
            OX_POOL,
            p,
            f"OX's JDBC pool: connectTimeout {p.connect_timeout_ms} ms, socketTimeout "
            f"{p.socket_timeout_ms} ms, maxIdleTime {p.max_idle_time_ms} ms, maxActive "
            f"{p.max_active}, maxWait {p.max_wait_ms} ms, autoReconnect=false",
        )
    if name == AGGRESSIVE:
        return ClientKind(
            AGGRESSIVE,
            PoolSettings(connect_timeout_ms=2000, socket_timeout_ms=2000),
            "aggressive client: 2 s connect and socket timeouts, a new connection "
            f"{RETRY_PAUSE_S * 1000:.0f} ms after every error",
        )
    raise LabError(f"unknown client {name!r}; choose {OX_POOL} or {AGGRESSIVE}")


DEFAULT_CLIENT = client_kind(OX_POOL, PoolSettings())


def outcome_of(code: int, sent: bool, at_commit: bool) -> str:
    """Jepsen's outcome of a failed transaction: `fail` only when it certainly did not
    commit (nothing sent, or a rollback the server reported for certain), else `info`."""
    if not sent:
        return "fail"
    known = ROLLED_BACK_AT_COMMIT if at_commit else ROLLED_BACK
    return "fail" if code in known else "info"


class Workload:
    """Clients running `operation` in a loop until stopped; subclasses define it."""

    name = "workload"
    write_listener = True  # HAProxy's write listener (3306), or the read listener (3307)
    first_process = 0  # client numbers in the history start here (workloads may share one)
    pace_s = 0.0  # least time between one client's operations (0: back to back)

    def __init__(
        self,
        dblb: ClientFront,
        clients: int = 4,
        seed: int = 0,
        history: History | None = None,
        client: ClientKind = DEFAULT_CLIENT,
        login: tuple[str, str] = (OX_DB_USER, OX_DB_PASSWORD),
    ) -> None:
        self.dblb = dblb
        self.login = login  # the OX database user (an operator's own on their hosts)
        self.clients = clients
        self.seed = seed
        self.history = history or History()
        self.client = client
        self._stop = threading.Event()
        self._pool: Pool | None = None

    def pool(self) -> Pool:
        """The clients' shared pool for the listener, made on first use: HAProxy's
        address is fixed then, as the URL in OX's configdb.properties is."""
        if self._pool is None:
            port = WRITE_PORT if self.write_listener else READ_PORT
            self._pool = Pool(DbAddress(self.dblb.ip, port, ""), *self.login, self.client.pool)
        return self._pool

    def setup(self) -> None:
        raise NotImplementedError

    def plan(self, rng: random.Random) -> tuple[str, Any]:
        """The next operation, (f, value), decided before anything is sent."""
        raise NotImplementedError

    def execute(self, cur: pymysql.cursors.Cursor, f: str, value: Any) -> Any:
        """Run the planned operation inside the transaction the caller opens and commits;
        returns the value to record (reads filled in)."""
        raise NotImplementedError

    def _client(self, process: int) -> None:
        rng = random.Random(self.seed * 1000 + process)
        pool = self.pool()
        while not self._stop.is_set():
            f, value = self.plan(rng)
            start = self.history.now()
            sent = at_commit = False
            conn: pymysql.Connection | None = None
            try:
                conn = pool.acquire()
                with conn.cursor() as cur:
                    cur.execute("SELECT @@hostname")
                    node = str(cur.fetchone()[0])
                    sent = True
                    cur.execute("BEGIN")
                    value = self.execute(cur, f, value)
                    at_commit = True
                    cur.execute("COMMIT")
                pool.release(conn, reusable=True)
                self.history.record(process, f, value, start, "ok", node)
                if self.pace_s:
                    self._stop.wait(max(0.0, start + self.pace_s - self.history.now()))
            except _Aborted as aborted:
                assert conn is not None
                pool.release(conn, reusable=_rolled_back(conn))
                error = f"{CONFLICT}{aborted.reason}"
                self.history.record(process, f, value, start, "fail", error=error)
            except (pymysql.err.MySQLError, OSError, OXException, LabError) as exc:
                # OXException: the pool could not connect (nothing sent); LabError:
                # HAProxy's container is down and has no address at all
                code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
                outcome = outcome_of(code, sent, at_commit)
                error = (CONFLICT if code == DEADLOCK else "") + str(exc)[:120]
                self.history.record(process, f, value, start, outcome, error=error)
                # a rollback the server reported leaves a usable connection; any other
                # error discards it (OX: autoReconnect=false)
                reusable = sent and outcome == "fail" and conn is not None and _rolled_back(conn)
                if conn is not None:
                    pool.release(conn, reusable)
                if not reusable:
                    self._stop.wait(RETRY_PAUSE_S)

    @contextmanager
    def running(self) -> Iterator[Workload]:
        processes = [self.first_process + p for p in range(self.clients)]
        for process in processes:
            self.history.clients[process] = self.client.name
        try:
            with clients_running(self._client, ((p,) for p in processes), self._stop):
                yield self
        finally:
            if self._pool is not None:
                self._pool.close_idle()

    def acked(self, f: str | None = None) -> int:
        return self.history.acked(f)

    def _sql(self, statements: list[str]) -> None:
        with self.dblb.connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
            for statement in statements:
                cur.execute(statement)


class _Aborted(Exception):
    """The operation decided to roll back (e.g. insufficient funds): certainly `fail`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _rolled_back(conn: pymysql.Connection) -> bool:
    """ROLLBACK on a connection whose transaction the server aborted: True when the
    connection answered and can go back to the pool."""
    try:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK")
        return True
    except (pymysql.err.MySQLError, OSError):
        return False


class BankWorkload(Workload):
    """Transfers between accounts and reads of all balances: the total is invariant."""

    name = "bank"

    def __init__(
        self,
        dblb: ClientFront,
        clients: int = 4,
        seed: int = 0,
        accounts: int = 5,
        total: int = 500,
        client: ClientKind = DEFAULT_CLIENT,
    ) -> None:
        super().__init__(dblb, clients, seed, client=client)
        self.accounts, self.total = accounts, total

    def setup(self) -> None:
        per = self.total // self.accounts
        rows = ", ".join(f"({i}, {per})" for i in range(self.accounts))
        self._sql(
            [
                f"DROP TABLE IF EXISTS {DATABASE}.bank",
                f"CREATE TABLE {DATABASE}.bank (id INT PRIMARY KEY, balance INT NOT NULL)",
                f"INSERT INTO {DATABASE}.bank VALUES {rows}",
            ]
        )
        self.total = per * self.accounts

    def plan(self, rng: random.Random) -> tuple[str, Any]:
        if rng.random() < 0.3:
            return "read", None
        source, dest = rng.sample(range(self.accounts), 2)
        return "transfer", {"from": source, "to": dest, "amount": rng.randint(1, 10)}

    def execute(self, cur: pymysql.cursors.Cursor, f: str, value: Any) -> Any:
        if f == "read":
            cur.execute(f"SELECT id, balance FROM {DATABASE}.bank")
            return {str(k): int(v) for k, v in cur.fetchall()}
        source, dest, amount = value["from"], value["to"], value["amount"]
        cur.execute(f"SELECT balance FROM {DATABASE}.bank WHERE id = %s FOR UPDATE", (source,))
        if int(cur.fetchone()[0]) < amount:
            raise _Aborted("insufficient funds")
        cur.execute(
            f"UPDATE {DATABASE}.bank SET balance = balance - %s WHERE id = %s", (amount, source)
        )
        cur.execute(
            f"UPDATE {DATABASE}.bank SET balance = balance + %s WHERE id = %s", (amount, dest)
        )
        return value


class ListAppendWorkload(Workload):
    """Jepsen's list-append: transactions of appends and reads over a few keys; every
    value appended to a key is unique, so reads reveal the order of committed writes.
    A key takes at most `appends_per_key` values before a fresh key replaces it."""

    name = "list-append"

    def __init__(
        self,
        dblb: ClientFront,
        clients: int = 4,
        seed: int = 0,
        active_keys: int = 4,
        appends_per_key: int = 32,
        client: ClientKind = DEFAULT_CLIENT,
    ) -> None:
        super().__init__(dblb, clients, seed, client=client)
        self.active_keys = active_keys
        self.appends_per_key = appends_per_key
        self._lock = threading.Lock()
        self._keys = list(range(active_keys))
        self._next_key = active_keys
        self._next_value: dict[int, int] = {}

    def setup(self) -> None:
        self._sql(
            [
                f"DROP TABLE IF EXISTS {DATABASE}.lists",
                f"CREATE TABLE {DATABASE}.lists (k INT PRIMARY KEY, v TEXT NOT NULL)",
            ]
        )

    def plan(self, rng: random.Random) -> tuple[str, Any]:
        return "txn", self._plan(rng)

    def _plan(self, rng: random.Random) -> list[list[Any]]:
        mops: list[list[Any]] = []
        with self._lock:
            for _ in range(rng.randint(1, 4)):
                slot = rng.randrange(self.active_keys)
                key = self._keys[slot]
                if rng.random() < 0.5:
                    mops.append(["r", key, None])
                    continue
                value = self._next_value.get(key, 0) + 1
                self._next_value[key] = value
                mops.append(["append", key, value])
                if value >= self.appends_per_key:
                    self._keys[slot] = self._next_key
                    self._next_key += 1
        return mops

    def execute(self, cur: pymysql.cursors.Cursor, f: str, value: Any) -> Any:
        done = []
        for kind, key, arg in value:
            if kind == "r":
                cur.execute(f"SELECT v FROM {DATABASE}.lists WHERE k = %s", (key,))
                row = cur.fetchone()
                done.append(["r", key, [int(x) for x in row[0].split(",")] if row else []])
            else:
                cur.execute(
                    f"INSERT INTO {DATABASE}.lists (k, v) VALUES (%s, %s) "
                    "ON DUPLICATE KEY UPDATE v = CONCAT(v, ',', VALUES(v))",
                    (key, str(arg)),
                )
                done.append(["append", key, arg])
        return done

    def final_read(self) -> dict[int, list[int]]:
        """Every key's list once the cluster is healthy: the state checkers compare with."""
        with self.dblb.connect() as conn, conn.cursor() as cur:
            cur.execute(f"SELECT k, v FROM {DATABASE}.lists")
            return {int(k): [int(x) for x in v.split(",")] for k, v in cur.fetchall()}


class InsertWorkload(Workload):
    """Inserts of unique numbers through the write listener: each acknowledged number
    must survive (the GTID promotion's RPO check)."""

    name = "insert"

    def __init__(
        self,
        dblb: ClientFront,
        clients: int = 2,
        seed: int = 0,
        history: History | None = None,
        client: ClientKind = DEFAULT_CLIENT,
        numbers: Iterator[int] | None = None,
        login: tuple[str, str] = (OX_DB_USER, OX_DB_PASSWORD),
    ) -> None:
        super().__init__(dblb, clients, seed, history, client, login)
        # workloads inserting into one table side by side share one sequence
        self._numbers = numbers or itertools.count(1)

    def setup(self) -> None:
        self._sql(
            [
                f"DROP TABLE IF EXISTS {DATABASE}.inserts",
                f"CREATE TABLE {DATABASE}.inserts (n INT PRIMARY KEY)",
            ]
        )

    def plan(self, rng: random.Random) -> tuple[str, Any]:
        return "insert", next(self._numbers)

    def execute(self, cur: pymysql.cursors.Cursor, f: str, value: Any) -> Any:
        cur.execute(f"INSERT INTO {DATABASE}.inserts VALUES (%s)", (value,))
        return value

    def present(self) -> set[int]:
        with self.dblb.connect() as conn, conn.cursor() as cur:
            cur.execute(f"SELECT n FROM {DATABASE}.inserts")
            return {int(row[0]) for row in cur.fetchall()}


class CountReads(Workload):
    """Reads through the read listener (OX's readhost): served while the master is gone."""

    name = "count-reads"
    write_listener = False
    first_process = 100

    def setup(self) -> None:
        """Reads what InsertWorkload writes."""

    def plan(self, rng: random.Random) -> tuple[str, Any]:
        return "read", None

    def execute(self, cur: pymysql.cursors.Cursor, f: str, value: Any) -> Any:
        cur.execute(f"SELECT COUNT(*) FROM {DATABASE}.inserts")
        return int(cur.fetchone()[0])


def as_final_read(state: dict[int, list[int]]) -> list[list[Any]]:
    """The final state as one read-only transaction, appended to the history."""
    return [["r", key, values] for key, values in sorted(state.items())]


class Together:
    """Several workloads on one history, run side by side (e.g. one per HAProxy
    instance); the first one's setup prepares the tables they share."""

    def __init__(self, workloads: Sequence[Workload]) -> None:
        self.workloads = workloads
        self.history = workloads[0].history
        for i, workload in enumerate(workloads):
            workload.first_process = 10 * i

    def setup(self) -> None:
        self.workloads[0].setup()

    @contextmanager
    def running(self) -> Iterator[Together]:
        with contextlib.ExitStack() as stack:
            for workload in self.workloads:
                stack.enter_context(workload.running())
            yield self

    def acked(self, f: str | None = None) -> int:
        return self.history.acked(f)
