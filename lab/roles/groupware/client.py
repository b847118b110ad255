"""A client of the groupware API as a browser uses it (cookies, session parameter), for
tests, benchmarks and workloads. OX answers most errors with HTTP 200 and an error body;
those become OxError here, with OX's code."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import requests

from lab.infra.errors import LabError
from lab.oxnode.libnfs import TIMEOUT_MS

INFOSTORE_ROOT = "9"


class OxError(LabError):
    """OX answered with an error body (its code, e.g. SES-0203, and message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


# A file operation during a filestore outage answers OX's FLS error only after the node's
# NFS call on its kept connection timed out and a fresh mount failed too: up to twice
# libnfs's timeout. A browser waits that long with half again as headroom for a loaded
# host (at -n 2 on 2 cores a download hit a 10 s limit instead of the FLS error).
FILE_TIMEOUT_S = 2 * TIMEOUT_MS / 1000 * 1.5


class OxSession:
    def __init__(self, base_url: str, http: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http or requests.Session()
        self.session_id = ""
        self.data: dict[str, Any] = {}
        # per request: requests lets REQUESTS_CA_BUNDLE override a Session's verify
        self.verify: str | bool = True

    def call(
        self, method: str, module: str, action: str, timeout: float = 10.0, **kwargs: Any
    ) -> Any:
        params = {"action": action, **kwargs.pop("params", {})}
        if self.session_id:
            params["session"] = self.session_id
        resp = self.http.request(
            method,
            f"{self.base_url}/ajax/{module}",
            params=params,
            timeout=timeout,
            verify=self.verify,
            **kwargs,
        )
        if resp.headers.get("Content-Type", "").startswith("application/json"):
            body = resp.json()
            if isinstance(body, dict) and "error" in body:
                raise OxError(str(body.get("code", "")), str(body["error"]))
            return body
        resp.raise_for_status()
        return resp.content

    @classmethod
    def login(
        cls,
        base_url: str,
        name: str,
        password: str,
        http: requests.Session | None = None,
        verify: str | bool = True,
    ) -> OxSession:
        session = cls(base_url, http)
        session.verify = verify
        session.data = session.call(
            "POST", "login", "login", data={"name": name, "password": password}
        )
        session.session_id = session.data["session"]
        return session

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def route(self) -> str:
        """The node route this browser is bound to (the JSESSIONID suffix)."""
        value = self.http.cookies.get("JSESSIONID", "", domain=self.host)
        return str(value).rpartition(".")[2]

    def move_to(self, base_url: str) -> None:
        """Continue this browser session on another node, cookies and all (what a
        balancer does when it fails a session over; nodes here are addressed directly)."""
        cookies = {
            c.name: c.value or "" for c in self.http.cookies if c.domain.lstrip(".") == self.host
        }
        self.base_url = base_url.rstrip("/")
        for name, value in cookies.items():
            self.http.cookies.set(name, value, domain=self.host, path="/")

    def logout(self) -> None:
        self.call("GET", "login", "logout")

    def folders(self, parent: str = INFOSTORE_ROOT) -> list[dict[str, Any]]:
        return list(self.call("GET", "folders", "list", params={"parent": parent})["data"])

    def folder_id(self, title: str, parent: str = INFOSTORE_ROOT) -> str:
        """The id of the folder called `title` (a user's personal folder: their name)."""
        return str(next(f["id"] for f in self.folders(parent) if f["title"] == title))

    def home_folder(self) -> str:
        """The user's personal files folder: the first folder under the infostore root
        this user owns (OX titles it with the user's display name, which the lab cannot
        know for an operator's test user)."""
        me = self.data.get("user_id")
        mine = [f for f in self.folders() if f.get("created_by") == me]
        if not mine:
            raise OxError("FLD-0008", f"user {self.data.get('user')} has no personal folder")
        return str(min(mine, key=lambda f: int(f["id"]))["id"])

    def folder_titles(self, parent: str = INFOSTORE_ROOT) -> set[str]:
        return {f["title"] for f in self.folders(parent)}

    def create_folder(self, parent: str, title: str) -> str:
        body = json.dumps({"title": title, "module": "infostore"})
        return str(
            self.call("PUT", "folders", "new", params={"folder_id": parent}, data=body)["data"]
        )

    def share(self, folder: str, entity: int, bits: int) -> None:
        body = json.dumps({"permissions": [{"entity": entity, "bits": bits}]})
        self.call("PUT", "folders", "update", params={"id": folder}, data=body)

    def upload(self, folder: str, filename: str, data: bytes) -> str:
        """The file into `folder`; FILE_TIMEOUT_S to answer (see there)."""
        files = {
            "json": (None, json.dumps({"folder_id": folder}), "application/json"),
            "file": (filename, data, "application/octet-stream"),
        }
        answer = self.call("POST", "infostore", "new", timeout=FILE_TIMEOUT_S, files=files)
        return str(answer["data"]["new_id"])

    def download(self, doc_id: str) -> bytes:
        return bytes(
            self.call("GET", "infostore", "document", timeout=FILE_TIMEOUT_S, params={"id": doc_id})
        )

    def documents(self, folder: str) -> list[dict[str, Any]]:
        return list(self.call("GET", "infostore", "all", params={"folder": folder})["data"])
