"""The guide's admin commands, with OX's names and flags, doing the real work against
configdb and the context schemas. Installed in the node image as
/opt/open-xchange/sbin/<command>. Errors are printed the way OX's command-line tools
print them ("Server response:" and the reason) with a non-zero exit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import pymysql

from lab.oxnode import schema
from lab.oxnode.config import (
    MASTER_ADMIN,
    ConfigDb,
    check_password,
    hash_password,
    jdbc_url,
    read_properties,
    write_properties,
)
from lab.oxnode.errors import OXException
from lab.oxnode.store import Cursor, Databases


class AdminError(Exception):
    """Printed as OX prints a failed command."""


def _databases() -> Databases:
    props = read_properties("configdb.properties")
    if not props:
        raise AdminError("configdb.properties is missing: run oxinstaller first")
    return Databases(ConfigDb.from_properties(props))


def _check_master(admin: str, password: str) -> None:
    mpasswd = read_properties("mpasswd.properties")
    stored = mpasswd.get(admin, "")
    if admin != MASTER_ADMIN or not check_password(stored, password):
        raise AdminError("Authentication failed for user " + admin)


# -- initconfigdb / oxinstaller ----------------------------------------------------------


def initconfigdb(a: argparse.Namespace) -> str:
    host, _, port = a.configdb_host.partition(":")
    try:
        conn = pymysql.connect(
            host=host,
            port=int(port or a.configdb_port),
            user=a.configdb_user,
            password=a.configdb_pass,
            connect_timeout=5,
            autocommit=True,
        )
    except pymysql.err.MySQLError as exc:
        raise AdminError(f"cannot connect to {a.configdb_host}: {exc.args[-1]}") from None
    with conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE IF NOT EXISTS configdb")
        cur.execute("USE configdb")
        cur.execute("SHOW TABLES")
        existing = {row[0] for row in cur.fetchall()}
        ours = {stmt.split()[2] for stmt in schema.CONFIGDB_TABLES}
        if existing & ours:
            if not a.i:
                raise AdminError("configdb already exists; use -i to drop and recreate it")
            for table in existing & ours:
                cur.execute(f"DROP TABLE {table}")
        for stmt in schema.CONFIGDB_TABLES:
            cur.execute(stmt)
    return "configdb initialized"


def oxinstaller(a: argparse.Namespace) -> str:
    configdb = ConfigDb(
        read_url=jdbc_url(a.configdb_readhost),
        write_url=jdbc_url(a.configdb_writehost),
        user=a.configdb_user,
        password=a.configdb_pass,
        replication_monitor=a.replication_monitor == "true",
    )
    write_properties("configdb.properties", configdb.properties(), "written by oxinstaller")
    write_properties("system.properties", {"SERVER_NAME": a.servername})
    write_properties(
        "ajp.properties",
        {"AJP_JVM_ROUTE": a.jkroute, "AJP_PORT": "8009", "AJP_BIND_ADDR": a.ajp_bind_port},
    )
    write_properties("mpasswd.properties", {MASTER_ADMIN: hash_password(a.master_pass)})
    return f"configuration written for server {a.servername}, route {a.jkroute}"


# -- register* -----------------------------------------------------------------------------


def _insert(db: Databases, sql: str, args: tuple[object, ...], duplicate: str) -> int:
    try:
        with db.config_write.transaction() as cur:
            cur.execute(sql, args)
            return int(cur.lastrowid)
    except pymysql.err.IntegrityError:
        raise AdminError(duplicate) from None


def registerserver(a: argparse.Namespace) -> str:
    _check_master(a.A, a.P)
    server_id = _insert(
        _databases(),
        "INSERT INTO server (name) VALUES (%s)",
        (a.n,),
        f"Server {a.n} already exists",
    )
    return f"server {server_id} registered"


def registerfilestore(a: argparse.Namespace) -> str:
    _check_master(a.A, a.P)
    if not a.t.startswith("file://"):
        raise AdminError(f"Invalid filestore URI {a.t}: only file:// is supported")
    fid = _insert(
        _databases(),
        "INSERT INTO filestore (uri, size, max_context) VALUES (%s, %s, %s)",
        (a.t, a.s * 1024 * 1024, a.x),
        f"Filestore {a.t} already exists",
    )
    return f"filestore {fid} registered"


def registerdatabase(a: argparse.Namespace) -> str:
    """--master true: a new db_pool and its db_cluster; --master false --masterid=N: a
    db_pool registered as the read side of N's cluster (the guide's slave)."""
    _check_master(a.A, a.P)
    db = _databases()
    if a.master == "false":
        if a.masterid is None:
            raise AdminError("--masterid is required with --master false")
        rows = db.config_query(
            "SELECT cluster_id FROM db_cluster WHERE write_db_pool_id = %s",
            (a.masterid,),
            fresh=True,
        )
        if not rows:
            raise AdminError(f"No master database with id {a.masterid}")
    pool_id = _insert(
        db,
        "INSERT INTO db_pool (name, url, login, password) VALUES (%s, %s, %s, %s)",
        (a.name, jdbc_url(a.hostname, ""), a.dbuser, a.dbpasswd),
        f"Database {a.name} already exists",
    )
    with db.config_write.transaction() as cur:
        if a.master == "true":
            cur.execute("INSERT INTO db_cluster (write_db_pool_id) VALUES (%s)", (pool_id,))
        else:
            cur.execute(
                "UPDATE db_cluster SET read_db_pool_id = %s WHERE write_db_pool_id = %s",
                (pool_id, a.masterid),
            )
    return f"database {pool_id} registered"


# -- contexts and users ----------------------------------------------------------------------


def _add_user(cur: Cursor, cid: int, uid: int, a: argparse.Namespace, is_admin: bool) -> None:
    display = a.d or f"{a.g} {a.s}"
    try:
        cur.execute(
            "INSERT INTO user VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (cid, uid, a.u, display, a.e, hash_password(a.p), int(is_admin)),
        )
    except pymysql.err.IntegrityError:
        raise AdminError(f"User {a.u} already exists in context {cid}") from None
    schema.insert_folder(cur, cid, schema.next_id(cur, cid), schema.INFOSTORE_ROOT, display, uid)


def createcontext(a: argparse.Namespace) -> str:
    _check_master(a.A, a.P)
    db = _databases()
    server = read_properties("system.properties").get("SERVER_NAME", "")
    servers = db.config_query("SELECT server_id FROM server WHERE name = %s", (server,), fresh=True)
    if not servers:
        raise AdminError(f"Server {server} is not registered (registerserver)")
    clusters = db.config_query(
        "SELECT c.write_db_pool_id, c.read_db_pool_id, p.name FROM db_cluster c "
        "JOIN db_pool p ON p.db_pool_id = c.write_db_pool_id ORDER BY c.cluster_id",
        fresh=True,
    )
    stores = db.config_query("SELECT id FROM filestore ORDER BY id", fresh=True)
    if not clusters or not stores:
        raise AdminError("No database or filestore registered")
    write_id, read_id, pool_name = clusters[0]
    db_schema = f"{pool_name}_{write_id}"
    mappings = [str(a.c), *(a.L.split(",") if a.L else [])]
    try:
        with db.config_write.transaction() as cur:
            cur.execute(
                "INSERT INTO context (cid, name, filestore_id, quota_max) VALUES (%s, %s, %s, %s)",
                (a.c, a.L or str(a.c), stores[0][0], a.q * 1024 * 1024),
            )
            for mapping in mappings:
                cur.execute("INSERT INTO login2context VALUES (%s, %s)", (mapping, a.c))
            cur.execute(
                "INSERT INTO context_server2db_pool VALUES (%s, %s, %s, %s, %s)",
                (a.c, servers[0][0], read_id or write_id, write_id, db_schema),
            )
    except pymysql.err.IntegrityError:
        raise AdminError(f"Context {a.c} already exists") from None
    route = db.context_route(a.c)
    with route.write.connection() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {db_schema}")
        cur.execute(f"USE {db_schema}")
        for stmt in schema.CONTEXT_TABLES:
            cur.execute(stmt.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))
        cur.execute("INSERT INTO replicationMonitor VALUES (%s, 0)", (a.c,))
        cur.execute("INSERT INTO sequence_id VALUES (%s, 10)", (a.c,))

    def populate(cur: Cursor) -> None:
        schema.insert_folder(cur, a.c, schema.INFOSTORE_ROOT, 1, "Infostore", 2)
        cur.execute(
            "INSERT INTO oxfolder_permissions VALUES (%s, %s, 0, %s)",
            (a.c, schema.INFOSTORE_ROOT, schema.READ),
        )  # entity 0: all users
        _add_user(cur, a.c, 2, a, is_admin=True)  # OX: the context admin is user 2

    db.write(a.c, populate)
    return f"context {a.c} created"


def createuser(a: argparse.Namespace) -> str:
    db = _databases()
    try:
        admins = db.read(
            a.c,
            lambda cur: (
                cur.execute(
                    "SELECT password FROM user WHERE cid = %s AND name = %s AND is_admin = 1",
                    (a.c, a.A),
                ),
                cur.fetchall(),
            )[1],
        )
    except OXException as exc:
        raise AdminError(exc.message) from None
    if not admins or not check_password(admins[0][0], a.P):
        raise AdminError(f"Authentication failed for user {a.A} in context {a.c}")

    def add(cur: Cursor) -> int:
        uid = 3 if _user_count(cur, a.c) == 1 else schema.next_id(cur, a.c)  # OX: first user is 3
        _add_user(cur, a.c, uid, a, is_admin=False)
        return uid

    return f"user {db.write(a.c, add)} created"


def _user_count(cur: Cursor, cid: int) -> int:
    cur.execute("SELECT COUNT(*) FROM user WHERE cid = %s", (cid,))
    return int(cur.fetchone()[0])


# -- command line ----------------------------------------------------------------------------


def _parser(command: str) -> tuple[argparse.ArgumentParser, Callable[[argparse.Namespace], str]]:
    p = argparse.ArgumentParser(prog=command)
    if command not in ("initconfigdb", "oxinstaller"):
        p.add_argument("-A", "--adminuser", dest="A", required=True)
        p.add_argument("-P", "--adminpass", dest="P", required=True)
    if command == "initconfigdb":
        p.add_argument("--configdb-user", required=True)
        p.add_argument("--configdb-pass", required=True)
        p.add_argument("--configdb-host", required=True)
        p.add_argument("--configdb-port", type=int, default=3306)
        p.add_argument("-i", action="store_true", help="drop an existing configdb")
        return p, initconfigdb
    if command == "oxinstaller":
        for flag in (
            "--servername",
            "--configdb-readhost",
            "--configdb-writehost",
            "--configdb-user",
            "--configdb-pass",
            "--master-pass",
            "--jkroute",
        ):
            p.add_argument(flag, required=True)
        p.add_argument("--ajp-bind-port", default="*")
        p.add_argument("--replication-monitor", choices=["true", "false"], default="true")
        return p, oxinstaller
    if command == "registerserver":
        p.add_argument("-n", "--name", dest="n", required=True)
        return p, registerserver
    if command == "registerfilestore":
        p.add_argument("-t", "--storepath", dest="t", required=True)
        p.add_argument("-s", "--storesize", dest="s", type=int, default=1000)
        p.add_argument("-x", "--maxcontexts", dest="x", type=int, default=5000)
        return p, registerfilestore
    if command == "registerdatabase":
        p.add_argument("-n", "--name", dest="name", required=True)
        p.add_argument("-H", "--hostname", required=True)
        p.add_argument("-u", "--dbuser", required=True)
        p.add_argument("-p", "--dbpasswd", required=True)
        p.add_argument("-m", "--master", choices=["true", "false"], required=True)
        p.add_argument("-M", "--masterid", type=int)
        return p, registerdatabase
    if command in ("createcontext", "createuser"):
        p.add_argument("-c", "--contextid", dest="c", type=int, required=True)
        p.add_argument("-u", "--username", dest="u", required=True)
        p.add_argument("-d", "--displayname", dest="d", default="")
        p.add_argument("-g", "--givenname", dest="g", required=True)
        p.add_argument("-s", "--surname", dest="s", required=True)
        p.add_argument("-p", "--password", dest="p", required=True)
        p.add_argument("-e", "--email", dest="e", required=True)
        if command == "createcontext":
            p.add_argument("-L", "--addmapping", dest="L", default="")
            p.add_argument("-q", "--quota", dest="q", type=int, default=1000)
            p.add_argument("--access-combination-name", default="all")
            return p, createcontext
        return p, createuser
    raise SystemExit(f"unknown command {command}; known: {', '.join(COMMANDS)}")


COMMANDS = (
    "initconfigdb",
    "oxinstaller",
    "registerserver",
    "registerfilestore",
    "registerdatabase",
    "createcontext",
    "createuser",
)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(f"usage: admin COMMAND [flags]; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    parser, run = _parser(args[0])
    ns = parser.parse_args(args[1:])
    try:
        print(run(ns))
        return 0
    except (AdminError, OXException) as exc:
        message = exc.message if isinstance(exc, OXException) else str(exc)
        print(f"Server response:\n {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
