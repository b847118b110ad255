"""oxnode's pool reuses connections as OX's does: one idle longer than maxIdleTime or
older than maxLifeTime is closed, not handed out; one that failed is never reused."""

from __future__ import annotations

import time
from typing import Any

import pymysql
import pytest

from lab.oxnode.config import DbAddress, PoolSettings
from lab.oxnode.dbpool import Pool


class FakeConnection:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def select_db(self, db: str) -> None:
        pass


def pool(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> Pool:
    p = Pool(DbAddress("db", 3306, "configdb"), "u", "p", PoolSettings(**settings))
    opened = iter(range(1, 100))
    monkeypatch.setattr(p, "_open", lambda: _opened(p, FakeConnection(next(opened))))
    return p


def _opened(p: Pool, conn: FakeConnection) -> FakeConnection:
    p.opened_at[id(conn)] = time.monotonic()
    return conn


def test_a_connection_within_maxidletime_is_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    p = pool(monkeypatch)
    with p.connection() as first:
        pass
    with p.connection() as second:
        assert second is first, "returned to the pool and handed out again"


def test_a_connection_idle_too_long_is_closed_not_handed_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = pool(monkeypatch, max_idle_time_ms=1000)
    with p.connection() as first:
        pass
    conn, opened, returned = p.idle.get_nowait()
    p.idle.put_nowait((conn, opened, returned - 2.0))  # idle 2 s > maxIdleTime 1 s
    with p.connection() as second:
        assert second is not first and first.closed, "OX closes it instead of using it"


def test_a_connection_older_than_maxlifetime_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    p = pool(monkeypatch, max_life_time_ms=5000)
    with p.connection() as first:
        pass
    conn, opened, returned = p.idle.get_nowait()
    p.idle.put_nowait((conn, opened - 10.0, returned))  # opened 10 s ago > 5 s
    with p.connection() as second:
        assert second is not first and first.closed


def test_a_connection_that_failed_is_discarded(monkeypatch: pytest.MonkeyPatch) -> None:
    p = pool(monkeypatch)
    with pytest.raises(Exception), p.connection() as first:  # noqa: B017 - OX's error type
        raise pymysql.err.OperationalError(2013, "Lost connection")
    assert first.closed and p.idle.empty(), "autoReconnect=false: never handed out again"


def test_at_most_maxactive_are_out_and_a_caller_waits_maxwait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OX's pool blocks at maxActive for maxWait, then fails with its DBP error: a
    failover that leaves every connection hanging exhausts the pool, not the server."""
    from lab.oxnode.errors import OXException

    p = pool(monkeypatch, max_active=2, max_wait_ms=200)
    first, second = p.acquire(), p.acquire()
    started = time.monotonic()
    with pytest.raises(OXException, match="pool exhausted"):
        p.acquire()
    waited = time.monotonic() - started
    assert 0.15 <= waited < 1.0, f"waited {waited:.2f}s; maxWait is 0.2 s"
    p.release(first, reusable=False)
    assert p.acquire() is not first, "a slot freed by a discarded connection is usable"
    assert first.closed and p.discarded == 1
    p.release(second, reusable=True)


@pytest.mark.parametrize(
    ("line", "tls"),
    [
        ("", False),  # OX's configdb.properties says nothing: no TLS, as OX connects
        ("readProperty.11=useSSL=true", True),
        ("readProperty.11=useSSL=TRUE", True),  # Connector/J reads booleans in any case
        ("readProperty.11=useSSL = true ", True),
        ("readProperty.11=useSSL=false", False),
        ("readProperty.11=useSSL=yes", False),  # not a value Connector/J takes as true
    ],
    ids=["absent", "true", "upper", "spaced", "false", "yes"],
)
def test_the_pool_uses_tls_only_where_configdb_properties_asks(
    monkeypatch: pytest.MonkeyPatch, line: str, tls: bool
) -> None:
    """PyMySQL 1.2 tries TLS unless told not to, and builds an SSL context for every
    connection (20 ms of CPU): the pool says what the operator's file says instead."""
    from lab.oxnode.config import ConfigDb, parse_properties

    settings = ConfigDb.from_properties(parse_properties(line)).pool
    asked: dict[str, object] = {}

    def connect(**kwargs: object) -> FakeConnection:
        asked.update(kwargs)
        return FakeConnection(1)

    monkeypatch.setattr(pymysql, "connect", connect)
    Pool(DbAddress("db", 3306, "configdb"), "u", "p", settings)._open()
    assert asked["ssl_disabled"] is (not tls), f"{line!r}: TLS {'on' if tls else 'off'}"


class Clock:
    """dbpool's time.monotonic, set by the test: idle and age are exact."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("idle_ms", "age_ms", "reused"),
    [
        (1000, 0, True),  # idle exactly maxIdleTime: still handed out
        (1001, 0, False),  # just over
        (0, 5000, True),  # exactly maxLifeTime
        (0, 5001, False),
    ],
)
def test_maxidletime_and_maxlifetime_are_inclusive_limits(
    monkeypatch: pytest.MonkeyPatch, idle_ms: int, age_ms: int, reused: bool
) -> None:
    from lab.oxnode import dbpool

    clock = Clock()
    monkeypatch.setattr(dbpool, "time", clock)
    p = pool(monkeypatch, max_idle_time_ms=1000, max_life_time_ms=5000)
    kept = FakeConnection(0)
    p.idle.put_nowait((kept, clock.now - age_ms / 1000, clock.now - idle_ms / 1000))
    conn = p.acquire()
    assert (conn is kept) is reused, f"idle {idle_ms} ms, age {age_ms} ms"
    assert kept.closed is not reused, "one past a limit is closed, as OX's cleaner does"


def test_maxactive_1_lets_one_connection_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """maxActive=1: a second caller waits maxWait and fails; maxActive=0 (nonsense in a
    file) still lets one out rather than none."""
    from lab.oxnode.errors import OXException

    p = pool(monkeypatch, max_active=1, max_wait_ms=50)
    p.acquire()
    with pytest.raises(OXException, match=r"all 1 connections \(maxActive\) in use"):
        p.acquire()
    zero = pool(monkeypatch, max_active=0, max_wait_ms=50)
    zero.acquire()
    with pytest.raises(OXException, match="pool exhausted"):
        zero.acquire()


def _connect_args(monkeypatch: pytest.MonkeyPatch, settings: PoolSettings) -> dict[str, object]:
    asked: dict[str, object] = {}

    def connect(**kwargs: object) -> FakeConnection:
        asked.update(kwargs)
        return FakeConnection(1)

    monkeypatch.setattr(pymysql, "connect", connect)
    p = Pool(DbAddress("db7", 3307, "configdb"), "oxuser", "secret", settings)
    p._close(p._open())
    conn = p._open()
    assert p.created == 2 and id(conn) in p.opened_at, "every opened connection is counted"
    p._close(conn)
    assert conn.closed and not p.opened_at, "a closed connection is forgotten"
    return asked


def test_a_connection_is_opened_with_configdb_properties_timeouts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """connectTimeout and socketTimeout are milliseconds in configdb.properties and
    seconds in PyMySQL; autocommit, as OX's pool hands connections out; utf8mb4."""
    asked = _connect_args(
        monkeypatch, PoolSettings(connect_timeout_ms=1500, socket_timeout_ms=2500)
    )
    assert asked == {
        "host": "db7",
        "port": 3307,
        "user": "oxuser",
        "password": "secret",
        "connect_timeout": 1.5,
        "read_timeout": 2.5,
        "write_timeout": 2.5,
        "autocommit": True,
        "charset": "utf8mb4",
        "ssl_disabled": True,
    }


def test_socket_timeout_0_means_no_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connector/J's socketTimeout=0 waits forever; PyMySQL's None does the same (its 0
    would be a non-blocking socket)."""
    asked = _connect_args(monkeypatch, PoolSettings(socket_timeout_ms=0))
    assert asked["read_timeout"] is None and asked["write_timeout"] is None, asked


def test_a_refused_connection_is_ox_s_db_error_naming_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lab.oxnode.errors import OXException

    def refuse(**_: object) -> None:
        raise pymysql.err.OperationalError(2003, "Can't connect to MySQL server")

    monkeypatch.setattr(pymysql, "connect", refuse)
    p = Pool(DbAddress("db7", 3307, "configdb"), "u", "p", PoolSettings(max_active=1))
    with pytest.raises(OXException) as raised:
        p.acquire()
    assert raised.value.code == "DBP-0001" and raised.value.status == 503, raised.value
    assert raised.value.message == (
        "Cannot get connection to database db7:3307: Can't connect to MySQL server"
    ), raised.value.message
    assert p.created == 0
    monkeypatch.setattr(pymysql, "connect", lambda **_: FakeConnection(2))
    assert p.acquire().number == 2, "a failed connect gives its maxActive slot back"


def test_pools_are_one_per_server_and_database() -> None:
    from lab.oxnode.dbpool import Pools

    settings = PoolSettings(max_active=3)
    pools = Pools("oxuser", "secret", settings)
    a = pools.get(DbAddress("db", 3306, "configdb"))
    assert pools.get(DbAddress("db", 3306, "configdb")) is a, "shared by every thread"
    assert pools.get(DbAddress("db", 3307, "configdb")) is not a
    assert pools.get(DbAddress("db", 3306, "oxdb_5")) is not a
    assert (a.user, a.password, a.settings, a.address.port) == ("oxuser", "secret", settings, 3306)


def test_exhaustion_names_the_pool_and_its_maxactive(monkeypatch: pytest.MonkeyPatch) -> None:
    from lab.oxnode.errors import OXException

    p = pool(monkeypatch, max_active=1, max_wait_ms=10)
    p.acquire()
    with pytest.raises(OXException) as raised:
        p.acquire()
    assert raised.value.message == (
        "Cannot get connection to database Pool(db:3306/configdb): "
        "pool exhausted, all 1 connections (maxActive) in use"
    ), raised.value.message


def test_every_discarded_connection_is_counted_and_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = pool(monkeypatch)
    first, second = p.acquire(), p.acquire()
    p.release(first, reusable=False)
    p.release(second, reusable=False)
    assert (p.discarded, first.closed, second.closed) == (2, True, True)
    assert p.idle.empty()


def test_a_connection_the_pool_did_not_open_is_kept_from_its_return(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A connection released without an open time (opened elsewhere) counts its age from
    its return: reused, not failing on a missing time."""
    p = pool(monkeypatch)
    stranger = FakeConnection(42)
    p._active.acquire()  # as acquire() would have taken its slot
    p.release(stranger, reusable=True)
    assert p.acquire() is stranger


def test_close_idle_closes_every_idle_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    p = pool(monkeypatch)
    conns = [p.acquire() for _ in range(3)]
    for conn in conns:
        p.release(conn, reusable=True)
    p.close_idle()
    assert p.idle.empty() and all(c.closed for c in conns), "a workload's end closes them"


def test_connections_beyond_the_idle_limit_are_closed_on_return(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OX keeps at most maxIdle connections for reuse; one returned beyond that closes."""
    from lab.oxnode.dbpool import IDLE_POOL_SIZE

    p = pool(monkeypatch)
    conns = [p.acquire() for _ in range(IDLE_POOL_SIZE + 1)]
    for conn in conns:
        p.release(conn, reusable=True)
    assert p.idle.qsize() == IDLE_POOL_SIZE
    assert [c.closed for c in conns] == [False] * IDLE_POOL_SIZE + [True]
    assert p.discarded == 0, "closed for room, not for a failure"
