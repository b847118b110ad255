"""pt-table-checksum's semantics: a chunk whose row count or checksum differs between
nodes, or that one node lacks, is named by table and primary-key range."""

from __future__ import annotations

from lab.chaos.checkers.consistency import check_nodes_consistent
from lab.chaos.history import History
from lab.roles.db.consistency import CHECKSUMS, checksum_sql, differences


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
