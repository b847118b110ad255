"""Table layouts of configdb and of the context schemas (oxdb_N), named after OX's own
(db_pool, db_cluster, context_server2db_pool, oxfolder_tree, infostore,
replicationMonitor) so an operator recognises them, and the two writes that both the
admin commands and the API make."""

import time
from typing import Any

CONFIGDB_TABLES = (
    "CREATE TABLE server (server_id INT AUTO_INCREMENT PRIMARY KEY, "
    "name VARCHAR(255) NOT NULL UNIQUE)",
    "CREATE TABLE db_pool (db_pool_id INT AUTO_INCREMENT PRIMARY KEY, "
    "name VARCHAR(255) NOT NULL UNIQUE, url VARCHAR(255) NOT NULL, login VARCHAR(128), "
    "password VARCHAR(128), max_units INT NOT NULL DEFAULT 1000)",
    "CREATE TABLE db_cluster (cluster_id INT AUTO_INCREMENT PRIMARY KEY, "
    "write_db_pool_id INT NOT NULL UNIQUE, read_db_pool_id INT NOT NULL DEFAULT 0, "
    "weight INT NOT NULL DEFAULT 100)",
    "CREATE TABLE filestore (id INT AUTO_INCREMENT PRIMARY KEY, "
    "uri VARCHAR(255) NOT NULL UNIQUE, size BIGINT NOT NULL, max_context INT NOT NULL)",
    "CREATE TABLE context (cid INT PRIMARY KEY, name VARCHAR(128) NOT NULL UNIQUE, "
    "enabled TINYINT NOT NULL DEFAULT 1, filestore_id INT NOT NULL, quota_max BIGINT)",
    "CREATE TABLE login2context (login_info VARCHAR(128) PRIMARY KEY, cid INT NOT NULL)",
    "CREATE TABLE context_server2db_pool (cid INT PRIMARY KEY, server_id INT NOT NULL, "
    "read_db_pool_id INT NOT NULL, write_db_pool_id INT NOT NULL, "
    "db_schema VARCHAR(64) NOT NULL)",
    # the lab's session store: every node reads it, so a session survives its node
    "CREATE TABLE sessiond (session_id CHAR(32) PRIMARY KEY, secret CHAR(32) NOT NULL, "
    "cid INT NOT NULL, user_id INT NOT NULL, login VARCHAR(128) NOT NULL, "
    "created_on VARCHAR(64) NOT NULL, created BIGINT NOT NULL)",
)

CONTEXT_TABLES = (
    "CREATE TABLE user (cid INT NOT NULL, id INT NOT NULL, name VARCHAR(128) NOT NULL, "
    "display_name VARCHAR(255), mail VARCHAR(255), password VARCHAR(128) NOT NULL, "
    "is_admin TINYINT NOT NULL DEFAULT 0, PRIMARY KEY (cid, id), UNIQUE (cid, name))",
    "CREATE TABLE oxfolder_tree (cid INT NOT NULL, fuid INT NOT NULL, parent INT NOT NULL, "
    "fname VARCHAR(255) NOT NULL, module VARCHAR(32) NOT NULL, created_from INT NOT NULL, "
    "changing_date BIGINT NOT NULL, PRIMARY KEY (cid, fuid))",
    "CREATE TABLE oxfolder_permissions (cid INT NOT NULL, fuid INT NOT NULL, "
    "permission_id INT NOT NULL, bits INT NOT NULL, PRIMARY KEY (cid, fuid, permission_id))",
    "CREATE TABLE infostore (cid INT NOT NULL, id INT NOT NULL, folder_id INT NOT NULL, "
    "filename VARCHAR(255) NOT NULL, file_size BIGINT NOT NULL, file_md5sum CHAR(32) NOT NULL, "
    "file_store_location VARCHAR(255) NOT NULL, created_by INT NOT NULL, "
    "creating_date BIGINT NOT NULL, PRIMARY KEY (cid, id))",
    "CREATE TABLE sequence_id (cid INT PRIMARY KEY, id INT NOT NULL)",
    # OX's replication monitor: bumped inside every write transaction of the context
    "CREATE TABLE replicationMonitor (cid INT PRIMARY KEY, transaction BIGINT NOT NULL)",
)

# folder permission bits (a simplification of OX's: read, write, admin)
READ, WRITE, ADMIN = 1, 2, 4
INFOSTORE_ROOT = 9  # OX's fixed id of the infostore root folder


def next_id(cur: Any, cid: int) -> int:
    """The context's next object id (OX's sequence_id table), inside the caller's transaction."""
    cur.execute("UPDATE sequence_id SET id = LAST_INSERT_ID(id + 1) WHERE cid = %s", (cid,))
    cur.execute("SELECT LAST_INSERT_ID()")
    return int(cur.fetchone()[0])


def insert_folder(cur: Any, cid: int, fuid: int, parent: int, name: str, owner: int) -> None:
    """An infostore folder, its owner holding every right."""
    cur.execute(
        "INSERT INTO oxfolder_tree VALUES (%s, %s, %s, %s, 'infostore', %s, %s)",
        (cid, fuid, parent, name, owner, int(time.time() * 1000)),
    )
    cur.execute(
        "INSERT INTO oxfolder_permissions VALUES (%s, %s, %s, %s)",
        (cid, fuid, owner, READ | WRITE | ADMIN),
    )
