"""The HTTP API the lab needs, shaped like OX's: /ajax/login, /ajax/folders,
/ajax/infostore, plus /oxnode/identity and /oxnode/status. Responses are OX's JSON
({"data": ...} or an error object with an OX code); every call but login needs the
session parameter and the matching secret cookie, and sees only its own context."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from lab.oxnode import schema
from lab.oxnode.config import check_password
from lab.oxnode.errors import OXException
from lab.oxnode.filestore import Filestore, open_filestore
from lab.oxnode.listeners import Request, Response
from lab.oxnode.servlet import BadPath, is_provisioning, servlet_path
from lab.oxnode.store import Cursor, Databases

log = logging.getLogger("oxnode")
SECRET_COOKIE = "open-xchange-secret-lab"
SESSION_COOKIE = "open-xchange-session-lab"
FOLDER_CACHE_TTL_S = 300.0  # how long a node trusts its cached folder lists


@dataclass(frozen=True)
class Session:
    session_id: str
    secret: str
    cid: int
    user_id: int
    login: str


def _json(
    data: object, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    body = json.dumps(data).encode()
    return Response(status, body, [("Content-Type", "application/json"), *(headers or [])])


def _params(request: Request) -> dict[str, str]:
    params = {k: v[0] for k, v in parse_qs(request.query).items()}
    if (request.header("content-type") or "").startswith("application/x-www-form-urlencoded"):
        params.update({k: v[0] for k, v in parse_qs(request.body.decode()).items()})
    return params


def _cookies(request: Request) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in request.headers:
        if name.lower() == "cookie":
            jar.load(value)
    return {k: m.value for k, m in jar.items()}


class FolderCache:
    """Per-node cache of each user's visible folders: the cache the guide says makes
    sharing invisible on the other node unless clustering invalidates it.

    A reader that missed the cache reads the database and then stores what it read; an
    invalidation in between would be undone by that store (a stale entry for the whole
    TTL: found by the lagging-slave chaos scenario's read-your-writes checker). So each
    context has a generation that invalidation bumps, and a store made with an older
    generation is dropped."""

    def __init__(self) -> None:
        self._entries: dict[tuple[int, int], tuple[float, list[dict[str, Any]]]] = {}
        self._generations: dict[int, int] = {}
        self._lock = threading.Lock()

    def generation(self, cid: int) -> int:
        with self._lock:
            return self._generations.get(cid, 0)

    def get(self, key: tuple[int, int]) -> list[dict[str, Any]] | None:
        with self._lock:
            hit = self._entries.get(key)
        if hit and time.monotonic() - hit[0] < FOLDER_CACHE_TTL_S:
            return hit[1]
        return None

    def put(self, key: tuple[int, int], value: list[dict[str, Any]], generation: int) -> None:
        """Store what was read at `generation` unless the context was invalidated since."""
        with self._lock:
            if self._generations.get(key[0], 0) == generation:
                self._entries[key] = (time.monotonic(), value)

    def invalidate(self, cid: int) -> None:
        with self._lock:
            self._generations[cid] = self._generations.get(cid, 0) + 1
            for key in [k for k in self._entries if k[0] == cid]:
                del self._entries[key]


class OxApp:
    """One request handler behind the AJP and HTTP listeners."""

    def __init__(
        self,
        node: str,
        route: str,
        db: Databases,
        log_file: Path,
        on_invalidate: Callable[[int], None] = lambda cid: None,
    ) -> None:
        self.node = node
        self.route = route
        self.db = db
        self.log_file = log_file
        self.folders = FolderCache()
        self.on_invalidate = on_invalidate  # the cluster broadcasts it to the peers
        self.cluster_status: Callable[[], dict[str, object]] = lambda: {"enabled": False}
        self._filestores: dict[int, Filestore] = {}

    def __call__(self, request: Request) -> Response:
        routes = {
            "/ajax/login": self.login,
            "/ajax/folders": self.folders_api,
            "/ajax/infostore": self.infostore,
            "/oxnode/identity": self.identity,
            "/ajax/oxnode": self.identity,  # the same, through the front end's /ajax
            "/oxnode/status": self.status,
        }
        try:
            path = servlet_path(request.path)
        except BadPath as exc:
            return _json({"error": str(exc), "code": "SVL-0003"}, 400)
        if is_provisioning(path):
            return self.provisioning(request)
        handler = routes.get(path)
        if handler is None:
            return _json({"error": f"unknown path {request.path}", "code": "SVL-0002"}, 404)
        try:
            response = handler(request, _params(request))
        except OXException as exc:
            response = _json(exc.to_json(), exc.status)
        return self._sticky(request, response)

    def _sticky(self, request: Request, response: Response) -> Response:
        """JSESSIONID=<id>.<route>: Apache's stickysession follows the route; a request
        that arrives here with another node's route is re-bound to this node."""
        jsession = _cookies(request).get("JSESSIONID", "")
        if not jsession.endswith(f".{self.route}"):
            value = f"{secrets.token_hex(16)}.{self.route}"
            response.headers.append(("Set-Cookie", f"JSESSIONID={value}; Path=/; HttpOnly"))
        return response

    def provisioning(self, request: Request) -> Response:
        """OX's SOAP provisioning API (axis2's service list): whoever reaches it could
        create contexts and users, so the guide locks it down in Apache. Answering here
        makes a bypass of the lock-down visible, and the node logs every call."""
        self._log(
            f"provisioning API reached: {request.method} {request.path} from "
            f"{request.remote_addr} via {request.via}"
        )
        services = "OXContextService, OXUserService, OXGroupService, OXResourceService"
        body = f"Available services: {services}\n".encode()
        return Response(200, body, [("Content-Type", "text/plain")])

    # -- identity and status -------------------------------------------------------------

    def identity(self, request: Request, params: dict[str, str]) -> Response:
        return _json(
            {
                "data": {
                    "node": self.node,
                    "route": self.route,
                    "via": request.via,
                    "balancer_route": request.route,
                }
            }
        )

    def status(self, request: Request, params: dict[str, str]) -> Response:
        opened = list(self._filestores.items())  # uploads may open one meanwhile
        filestores = {fid: fs.mode for fid, fs in opened}
        return _json(
            {
                "data": {
                    "node": self.node,
                    "route": self.route,
                    "replication_monitor": self.db.monitor.counters(),
                    "cluster": self.cluster_status(),
                    "filestores": filestores,
                    "filestore_unsettled": sum(fs.unsettled for _, fs in opened),
                }
            }
        )

    # -- sessions ----------------------------------------------------------------------------

    def login(self, request: Request, params: dict[str, str]) -> Response:
        action = params.get("action", "")
        if action == "login":
            return self._login(params)
        if action == "logout":
            session = self.session(request, params)
            with self.db.config_write.transaction() as cur:
                cur.execute("DELETE FROM sessiond WHERE session_id = %s", (session.session_id,))
            return _json({})
        if action == "autologin":
            cookies = _cookies(request)
            session = self.session(request, {"session": cookies.get(SESSION_COOKIE, "")})
            return _json(self._session_data(session))
        raise OXException("SVL-0010", f"unknown action {action!r}", 400, "USER_INPUT")

    def _login(self, params: dict[str, str]) -> Response:
        name, password = params.get("name", ""), params.get("password", "")
        user, _, mapping = name.partition("@")
        rows = self.db.config_query(
            "SELECT cid FROM login2context WHERE login_info = %s",
            (mapping or "defaultcontext",),
            fresh=True,
        )
        found = []
        if rows:
            cid = int(rows[0][0])
            found = self.db.read(
                cid,
                lambda cur: _fetch(
                    cur, "SELECT id, password FROM user WHERE cid = %s AND name = %s", (cid, user)
                ),
            )
        if not found or not check_password(found[0][1], password):
            raise OXException(
                "LGI-0006", "The user name or password is incorrect.", 200, "USER_INPUT"
            )
        session = Session(secrets.token_hex(16), secrets.token_hex(16), cid, int(found[0][0]), user)
        with self.db.config_write.transaction() as cur:
            cur.execute(
                "INSERT INTO sessiond VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    session.session_id,
                    session.secret,
                    session.cid,
                    session.user_id,
                    session.login,
                    self.node,
                    int(time.time() * 1000),
                ),
            )
        self._log(
            f"Session created. ID: {session.session_id}, Context: {session.cid}, "
            f"User: {session.user_id}"
        )
        cookies = [
            ("Set-Cookie", f"{SECRET_COOKIE}={session.secret}; Path=/; HttpOnly"),
            ("Set-Cookie", f"{SESSION_COOKIE}={session.session_id}; Path=/; HttpOnly"),
        ]
        return _json(self._session_data(session), headers=cookies)

    def _session_data(self, s: Session) -> dict[str, object]:
        return {
            "session": s.session_id,
            "user": s.login,
            "user_id": s.user_id,
            "context_id": s.cid,
            "node": self.node,
        }

    def session(self, request: Request, params: dict[str, str]) -> Session:
        """The caller's session: the session id must exist (in the store every node
        reads) and the secret cookie must match it; anything else is SES-0203."""
        sid = params.get("session", "")
        rows = (
            self.db.config_query(
                "SELECT session_id, secret, cid, user_id, login FROM sessiond "
                "WHERE session_id = %s",
                (sid,),
                fresh=True,
            )
            if len(sid) == 32
            else []
        )
        secret = _cookies(request).get(SECRET_COOKIE, "")
        if not rows or not secrets.compare_digest(str(rows[0][1]), secret):
            raise OXException(
                "SES-0203",
                f"Your session {sid[:8]}... expired. Please start a new browser session.",
                200,
                "USER_INPUT",
            )
        r = rows[0]
        return Session(str(r[0]), str(r[1]), int(r[2]), int(r[3]), str(r[4]))

    def _log(self, line: str) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        with open(self.log_file, "a", encoding="utf-8") as f:
            f.write(f"{stamp} INFO [{self.node}] {line}\n")
        log.info(line)

    # -- folders -------------------------------------------------------------------------------

    def _visible_folders(self, s: Session) -> list[dict[str, Any]]:
        cached = self.folders.get((s.cid, s.user_id))
        if cached is not None:
            return cached
        generation = self.folders.generation(s.cid)
        rows = self.db.read(
            s.cid,
            lambda cur: _fetch(
                cur,
                (
                    "SELECT t.fuid, t.parent, t.fname, t.created_from, MAX(p.bits) "
                    "FROM oxfolder_tree t "
                    "JOIN oxfolder_permissions p ON p.cid = t.cid AND p.fuid = t.fuid "
                    "WHERE t.cid = %s AND p.permission_id IN (0, %s) GROUP BY t.fuid, t.parent, "
                    "t.fname, t.created_from ORDER BY t.fuid"
                ),
                (s.cid, s.user_id),
            ),
        )
        folders = [
            {
                "id": str(r[0]),
                "folder_id": str(r[1]),
                "title": r[2],
                "created_by": r[3],
                "own_rights": int(r[4]),
            }
            for r in rows
        ]
        self.folders.put((s.cid, s.user_id), folders, generation)
        return folders

    def _folder(self, s: Session, fid: str, need: int) -> dict[str, Any]:
        for folder in self._visible_folders(s):
            if folder["id"] == fid and folder["own_rights"] & need:
                return folder
        raise OXException(
            "FLD-0003",
            f"You do not have the permission to access folder {fid}",
            200,
            "PERMISSION_DENIED",
        )

    def folders_api(self, request: Request, params: dict[str, str]) -> Response:
        s = self.session(request, params)
        action = params.get("action", "")
        if action == "list":
            parent = params.get("parent", str(schema.INFOSTORE_ROOT))
            return _json(
                {"data": [f for f in self._visible_folders(s) if f["folder_id"] == parent]}
            )
        if action == "get":
            return _json({"data": self._folder(s, params.get("id", ""), schema.READ)})
        body = json.loads(request.body or b"{}")
        if action == "new":
            parent_folder = self._folder(
                s, params.get("folder_id", ""), schema.WRITE | schema.ADMIN
            )

            def create(cur: Cursor) -> int:
                fuid = schema.next_id(cur, s.cid)
                title = str(body.get("title", "New folder"))
                schema.insert_folder(cur, s.cid, fuid, int(parent_folder["id"]), title, s.user_id)
                return fuid

            fuid = self.db.write(s.cid, create)
            self._invalidate(s.cid)
            return _json({"data": str(fuid)})
        if action == "update":
            folder = self._folder(s, params.get("id", ""), schema.ADMIN)

            def share(cur: Cursor) -> None:
                for perm in body.get("permissions", []):
                    cur.execute(
                        "REPLACE INTO oxfolder_permissions VALUES (%s, %s, %s, %s)",
                        (s.cid, int(folder["id"]), int(perm["entity"]), int(perm["bits"])),
                    )

            self.db.write(s.cid, share)
            self._invalidate(s.cid)
            return _json({"data": folder["id"]})
        raise OXException("SVL-0010", f"unknown action {action!r}", 400, "USER_INPUT")

    def _invalidate(self, cid: int) -> None:
        self.folders.invalidate(cid)
        self.on_invalidate(cid)

    # -- infostore -------------------------------------------------------------------------------

    def _filestore(self, cid: int) -> Filestore:
        rows = self.db.config_query(
            "SELECT f.id, f.uri FROM context c JOIN filestore f "
            "ON f.id = c.filestore_id WHERE c.cid = %s",
            (cid,),
            fresh=True,
        )
        if not rows:
            raise OXException("FLS-0001", f"No filestore for context {cid}", 500)
        fid, uri = int(rows[0][0]), str(rows[0][1])
        if fid not in self._filestores:
            self._filestores[fid] = open_filestore(
                uri, int(os.environ.get("OX_UID", "1001")), int(os.environ.get("OX_GID", "1001"))
            )
        return self._filestores[fid]

    def infostore(self, request: Request, params: dict[str, str]) -> Response:
        s = self.session(request, params)
        action = params.get("action", "")
        if action == "new":
            return self._upload(s, request)
        if action == "all":
            folder = self._folder(s, params.get("folder", ""), schema.READ)
            rows = self.db.read(
                s.cid,
                lambda cur: _fetch(
                    cur,
                    (
                        "SELECT id, filename, file_size, file_md5sum FROM infostore "
                        "WHERE cid = %s AND folder_id = %s ORDER BY id"
                    ),
                    (s.cid, int(folder["id"])),
                ),
            )
            return _json(
                {
                    "data": [
                        {"id": str(r[0]), "filename": r[1], "file_size": r[2], "file_md5sum": r[3]}
                        for r in rows
                    ]
                }
            )
        if action == "list":  # OX's list: the documents named in the body
            wanted = [str(item.get("id", "")) for item in json.loads(request.body or b"[]")]
            found = [self._document(s, doc_id) for doc_id in wanted]
            return _json(
                {
                    "data": [
                        {"id": d, "folder_id": str(f[0]), "filename": f[1]}
                        for d, f in zip(wanted, found, strict=True)
                    ]
                }
            )
        if action == "document":
            meta = self._document(s, params.get("id", ""))
            with _storage("read"):
                data = self._filestore(s.cid).get(meta[2])
            return Response(
                200,
                data,
                [
                    ("Content-Type", "application/octet-stream"),
                    ("Content-Disposition", f'attachment; filename="{meta[1]}"'),
                ],
            )
        if action == "delete":
            for item in json.loads(request.body or b"[]"):
                meta = self._document(s, str(item.get("id", "")))
                self._folder(s, str(meta[0]), schema.WRITE | schema.ADMIN)
                doc_id = int(item["id"])

                def delete(cur: Cursor, doc_id: int = doc_id) -> None:
                    cur.execute("DELETE FROM infostore WHERE cid = %s AND id = %s", (s.cid, doc_id))

                self.db.write(s.cid, delete)
                with _storage("delete"):
                    self._filestore(s.cid).delete(meta[2])
            return _json({"data": []})
        raise OXException("SVL-0010", f"unknown action {action!r}", 400, "USER_INPUT")

    def _document(self, s: Session, doc_id: str) -> tuple[int, str, str]:
        rows = self.db.read(
            s.cid,
            lambda cur: _fetch(
                cur,
                (
                    "SELECT folder_id, filename, file_store_location FROM infostore "
                    "WHERE cid = %s AND id = %s"
                ),
                (s.cid, int(doc_id) if doc_id.isdigit() else -1),
            ),
        )
        if not rows:
            raise OXException("IFO-0300", f"Document {doc_id} not found", 200, "USER_INPUT")
        self._folder(s, str(rows[0][0]), schema.READ)
        return int(rows[0][0]), str(rows[0][1]), str(rows[0][2])

    def _upload(self, s: Session, request: Request) -> Response:
        ctype = request.header("content-type") or ""
        if not ctype.startswith("multipart/form-data"):
            raise OXException("IFO-0101", "upload needs multipart/form-data", 400, "USER_INPUT")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + request.body
        )
        meta: dict[str, Any] = {}
        data, filename = None, "upload.bin"
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            raw = part.get_payload(decode=True)
            payload = raw if isinstance(raw, bytes) else b""
            if name == "json":
                meta = json.loads(payload)
            elif name == "file":
                data, filename = payload, part.get_filename() or filename
        if data is None:
            raise OXException("IFO-0102", "no file part in the upload", 400, "USER_INPUT")
        folder = self._folder(s, str(meta.get("folder_id", "")), schema.WRITE | schema.ADMIN)
        store = self._filestore(s.cid)
        with _storage("upload"):
            location = store.put(s.cid, data)  # complete before any metadata exists
        md5 = hashlib.md5(data).hexdigest()

        def insert(cur: Cursor) -> int:
            doc_id = schema.next_id(cur, s.cid)
            cur.execute(
                "INSERT INTO infostore VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    s.cid,
                    doc_id,
                    int(folder["id"]),
                    filename,
                    len(data),
                    md5,
                    location,
                    s.user_id,
                    int(time.time() * 1000),
                ),
            )
            return doc_id

        try:
            doc_id = self.db.write(s.cid, insert)
        except BaseException:
            store.delete(location)  # no file without its metadata
            raise
        return _json({"data": {"new_id": str(doc_id)}})


@contextmanager
def _storage(action: str) -> Iterator[None]:
    """A filestore that cannot be reached is OX's FLS error for the client (category
    CONNECTIVITY), not an internal error: the upload did not happen and can be retried."""
    try:
        yield
    except OSError as exc:
        raise OXException(
            "FLS-0010", f"The file storage is not available ({action}): {exc}", 200, "CONNECTIVITY"
        ) from exc


def _fetch(cur: Cursor, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
    cur.execute(sql, args)
    return list(cur.fetchall())
