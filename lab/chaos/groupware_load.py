"""The groupware workload: several browsers through the Apache front end, each logging in
once and then creating folders, uploading and downloading files, every request recorded
in a History (f = login, create-folder, upload, download; node = the session's route).

A session that has to log in again has been lost; an upload that downloads different
bytes is corrupt; a listing begun after one's own acknowledged folder creation that
misses it is a stale read. The checkers here (sessions-kept, files-intact,
read-your-writes) forbid every anomaly they find: OX promises session migration,
byte-identical files and, with its replication monitor, that a user reads their own
writes, whatever the database's isolation level.
"""

from __future__ import annotations

import hashlib
import random
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from lab.chaos.checkers import Verdict
from lab.chaos.clients import clients_running
from lab.chaos.history import History
from lab.infra.errors import LabError
from lab.roles.groupware.client import OxError, OxSession
from lab.roles.web.front_end import WebNode

USER, PASSWORD, HOME = "testuser", "secret", "Test User"
SESSION_ERRORS = ("SES-",)  # OX's session error codes: the session is gone
WRITES = ("create-folder", "upload")  # may have happened when unanswered


class GroupwareWorkload:
    name = "groupware"

    def __init__(self, web: WebNode, clients: int = 4, seed: int = 0) -> None:
        self.web = web
        self.clients = clients
        self.seed = seed
        self.history = History()
        self._stop = threading.Event()

    def setup(self) -> None:
        """Nothing to prepare: each client logs in as the guide's testuser."""

    def _client(self, process: int) -> None:
        rng = random.Random(self.seed * 1000 + process)
        session: OxSession | None = None
        home = ""
        uploaded: list[tuple[str, str]] = []  # (doc id, sha256)
        while not self._stop.is_set():
            f, value = self._plan(rng, session, uploaded)
            start = self.history.now()
            try:
                if f == "login":
                    session = OxSession.login(
                        self.web.https_url, USER, PASSWORD, verify=self.web.ca_path
                    )
                    home = session.folder_id(HOME)
                elif f == "create-folder":
                    assert session is not None
                    session.create_folder(home, value["title"])
                elif f == "list-folders":
                    assert session is not None
                    value["titles"] = sorted(session.folder_titles(home))
                elif f == "upload":
                    assert session is not None
                    data = rng.randbytes(value["size"])
                    value["sha256"] = hashlib.sha256(data).hexdigest()
                    value["doc"] = session.upload(home, f"{uuid.uuid4().hex[:8]}.bin", data)
                    uploaded.append((value["doc"], value["sha256"]))
                else:  # download
                    assert session is not None
                    data = session.download(value["doc"])
                    value["got_sha256"] = hashlib.sha256(data).hexdigest()
                route = session.route if session else ""
                self.history.record(process, f, value, start, "ok", route)
            except OxError as exc:
                route = session.route if session else ""  # whose users saw the failure
                self.history.record(process, f, value, start, "fail", route, str(exc)[:120])
                if exc.code.startswith(SESSION_ERRORS):
                    session = None  # logged out: the next operation logs in again
            except (requests.RequestException, OSError, LabError) as exc:
                unanswered = isinstance(exc, requests.Timeout | requests.ConnectionError)
                outcome = "info" if (unanswered and f in WRITES) else "fail"
                route = session.route if session else ""
                self.history.record(process, f, value, start, outcome, route, str(exc)[:120])
                if f == "login":
                    session = None
                self._stop.wait(0.1)  # back-off, not a wait for a condition

    def _plan(
        self, rng: random.Random, session: OxSession | None, uploaded: list[tuple[str, str]]
    ) -> tuple[str, dict[str, Any]]:
        if session is None:
            return "login", {}
        choice = rng.random()
        if choice < 0.2:
            return "create-folder", {"title": f"chaos-{uuid.uuid4().hex[:8]}"}
        if choice < 0.4:
            return "list-folders", {}
        if choice < 0.7 or not uploaded:
            return "upload", {"size": rng.randint(1, 64) * 1024}
        doc, sha = rng.choice(uploaded)
        return "download", {"doc": doc, "sha256": sha}

    @contextmanager
    def running(self) -> Iterator[GroupwareWorkload]:
        with clients_running(self._client, ((p,) for p in range(self.clients)), self._stop):
            yield self

    def acked(self, f: str | None = None) -> int:
        return self.history.acked(f)


def check_sessions(history: History) -> Verdict:
    """Session migration: once logged in, a browser never has to log in again."""
    verdict = Verdict("sessions-kept")
    logins: dict[int, int] = {}
    for op in history.ops:
        if op.f == "login" and op.outcome == "ok":
            logins[op.process] = logins.get(op.process, 0) + 1
            if logins[op.process] > 1:
                verdict.add("session-lost", f"{op.describe()}: client {op.process} logged in again")
        if op.outcome == "fail" and op.error.startswith(SESSION_ERRORS):
            verdict.add("session-lost", f"{op.describe()}: {op.error}")
    verdict.stats = {
        "clients": len(logins),
        "requests_ok": sum(op.outcome == "ok" for op in history.ops),
        "requests_failed": sum(op.outcome == "fail" for op in history.ops),
    }
    return verdict


def check_read_your_writes(history: History) -> Verdict:
    """A browser sees what it wrote: a folder listing begun after one of its own folder
    creations was acknowledged includes that folder (OX's replication monitor sends a
    context's reads to the master while the slave has not caught up)."""
    verdict = Verdict("read-your-writes")
    created: dict[int, list[tuple[float, str, int]]] = {}
    for op in sorted(history.ops, key=lambda o: o.end):
        if op.outcome != "ok":
            continue
        if op.f == "create-folder":
            created.setdefault(op.process, []).append((op.end, op.value["title"], op.index))
        elif op.f == "list-folders":
            seen = set(op.value["titles"])
            for acked_at, title, index in created.get(op.process, []):
                if acked_at < op.start and title not in seen:
                    verdict.add(
                        "stale-read",
                        f"{op.describe(80)} misses {title!r}, created by op {index} "
                        f"{op.start - acked_at:.2f}s before",
                    )
    verdict.stats = {"listings": sum(op.f == "list-folders" for op in history.ops)}
    return verdict


def check_files(history: History) -> Verdict:
    """Every download returns exactly the bytes that were uploaded."""
    verdict = Verdict("files-intact")
    for op in history.ops:
        if op.f == "download" and op.outcome == "ok":
            if op.value["got_sha256"] != op.value["sha256"]:
                verdict.add("corrupt-file", f"{op.describe()}: bytes differ from the upload")
    verdict.stats = {
        "uploads": sum(op.f == "upload" and op.outcome == "ok" for op in history.ops),
        "downloads": sum(op.f == "download" and op.outcome == "ok" for op in history.ops),
    }
    return verdict
