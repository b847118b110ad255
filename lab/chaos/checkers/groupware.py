"""The groupware workload's checkers (lab/chaos/clients/groupware.py records the history).

A session that has to log in again has been lost; an upload that downloads different
bytes is corrupt; a listing begun after one's own acknowledged folder creation that
misses it is a stale read. These checkers (sessions-kept, files-intact,
read-your-writes) forbid every anomaly they find: OX promises session migration,
byte-identical files and, with its replication monitor, that a user reads their own
writes, whatever the database's isolation level.
"""

from __future__ import annotations

from lab.chaos.checkers import Verdict
from lab.chaos.history import History

SESSION_ERRORS = ("SES-",)  # OX's session error codes: the session is gone


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
