"""The groupware node's connection pool against a model of OX's pool (hypothesis'
stateful testing): any sequence of acquires, releases (kept or discarded after an
error), passing time and a database that goes down and comes back. The model is OX's
documented behaviour (configdb.properties): at most maxActive connections out, the next
caller refused after maxWait (here 0: at once) with DBP-0001; the newest idle connection
reused while within maxIdleTime and maxLifeTime (equal counts as within), an expired one
closed instead; a failed connection discarded, never reused, nothing reconnected
(autoReconnect=false); a failure while connecting is DBP-0001 and frees its slot."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import pymysql
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from lab.oxnode import dbpool
from lab.oxnode.config import DbAddress, PoolSettings
from lab.oxnode.errors import OXException
from tests.unit.budget import examples

POOL = PoolSettings(max_active=3, max_wait_ms=0, max_idle_time_ms=1000, max_life_time_ms=5000)


class FakeConnection:
    numbers = itertools.count(1)

    def __init__(self) -> None:
        self.number = next(self.numbers)
        self.closed = False

    def close(self) -> None:
        self.closed = True


class PoolMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = 0.0
        self.down = False
        self._saved = (dbpool.time, dbpool.pymysql.connect)
        dbpool.time = SimpleNamespace(monotonic=lambda: self.clock)  # type: ignore[assignment]
        dbpool.pymysql.connect = self._connect  # type: ignore[assignment]
        self.pool = dbpool.Pool(DbAddress("db", 3306, "configdb"), "u", "p", POOL)
        self.out: list[FakeConnection] = []
        # the model's idle connections, newest last: (connection, opened at, returned at)
        self.idle: list[tuple[FakeConnection, float, float]] = []
        self.opened: dict[int, float] = {}
        self.dead: set[int] = set()  # closed by the pool: never handed out again

    def _connect(self, **_: Any) -> FakeConnection:
        if self.down:
            raise pymysql.err.OperationalError(2003, "Can't connect to MySQL server")
        return FakeConnection()

    def teardown(self) -> None:
        dbpool.time, dbpool.pymysql.connect = self._saved  # type: ignore[assignment]

    @rule()
    def acquire(self) -> None:
        if len(self.out) == POOL.max_active:
            try:
                self.pool.acquire()
            except OXException as exc:
                assert exc.code == "DBP-0001" and "maxActive" in exc.message
                return
            raise AssertionError("a connection beyond maxActive was handed out")
        expected = None
        while self.idle:
            conn, opened, returned = self.idle.pop()
            within = (self.clock - returned) * 1000 <= POOL.max_idle_time_ms and (
                self.clock - opened
            ) * 1000 <= POOL.max_life_time_ms
            if within:
                expected = conn
                break
            self.dead.add(conn.number)
        try:
            got = self.pool.acquire()
        except OXException as exc:
            assert expected is None and self.down, f"refused with a connection to give: {exc}"
            assert exc.code == "DBP-0001"
            return
        assert not self.down or expected is not None, "a new connection while the db is down"
        if expected is not None:
            assert got is expected, "the newest idle connection within its limits is reused"
        else:
            assert got.number not in self.opened, "a new connection is new"
            self.opened[got.number] = self.clock
        assert got.number not in self.dead, "a closed connection was handed out again"
        self.out.append(got)

    @precondition(lambda self: self.out)
    @rule(which=st.integers(0, 10), reusable=st.booleans())
    def release(self, which: int, reusable: bool) -> None:
        conn = self.out.pop(which % len(self.out))
        self.pool.release(conn, reusable)  # type: ignore[arg-type]
        if reusable and len(self.idle) < dbpool.IDLE_POOL_SIZE:
            self.idle.append((conn, self.opened[conn.number], self.clock))
        else:
            self.dead.add(conn.number)

    @rule(ms=st.sampled_from([0, 1, 999, 1000, 1001, 4000, 5001]))
    def time_passes(self, ms: int) -> None:
        self.clock += ms / 1000

    @rule(down=st.booleans())
    def database(self, down: bool) -> None:
        self.down = down

    @invariant()
    def closed_exactly_when_the_model_closed(self) -> None:
        for conn, _, _ in self.idle:
            assert not conn.closed, f"idle connection {conn.number} closed"
        for conn in self.out:
            assert not conn.closed, f"connection {conn.number} closed while handed out"

    @invariant()
    def every_slot_is_accounted_for(self) -> None:
        free = self.pool._active._value  # type: ignore[attr-defined]
        assert free == POOL.max_active - len(self.out), (free, len(self.out))


PoolMachine.TestCase.settings = settings(
    max_examples=examples(150), stateful_step_count=40, deadline=None
)
test_the_pool_behaves_as_oxs_pool = PoolMachine.TestCase
