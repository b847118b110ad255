"""The groupware workload: several browsers through the Apache front end, each logging in
once and then creating folders, uploading and downloading files, every request recorded
in a History (f = login, create-folder, upload, download; node = the session's route).

Its histories are judged by lab/chaos/checkers/groupware.py.
"""

from __future__ import annotations

import hashlib
import random
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from lab.chaos.checkers.groupware import SESSION_ERRORS
from lab.chaos.clients.threads import clients_running
from lab.chaos.history import History
from lab.infra.errors import LabError
from lab.roles.groupware.client import OxError, OxSession
from lab.roles.web.front_end import WebNode

USER, PASSWORD = "testuser", "secret"  # the guide's test user
WRITES = ("create-folder", "upload")  # may have happened when unanswered


@dataclass(frozen=True)
class GroupwareFront:
    """Where the browsers go and who they are: the front end's https:// address, the CA
    that verifies it, and the test user (the lab's testuser, or the one the operator
    names in the credentials file)."""

    url: str
    verify: str | bool
    user: str = USER
    password: str = PASSWORD

    @classmethod
    def of(cls, web: WebNode) -> GroupwareFront:
        """The lab's Apache and its testuser."""
        return cls(web.https_url, web.ca_path)


class GroupwareWorkload:
    name = "groupware"

    def __init__(self, front: GroupwareFront, clients: int = 4, seed: int = 0) -> None:
        self.front = front
        self.clients = clients
        self.seed = seed
        self.history = History()
        self._stop = threading.Event()

    def setup(self) -> None:
        """Nothing to prepare: each client logs in as the front's test user and works in
        that user's personal files folder."""

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
                    front = self.front
                    session = OxSession.login(
                        front.url, front.user, front.password, verify=front.verify
                    )
                    home = session.home_folder()
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
