"""Do all database nodes hold the same data? pt-table-checksum's question, answered the
way pt-table-checksum does it, per table and per chunk of the primary key: the row
count and BIT_XOR of CRC32 over each row's columns joined with '#' (NULLs marked), the
checksum expression pt-table-checksum uses.

pt-table-checksum computes the checksum on the source and lets replication re-execute
the statement on each replica. Galera applies row images instead of re-executing
statements, so the replicas would only copy the source's figure; the lab therefore
computes the same chunk checksums on every node itself (after the node has applied
everything: wsrep_sync_wait on Galera, caught up on GTID) and compares them. The same
method serves both topologies, so their verdicts mean the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lab.roles.db.node import DbNode

# pt-heartbeat's percona.heartbeat differs by design (the slave's row is behind by the
# lag): pt-table-checksum's own users skip it too
SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys", "percona")
CHUNK_ROWS = 1000  # primary key values per chunk, as pt-table-checksum's --chunk-size
CHECKSUMS = "checksums"  # the history probe: {"nodes": {node: {"schema.table#chunk": ...}}}


def user_columns(node: DbNode) -> str:
    """Every user table's columns in one query: schema, table, column, key, type rows."""
    listed = ", ".join(f"'{s}'" for s in SYSTEM_SCHEMAS)
    return node.sql(
        "SELECT c.table_schema, c.table_name, c.column_name, c.column_key, c.data_type "
        "FROM information_schema.columns c JOIN information_schema.tables t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        f"WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ({listed}) "
        "ORDER BY c.table_schema, c.table_name, c.ordinal_position"
    )


def checksum_statements(columns: str) -> list[str]:
    """One checksum SELECT per table from user_columns' rows, each row of its answer
    led by the table's name. A table is chunked by its primary key when that key is one
    integer column (pt-table-checksum's chunk index); otherwise it is one chunk."""
    tables: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for line in columns.splitlines():
        fields = line.split("\t")
        if len(fields) == 5:
            schema, table, name, key, data_type = fields
            tables.setdefault((schema, table), []).append((name, key, data_type))
    statements = []
    for (schema, table), rows in tables.items():
        names = [name for name, _, _ in rows]
        keys = [name for name, key, _ in rows if key == "PRI"]
        integer = {name for name, _, data_type in rows if "int" in data_type}
        chunk_key = keys[0] if len(keys) == 1 and keys[0] in integer else None
        statements.append(checksum_sql(schema, table, names, chunk_key))
    return statements


def checksum_sql(schema: str, table: str, columns: Sequence[str], chunk_key: str | None) -> str:
    """pt-table-checksum's per-chunk checksum: COUNT(*) and BIT_XOR(CRC32(CONCAT_WS))."""
    cols = ", ".join(f"`{c}`" for c in columns)
    nulls = ", ".join(f"ISNULL(`{c}`)" for c in columns)
    crc = f"BIT_XOR(CAST(CRC32(CONCAT_WS('#', {cols}, CONCAT({nulls}))) AS UNSIGNED))"
    chunk = f"FLOOR(`{chunk_key}` / {CHUNK_ROWS})" if chunk_key else "0"
    return (
        f"SELECT '{schema}.{table}', {chunk} AS chunk, COUNT(*), COALESCE({crc}, 0) "
        f"FROM `{schema}`.`{table}` "
        "GROUP BY chunk ORDER BY chunk"
    )


def node_checksums(node: DbNode, galera: bool) -> dict[str, list[int]]:
    """{"schema.table#chunk": [rows, checksum]} for every user table on `node`: two
    round trips to the node whatever the number of tables (the columns, then every
    table's checksum in one session, after wsrep_sync_wait on Galera)."""
    statements = checksum_statements(user_columns(node))
    if not statements:
        return {}
    sync = "SET SESSION wsrep_sync_wait = 1; " if galera else ""
    out = node.sql(sync + "; ".join(statements), timeout_s=120)
    found: dict[str, list[int]] = {}
    for line in out.splitlines():
        fields = line.split("\t")
        if len(fields) == 4:
            table, chunk, count, crc = fields
            found[f"{table}#{chunk}"] = [int(count), int(crc)]
    return found


def chunk_range(key: str) -> str:
    """ "db.t#3" -> "db.t, primary key 3000-3999" (how a person finds the rows)."""
    table, _, chunk = key.partition("#")
    if not chunk.isdigit():
        return table
    low = int(chunk) * CHUNK_ROWS
    return f"{table}, primary key {low}-{low + CHUNK_ROWS - 1}"


def differences(per_node: dict[str, dict[str, list[Any]]]) -> list[str]:
    """Every chunk on which the nodes disagree (or that only some nodes have), named by
    table and key range with each node's rows and checksum."""
    keys = sorted({k for chunks in per_node.values() for k in chunks})
    found = []
    for key in keys:
        seen = {
            node: tuple(chunks[key]) if key in chunks else None for node, chunks in per_node.items()
        }
        if len(set(seen.values())) > 1:
            detail = ", ".join(
                f"{node}: " + ("missing" if v is None else f"{v[0]} rows, crc {v[1]}")
                for node, v in seen.items()
            )
            found.append(f"{chunk_range(key)}: {detail}")
    return found
