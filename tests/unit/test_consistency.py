"""pt-table-checksum's semantics: a chunk whose row count or checksum differs between
nodes, or that one node lacks, is named by table and primary-key range."""

from __future__ import annotations

from dataclasses import dataclass, field

from lab.chaos.checkers.consistency import check_nodes_consistent
from lab.chaos.history import History
from lab.roles.db.consistency import (
    CHECKSUMS,
    checksum_sql,
    checksum_statements,
    differences,
    node_checksums,
)


def test_only_differing_chunks_are_named_with_their_key_range() -> None:
    nodes = {
        "galera1": {"db.t#0": [1000, 11], "db.t#1": [500, 22], "db.u#0": [3, 5]},
        "galera2": {"db.t#0": [1000, 11], "db.t#1": [500, 23], "db.u#0": [3, 5]},
        "galera3": {"db.t#0": [1000, 11], "db.t#1": [500, 22]},
    }
    found = differences(nodes)
    assert found == [
        "db.t, primary key 1000-1999: galera1: 500 rows, crc 22, galera2: 500 rows, crc 23, "
        "galera3: 500 rows, crc 22",
        "db.u, primary key 0-999: galera1: 3 rows, crc 5, galera2: 3 rows, crc 5, galera3: missing",
    ]


def test_the_checker_forbids_differences_and_says_when_it_compared_nothing() -> None:
    history = History(t0=0.0)
    history.probe(CHECKSUMS, nodes={"a": {"db.t#0": [1, 1]}, "b": {"db.t#0": [1, 2]}})
    verdict = check_nodes_consistent(history)
    assert list(verdict.anomalies) == ["data-differs"] and verdict.stats["nodes"] == 2
    same = History(t0=0.0)
    same.probe(CHECKSUMS, nodes={"a": {"db.t#0": [1, 1]}, "b": {"db.t#0": [1, 1]}})
    assert not check_nodes_consistent(same).anomalies
    assert "not-checksummed" in check_nodes_consistent(History(t0=0.0)).anomalies
    alone = History(t0=0.0)
    alone.probe(CHECKSUMS, nodes={"dbslave": {}})
    assert "single-node" in check_nodes_consistent(alone).anomalies


def test_the_checksum_is_pt_table_checksums_expression() -> None:
    sql = checksum_sql("db", "t", ["id", "v"], "id")
    assert "BIT_XOR(CAST(CRC32(CONCAT_WS('#', `id`, `v`, CONCAT(ISNULL(`id`), ISNULL(`v`))))" in sql
    assert "FLOOR(`id` / 1000) AS chunk" in sql and "COUNT(*)" in sql
    assert "0 AS chunk" in checksum_sql("db", "t", ["a"], None), "no integer key: one chunk"


COLUMNS = (
    "app\tusers\tid\tPRI\tbigint\n"
    "app\tusers\tname\t\tvarchar\n"
    "app\tpairs\ta\tPRI\tint\n"
    "app\tpairs\tb\tPRI\tint\n"
    "app\tcodes\tcode\tPRI\tvarchar\n"
)


def test_every_table_gets_one_checksum_chunked_only_by_a_single_integer_key() -> None:
    users, pairs, codes = checksum_statements(COLUMNS)
    assert users.startswith("SELECT 'app.users', FLOOR(`id` / 1000) AS chunk"), users
    assert "`id`, `name`" in users, "every column, in order, an empty key column included"
    assert "0 AS chunk" in pairs, "a composite key: one chunk"
    assert "0 AS chunk" in codes, "a text key: one chunk"
    assert checksum_statements("") == [], "no user tables, no statements"


@dataclass
class Answers:
    """A node that answers the columns query, then the checksums (with a warning line)."""

    answers: list[str]
    asked: list[str] = field(default_factory=list)

    def sql(self, statement: str, timeout_s: int = 30) -> str:
        self.asked.append(statement)
        return self.answers.pop(0)


def test_a_nodes_checksums_take_two_round_trips_and_name_each_table() -> None:
    node = Answers(
        [COLUMNS, "Warning: using a password\napp.users\t0\t2\t77\napp.users\t1\t1\t5\n"]
    )
    found = node_checksums(node, galera=True)  # type: ignore[arg-type]
    assert found == {"app.users#0": [2, 77], "app.users#1": [1, 5]}, found
    assert len(node.asked) == 2, "one query for the columns, one for every table's checksum"
    assert node.asked[1].startswith("SET SESSION wsrep_sync_wait = 1; "), "Galera: applied first"
    assert node.asked[1].count("SELECT 'app.") == 3, "all three tables in the one session"


def test_a_node_without_user_tables_is_asked_once() -> None:
    node = Answers([""])
    assert node_checksums(node, galera=False) == {}  # type: ignore[arg-type]
    assert len(node.asked) == 1
