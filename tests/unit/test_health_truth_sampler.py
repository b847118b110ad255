"""The health-truth sampler on its own: a real HTTP server standing in for clustercheck
(the status it answers is the test's to set) and a stand-in SQL connection that commits,
fails or hangs. What it records is what the checker judges, so a sampler that writes
without a 200, forgets the second look after a failed write, or loses the error turns a
lying health check into a pass."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pymysql
import pytest

from lab.chaos.checkers import health_truth
from lab.chaos.checkers.health_truth import PROBE, HealthTruthSampler, Sample, samples_in
from lab.chaos.history import History
from lab.infra.waiting import poll


class Clustercheck:
    """A clustercheck on 127.0.0.1: answers `statuses` in turn (the last one repeats)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.asked = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = owner.statuses[min(owner.asked, len(owner.statuses) - 1)]
                owner.asked += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Database:
    """connect_as_ox's stand-in: records each insert; `error` makes connecting fail."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.statements: list[tuple[str, Any]] = []
        self.connects: list[tuple[str, int, float]] = []

    def connect(self, host: str, port: int, timeout: float = 5.0, **_: Any) -> Any:
        self.connects.append((host, port, timeout))
        if self.error:
            raise self.error
        db = self

        class Connection:
            def __enter__(self) -> Any:
                return self

            def __exit__(self, *_: Any) -> None:
                pass

            def cursor(self) -> Any:
                return self

            def execute(self, sql: str, args: Any = None) -> None:
                db.statements.append((sql, args))

        return Connection()


@pytest.fixture
def check(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clustercheck]:
    server = Clustercheck(200)
    monkeypatch.setattr(health_truth, "CLUSTERCHECK_PORT", server.port)
    yield server
    server.close()


def sampler(monkeypatch: pytest.MonkeyPatch, db: Database) -> HealthTruthSampler:
    monkeypatch.setattr(health_truth, "connect_as_ox", db.connect)
    nodes = [SimpleNamespace(name="galera1", ip="127.0.0.1")]
    return HealthTruthSampler(nodes, History(), deadline_s=3.0)  # type: ignore[arg-type]


def test_a_200_is_followed_by_a_write_on_that_node(
    monkeypatch: pytest.MonkeyPatch, check: Clustercheck
) -> None:
    db = Database()
    s = sampler(monkeypatch, db).sample("galera1", "127.0.0.1")
    assert (s.node, s.status, s.committed, s.error, s.status_after) == ("galera1", 200, True, "", 0)
    assert db.connects == [("127.0.0.1", 3306, 3.0)], "the write goes to the node checked, "
    "bounded by the sampler's deadline"
    [(sql, args)] = db.statements
    assert sql.startswith("INSERT INTO") and args == ("galera1", s.at), (sql, args)
    assert 0 <= s.latency_s < 1.0, s.latency_s


@pytest.mark.parametrize("status", [503, 500, 404])
def test_a_not_ready_answer_is_recorded_without_a_write(
    monkeypatch: pytest.MonkeyPatch, check: Clustercheck, status: int
) -> None:
    check.statuses = [status]
    db = Database()
    s = sampler(monkeypatch, db).sample("galera1", "127.0.0.1")
    assert (s.status, s.committed, s.latency_s) == (status, None, 0.0)
    assert not db.connects, "a node its check calls not ready is not written to"


def test_a_check_that_does_not_answer_is_status_0(monkeypatch: pytest.MonkeyPatch) -> None:
    server = Clustercheck(200)
    server.close()  # nothing listens on its port now
    monkeypatch.setattr(health_truth, "CLUSTERCHECK_PORT", server.port)
    s = sampler(monkeypatch, Database()).sample("galera1", "127.0.0.1")
    assert (s.status, s.committed) == (0, None)


@pytest.mark.parametrize("after", [200, 503])
def test_a_failed_write_asks_the_check_again(
    monkeypatch: pytest.MonkeyPatch, check: Clustercheck, after: int
) -> None:
    """A check is a snapshot: it lies only if it still says 200 once the write failed,
    so the sampler records that second answer, and the error (cut to 100 characters)."""
    check.statuses = [200, after]
    error = pymysql.err.OperationalError(2013, "Lost connection " + "x" * 200)
    s = sampler(monkeypatch, Database(error)).sample("galera1", "127.0.0.1")
    assert (s.status, s.committed, s.status_after) == (200, False, after)
    assert s.error == str(error)[:100] and len(s.error) == 100, s.error
    assert check.asked == 2


def test_an_os_error_while_writing_is_a_failed_write(
    monkeypatch: pytest.MonkeyPatch, check: Clustercheck
) -> None:
    s = sampler(monkeypatch, Database(ConnectionResetError("reset"))).sample("galera1", "127.0.0.1")
    assert (s.status, s.committed, s.error) == (200, False, "reset")


def test_running_records_a_probe_per_sample_until_stopped(
    monkeypatch: pytest.MonkeyPatch, check: Clustercheck
) -> None:
    """Samples are the history's probes of kind clustercheck, each a whole Sample, so
    `lab check` replays them; the sampler stops when its block ends."""
    db = Database()
    s = sampler(monkeypatch, db)
    with s.running():
        poll(lambda: len(s.history.probes) >= 2, timeout=10, what="two samples")
    stopped_at = len(s.history.probes)
    assert all(p["kind"] == PROBE for p in s.history.probes)
    replayed = samples_in(s.history)
    assert len(replayed) == stopped_at and all(isinstance(r, Sample) for r in replayed)
    assert replayed[0].node == "galera1" and replayed[0].committed is True
    assert len(s.history.probes) == stopped_at, "no sample after the block ended"


def test_setup_creates_the_table_the_samples_write(monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database()
    sampler(monkeypatch, db).setup()
    sqls = [sql for sql, _ in db.statements]
    assert sqls[0].startswith("CREATE DATABASE IF NOT EXISTS"), sqls
    assert "CREATE TABLE IF NOT EXISTS" in sqls[1] and ".health" in sqls[1], sqls
