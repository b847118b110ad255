"""Infostore file bodies under the registered filestore URI (file:///var/opt/filestore),
written as the open-xchange user. A file appears under its final name only when it is
complete (written to a temporary name in the same directory, then renamed), so a failed
upload leaves no partial file behind: at once on a local directory, and over libnfs as
soon as the server answers again (a janitor retries the removal; see NfsFilestore).
`unsettled` counts uploads in progress and partial files not yet removed, so a check can
wait until a node has nothing of an outage left before it inventories the filestore.

Where the filestore is NFS (OX_FILESTORE_NFS=server:/export), a kernel mount at the
registered path is used when the host kernel has one (oxnode-run mounts it); otherwise
the node talks NFSv4 itself through libnfs. The status endpoint says which.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from lab.oxnode.libnfs import TIMEOUT_MS, NfsClient

T = TypeVar("T")

JANITOR_PERIOD_S = 1.0  # how often a partial file is retried while NFS is unreachable
# An upload caught by an outage settles within: its call on the kept connection timing
# out, a fresh mount timing out, then the janitor's next round once the server is back.
SETTLE_S = 2 * TIMEOUT_MS / 1000 + JANITOR_PERIOD_S


def _relative_name(cid: int) -> tuple[str, str]:
    name = uuid.uuid4().hex
    return f"{cid}_ctx_store/{name[:2]}/{name[2:4]}/{name}", name


class Filestore:
    """A local directory or a kernel mount at the registered path."""

    def __init__(self, root: Path, uid: int = 1001, gid: int = 1001) -> None:
        self.root = root
        self.uid, self.gid = uid, gid
        self._lock = threading.Lock()
        self._in_flight = 0  # uploads in progress
        self._leftovers: list[str] = []  # partial files still to remove (NFS only)

    @property
    def unsettled(self) -> int:
        """Uploads in progress plus partial files not yet removed: 0 when nothing an
        upload began can still appear or vanish on the filestore."""
        with self._lock:
            return self._in_flight + len(self._leftovers)

    @property
    def mode(self) -> str:
        with open("/proc/mounts", encoding="ascii", errors="replace") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) > 2 and Path(fields[1]) == self.root:
                    return f"{fields[2]} mount of {fields[0]}"
        return "local directory (no NFS mount)"

    def put(self, cid: int, data: bytes) -> str:
        """Store `data`; returns its location relative to the root."""
        with self._lock:
            self._in_flight += 1
        try:
            return self._store(cid, data)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _store(self, cid: int, data: bytes) -> str:
        relative, name = _relative_name(cid)
        final = self.root / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{name}.part")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if os.geteuid() == 0:
                os.chown(tmp, self.uid, self.gid)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        return relative

    def get(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

    def delete(self, relative: str) -> None:
        (self.root / relative).unlink(missing_ok=True)


class NfsFilestore(Filestore):
    """The same contract over userspace NFSv4 (libnfs), for kernels without NFS.

    libnfs neither renews an idle client's lease nor reconnects: after the server was
    gone, or after an idle spell longer than the lease (NFS4ERR_EXPIRED), the kept
    connection fails. So a call that fails on a kept connection is retried once on a
    fresh one, as a kernel client recovers its lease; a fresh connection's failure is
    the answer.

    An upload that fails may leave its temporary file on the server (created before the
    connection broke), and removing it fails as long as the server is away. A janitor
    thread removes such files once the server answers, retrying every JANITOR_PERIOD_S,
    whether or not another upload comes (an upload still blocked when the outage ends
    fails later than the traffic that follows it)."""

    def __init__(self, server: str, export: str, uid: int = 1001, gid: int = 1001) -> None:
        super().__init__(Path("/"), uid, gid)
        self.server, self.export = server, export
        self.url = f"nfs://{server}{export}?version=4"
        self._client: NfsClient | None = None
        self._janitor: threading.Thread | None = None

    @property
    def mode(self) -> str:
        return f"userspace NFSv4 via libnfs ({self.url})"

    def _call(self, action: Callable[[NfsClient], T]) -> T:
        while True:
            with self._lock:
                fresh = self._client is None
                if self._client is None:
                    self._client = NfsClient(self.server, self.export, self.uid, self.gid)
                client = self._client
            try:
                return action(client)
            except OSError:
                with self._lock:
                    if self._client is client:
                        self._client = None
                client.close()
                if fresh:
                    raise

    def _store(self, cid: int, data: bytes) -> str:
        def store(client: NfsClient) -> str:
            relative, name = _relative_name(cid)  # a new name per attempt (O_EXCL)
            directory = "/" + relative.rsplit("/", 1)[0]
            tmp = f"{directory}/.{name}.part"
            client.makedirs(directory)
            try:
                client.write_file(tmp, data)
                client.rename(tmp, f"/{relative}")
            except OSError:
                self._leave(tmp)  # the server may hold a partial file
                raise
            return relative

        return self._call(store)

    def _leave(self, path: str) -> None:
        """Hand a possibly partial file to the janitor (started if none runs)."""
        with self._lock:
            self._leftovers.append(path)
            if self._janitor is None:
                self._janitor = threading.Thread(
                    target=self._sweep, name="filestore-janitor", daemon=True
                )
                self._janitor.start()

    def _sweep(self) -> None:
        """Remove every leftover, oldest first; while the server is away, try again
        every JANITOR_PERIOD_S. The thread ends when none is left."""
        while True:
            with self._lock:
                if not self._leftovers:
                    self._janitor = None
                    return
                path = self._leftovers[0]
            try:
                self._remove(path)
            except OSError:
                time.sleep(JANITOR_PERIOD_S)
                continue
            with self._lock:
                self._leftovers.remove(path)

    def _remove(self, path: str) -> None:
        self._call(lambda client: client.unlink(path))  # a missing file is fine

    def get(self, relative: str) -> bytes:
        return self._call(lambda client: client.read_file(f"/{relative}"))

    def delete(self, relative: str) -> None:
        self._call(lambda client: client.unlink(f"/{relative}"))


def open_filestore(uri: str, uid: int, gid: int) -> Filestore:
    """The registered URI, reached the way this host can (see the module docstring)."""
    if not uri.startswith("file://"):
        raise ValueError(f"unsupported filestore URI {uri!r}")
    local = Filestore(Path(uri.removeprefix("file://")), uid, gid)
    nfs = os.environ.get("OX_FILESTORE_NFS", "")
    if not nfs or local.mode.startswith("nfs"):
        return local
    server, _, export = nfs.partition(":")
    return NfsFilestore(server, export or "/", uid, gid)
