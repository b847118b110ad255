"""oxnode's pool reuses connections as OX's does: one idle longer than maxIdleTime or
older than maxLifeTime is closed, not handed out; one that failed is never reused."""

from __future__ import annotations

import time

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


def pool(monkeypatch: pytest.MonkeyPatch, **settings: int) -> Pool:
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
