"""The userspace-NFS filestore under an outage, against a fake server: an upload the
outage breaks leaves its partial file on the server, and the node removes it once the
server answers again, without waiting for another upload (CI saw a `.part` outlive the
filestore-outage run when the upload that would have swept it came first)."""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from lab.infra.waiting import poll
from lab.oxnode import filestore
from lab.oxnode.filestore import JANITOR_PERIOD_S, SETTLE_S, NfsFilestore
from lab.oxnode.libnfs import TIMEOUT_MS, NfsError

DEADLINE_S = 10 * JANITOR_PERIOD_S  # the janitor's round, with room for a busy machine


@dataclass
class FakeServer:
    """An NFS export as a dict; `down` makes every call fail as a dead connection does,
    `fail_writes` makes a write fail after the file was created (a broken connection
    mid-upload)."""

    files: dict[str, bytes] = field(default_factory=dict)
    down: bool = False
    refused: int = 0  # calls (mounts included) the outage turned away
    fail_writes: bool = False
    write_started: threading.Event = field(default_factory=threading.Event)
    release_write: threading.Event | None = None

    def client(self, *_: object) -> FakeClient:
        self._answer()
        return FakeClient(self)

    def _answer(self) -> None:
        if self.down:
            self.refused += 1
            raise NfsError(errno.ETIMEDOUT, "NFS: server gone")

    def partial_files(self) -> list[str]:
        return [p for p in self.files if p.endswith(".part")]


class FakeClient:
    def __init__(self, server: FakeServer) -> None:
        self.server = server

    def makedirs(self, path: str) -> None:
        self.server._answer()

    def write_file(self, path: str, data: bytes) -> None:
        self.server._answer()
        self.server.files[path] = b""  # OPEN(CREATE) reached the server
        self.server.write_started.set()
        if self.server.release_write:
            self.server.release_write.wait(DEADLINE_S)
        if self.server.fail_writes:
            raise NfsError(errno.EIO, f"NFS write {path}: connection lost")
        self.server.files[path] = data

    def rename(self, old: str, new: str) -> None:
        self.server._answer()
        self.server.files[new] = self.server.files.pop(old)

    def unlink(self, path: str) -> None:
        self.server._answer()
        self.server.files.pop(path, None)  # missing_ok, as NfsClient.unlink

    def close(self) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    fake = FakeServer()
    monkeypatch.setattr(filestore, "NfsClient", fake.client)
    yield fake
    fake.down = False  # let a janitor still running finish
    if fake.release_write:
        fake.release_write.set()


def _store() -> NfsFilestore:
    return NfsFilestore("filestore", "/filestore")


def _upload_in_thread(store: NfsFilestore, cid: int) -> tuple[threading.Thread, list[object]]:
    """An upload on its own thread, as the node's request threads run them; the list
    gets its location or the exception it raised."""
    outcome: list[object] = []

    def upload() -> None:
        try:
            outcome.append(store.put(cid, b"body"))
        except OSError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=upload)
    thread.start()
    return thread, outcome


def _wait_clean(server: FakeServer, store: NfsFilestore, what: str) -> None:
    """No partial file on the server and nothing unsettled on the node, in time."""
    poll(
        lambda: not server.partial_files() and store.unsettled == 0,
        timeout=DEADLINE_S,
        what=what,
    )


def _fail_one_upload(server: FakeServer, store: NfsFilestore) -> None:
    server.fail_writes = True
    with pytest.raises(OSError):
        store.put(1, b"body")
    server.fail_writes = False


def test_a_partial_file_is_removed_once_the_server_is_back_without_another_upload(
    server: FakeServer,
) -> None:
    store = _store()
    _fail_one_upload(server, store)
    _wait_clean(server, store, "the janitor to remove the partial file")


def test_a_partial_file_stays_counted_while_the_server_is_away(server: FakeServer) -> None:
    store = _store()
    server.fail_writes = True
    server.release_write = threading.Event()
    uploading, outcome = _upload_in_thread(store, 1)
    assert server.write_started.wait(DEADLINE_S)
    assert store.unsettled == 1, "an upload in progress is unsettled"
    server.down = True  # the outage begins while the write hangs, then the write fails
    server.release_write.set()
    uploading.join(DEADLINE_S)
    assert isinstance(outcome[0], OSError), f"the upload fails: {outcome}"
    refused = server.refused  # from here on, only the janitor calls
    poll(lambda: server.refused >= refused + 2, timeout=DEADLINE_S, what="two janitor rounds")
    assert server.partial_files(), "the fake server keeps the created file while away"
    assert store.unsettled == 1, "a partial file the janitor could not remove is unsettled"
    server.down = False
    _wait_clean(server, store, "the janitor to remove the partial file once NFS answers")


def test_every_partial_file_of_parallel_failures_is_removed(server: FakeServer) -> None:
    store = _store()
    server.fail_writes = True
    uploads = [_upload_in_thread(store, cid) for cid in (1, 2)]
    for thread, outcome in uploads:
        thread.join(DEADLINE_S)
        assert isinstance(outcome[0], OSError), f"the upload fails: {outcome}"
    server.fail_writes = False
    assert store.put(3, b"z"), "an upload works again"
    _wait_clean(server, store, "both partial files removed")
    assert len(server.files) == 1, f"only the good upload stays: {sorted(server.files)}"


def test_a_good_upload_leaves_its_file_and_nothing_unsettled(server: FakeServer) -> None:
    store = _store()
    location = store.put(7, b"body")
    assert server.files == {f"/{location}": b"body"}
    assert store.unsettled == 0


def test_the_settle_deadline_covers_a_timed_out_call_and_a_fresh_mount() -> None:
    assert SETTLE_S == 2 * TIMEOUT_MS / 1000 + JANITOR_PERIOD_S


def test_a_browser_waits_longer_than_a_node_takes_to_answer_fls() -> None:
    """During an outage the node answers FLS after its kept connection's call and a
    fresh mount both time out; a browser that gives up first sees a timeout instead."""
    from lab.roles.groupware.client import FILE_TIMEOUT_S

    worst = 2 * TIMEOUT_MS / 1000
    assert FILE_TIMEOUT_S >= 1.5 * worst, f"{FILE_TIMEOUT_S} s against the node's {worst} s"
