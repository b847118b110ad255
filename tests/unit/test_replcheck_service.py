"""replcheck as HAProxy and an operator meet it: each 503 and 200 body word for word (what
`lab status` and HAProxy's log show), its settings, how it asks mysqld (both dialects of
the replica status, pt-heartbeat's table or not) and its answer per path. A stand-in
replaces mysqld; the script is the file that ships in the db image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.image_scripts import load_image_script

rc = load_image_script("replcheck")

RUNNING = {"Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes", "Seconds_Behind_Master": "0"}


def body(replica: dict[str, str] | None, read_only: str | None = "1", **kw: Any) -> str:
    opts = kw.pop("opts", rc.Options())
    return rc.evaluate(replica, read_only, opts, **kw).body()


@pytest.mark.parametrize(
    ("replica", "read_only", "kw", "says"),
    [
        (None, None, {}, "node is not available: cannot query mysqld: no answer\n"),
        (None, None, {"want": "master", "error": "timed out"},
         "master is not available: cannot query mysqld: timed out\n"),
        (None, "OFF", {}, "master is available.\n"),
        (None, "1", {}, "master is not available: read_only is ON: not writable\n"),
        (None, "on", {}, "master is not available: read_only is ON: not writable\n"),
        (None, "0", {"want": "replica"},
         "master is not available: this node is a master, not a replica\n"),
        (RUNNING, "1", {}, "replica is available.\n"),
        ({**RUNNING, "Slave_IO_Running": ""}, "1", {},
         "replica is not available: IO thread is ?\n"),
        ({**RUNNING, "Slave_IO_Running": "No", "Last_IO_Error": "error 1236"}, "1", {},
         "replica is not available: IO thread is No (error 1236)\n"),
        ({**RUNNING, "Slave_SQL_Running": ""}, "1", {},
         "replica is not available: SQL thread is ?\n"),
        ({**RUNNING, "Slave_SQL_Running": "No", "Last_SQL_Error": "dup key"}, "1", {},
         "replica is not available: SQL thread is No (dup key)\n"),
        ({**RUNNING, "Slave_SQL_Running": "No", "Last_SQL_Error": ""}, "1", {},
         "replica is not available: SQL thread is No\n"),
        ({**RUNNING, "Seconds_Behind_Master": "NULL"}, "1", {},
         "replica is not available: replication lag is unknown\n"),
        ({**RUNNING, "Seconds_Behind_Master": ""}, "1", {"heartbeat_s": 12.34},
         "replica is not available: lagging 12.3s behind the master by pt-heartbeat "
         "(max 10s; Seconds_Behind_Master says NULL)\n"),
        ({**RUNNING, "Seconds_Behind_Master": "11"}, "1", {},
         "replica is not available: lagging 11s behind the master (max 10s)\n"),
        ({**RUNNING, "Slave_IO_Running": "Connecting"}, "1", {"heartbeat_s": 2.0},
         "replica is available; IO thread is Connecting: its data is 2.0s old by "
         "pt-heartbeat.\n"),
    ],
)  # fmt: skip
def test_each_state_s_body(
    replica: dict[str, str] | None, read_only: str | None, kw: dict[str, Any], says: str
) -> None:
    assert body(replica, read_only, **kw) == says


def test_settings_by_name_and_their_defaults() -> None:
    assert rc.Options.from_env({}).max_lag_s == 10.0
    opts = rc.Options.from_env({"REPLCHECK_MAX_LAG": "2.5", "CLUSTERCHECK_CONNECT_TIMEOUT": "1"})
    assert (opts.max_lag_s, opts.db.timeout) == (2.5, 1.0)


class Cursor:
    """mysqld's stand-in, DictCursor rows. `dialect`: the statement it knows for the
    replica status; `heartbeat`: pt-heartbeat's lag, or an exception (no table)."""

    def __init__(self, row: dict[str, Any] | None, dialect: str, heartbeat: Any) -> None:
        self.row, self.dialect, self.heartbeat = row, dialect, heartbeat
        self.statements: list[str] = []
        self.last = ""

    def execute(self, sql: str) -> None:
        self.statements.append(sql)
        if "STATUS" in sql and sql != self.dialect:
            raise RuntimeError("You have an error in your SQL syntax")
        if sql == rc.HEARTBEAT_LAG_SQL and isinstance(self.heartbeat, Exception):
            raise self.heartbeat
        self.last = sql

    def fetchone(self) -> Any:
        if "STATUS" in self.last:
            return self.row
        if "@@read_only" in self.last:
            return {"ro": 1}
        return {"lag": self.heartbeat}


class Db:
    def __init__(self, cursor: Cursor | None = None, error: str = "") -> None:
        self.cursor, self.error = cursor, error
        self.dict_rows: bool | None = None

    def query(self, run: Any, dict_rows: bool = False) -> tuple[Any, str]:
        self.dict_rows = dict_rows
        return (None, self.error) if self.cursor is None else (run(self.cursor), "")


def test_query_reads_the_replica_status_read_only_and_heartbeat() -> None:
    row = {"Replica_IO_Running": "Yes", "Seconds_Behind_Source": None, "Channel_Name": ""}
    cur = Cursor(row, "SHOW REPLICA STATUS", 1.25)
    db = Db(cur)
    replica, read_only, error, heartbeat = rc.query(rc.Options(db=db))
    assert replica == {"Replica_IO_Running": "Yes", "Seconds_Behind_Source": "", "Channel_Name": ""}
    assert (read_only, error, heartbeat) == ("1", "", 1.25)
    assert db.dict_rows is True, "rows are read by column name"
    assert cur.statements == [
        "SHOW REPLICA STATUS",
        "SELECT @@read_only AS ro",
        rc.HEARTBEAT_LAG_SQL,
    ]


def test_query_falls_back_to_slave_status_and_no_heartbeat_table() -> None:
    """MariaDB 10.x before 10.5 and older MySQL know only SHOW SLAVE STATUS; a master
    has no row; without percona.heartbeat the lag is Seconds_Behind_Master's."""
    cur = Cursor(None, "SHOW SLAVE STATUS", RuntimeError("Table 'percona.heartbeat' doesn't exist"))
    replica, read_only, error, heartbeat = rc.query(rc.Options(db=Db(cur)))
    assert (replica, read_only, error, heartbeat) == (None, "1", "", None)
    assert cur.statements[:2] == ["SHOW REPLICA STATUS", "SHOW SLAVE STATUS"]


def test_a_heartbeat_table_without_a_master_row_is_no_heartbeat() -> None:
    cur = Cursor(RUNNING, "SHOW REPLICA STATUS", None)
    assert rc.query(rc.Options(db=Db(cur)))[3] is None


def test_query_passes_on_why_mysqld_could_not_be_asked() -> None:
    assert rc.query(rc.Options(db=Db(error="refused"))) == (None, None, "refused", None)


@pytest.mark.parametrize(
    ("path", "code", "says"),
    [
        ("", 200, "replica is available.\n"),
        ("/replica", 200, "replica is available.\n"),
        ("/master", 503, "replica is not available: this node is a replica, not a master\n"),
        ("/other", 404, "unknown path; try /, /master or /replica\n"),
    ],
)
def test_answer_per_path(monkeypatch: pytest.MonkeyPatch, path: str, code: int, says: str) -> None:
    monkeypatch.setattr(rc, "query", lambda opts: (RUNNING, "1", "", None))
    assert rc.answer(path, rc.Options()) == (code, says, {})


def test_answer_passes_heartbeat_error_and_options_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        rc, "query", lambda opts: ({**RUNNING, "Seconds_Behind_Master": "0"}, "1", "", 3.0)
    )
    code, says, _ = rc.answer("", rc.Options(max_lag_s=2))
    assert (code, says) == (
        503,
        "replica is not available: lagging 3.0s behind the master by pt-heartbeat "
        "(max 2s; Seconds_Behind_Master says 0)\n",
    )
    monkeypatch.setattr(rc, "query", lambda opts: (None, None, "timed out", None))
    assert rc.answer("/master", rc.Options())[1] == (
        "master is not available: cannot query mysqld: timed out\n"
    )


def test_main_serves_with_the_sysconfig_file_read_per_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served: dict[str, Any] = {}
    settings = tmp_path / "replcheck"
    monkeypatch.setattr(rc, "serve", lambda name, answer: served.update(name=name, answer=answer))
    monkeypatch.setattr(rc, "SETTINGS_FILE", str(settings))
    seen: list[float] = []
    monkeypatch.setattr(
        rc, "query", lambda opts: seen.append(opts.max_lag_s) or (RUNNING, "1", "", None)
    )
    rc.main()
    assert served["name"] == "replcheck"
    served["answer"]("")
    settings.write_text("REPLCHECK_MAX_LAG=3\n")
    served["answer"]("")
    assert seen == [10.0, 3.0], "an edit of /etc/sysconfig/replcheck counts at the next request"


def test_every_failure_is_named_in_one_line() -> None:
    stopped = {**RUNNING, "Slave_IO_Running": "No", "Slave_SQL_Running": "No"}
    assert body(stopped) == "replica is not available: IO thread is No; SQL thread is No\n"
