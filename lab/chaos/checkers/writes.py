"""No acknowledged write lost (RPO 0): every write a client saw acknowledged is in the
final state read once the lab has healed (a final read, process FINAL of the history).

Forbids `lost-write`. Reports `lost-in-replication-window` for asynchronous replication:
a write acknowledged by a GTID master shortly before it died may never have reached the
slave (the window is a parameter; Galera, being synchronous, gets none). The window is
closed at both ends, by acknowledgement time: from `window_s` before the fault up to the
fault itself. A write acknowledged after the fault was acknowledged by whatever served
once the master was dead (the promoted master), so losing it is a `lost-write`, never
the window's. Operations of unknown outcome (`info`) are never counted lost: they may not
have happened.
"""

from __future__ import annotations

from typing import Any

from lab.chaos.checkers import Verdict
from lab.chaos.history import FINAL, INSERT, READ_INSERTS, TXN, History, Op

CHECKER = "no-acknowledged-write-lost"


def check_writes_kept(history: History, window_s: float | None = None) -> Verdict:
    """From a recorded history: appends against the final list-append read, inserts
    against the final read of the inserted numbers (window from the first fault)."""
    finals = [op for op in history.ops if op.process == FINAL]
    lists = next((op for op in finals if op.f == TXN), None)
    inserts = next((op for op in finals if op.f == READ_INSERTS), None)
    if lists is not None:
        final = {int(key): [int(v) for v in seen] for _, key, seen in lists.value}
        return check_lost_appends(history, final)
    if inserts is not None:
        fault_at = history.faults[0].start if history.faults else float("inf")
        return check_inserts_kept(history, {int(v) for v in inserts.value}, fault_at, window_s)
    verdict = Verdict(CHECKER)
    verdict.add("no-final-read", "the history has no final read to compare with")
    return verdict


def check_lost_appends(history: History, final: dict[int, list[int]]) -> Verdict:
    """Every acknowledged append is in the final state read after healing."""
    verdict = Verdict(CHECKER)
    acknowledged = 0
    for op in _acknowledged(history, TXN):
        for f, key, value in _mops(op):
            if f == "append":
                acknowledged += 1
                if int(value) not in final.get(int(key), []):
                    verdict.add("lost-write", f"{op.describe()}: {value} missing from key {key}")
    verdict.stats = {"acknowledged_appends": acknowledged}
    return verdict


def check_inserts_kept(
    history: History, present: set[int], fault_at: float, window_s: float | None = None
) -> Verdict:
    """Every acknowledged insert is present; those acknowledged within `window_s` before
    the fault (`fault_at - window_s <= end <= fault_at`) are told apart (asynchronous
    replication's window; None: no window). `fault_at` must be when the master was dead
    (the kill delivered), so that no acknowledgement of the master's comes after it."""
    verdict = Verdict(CHECKER)
    acked = _acknowledged(history, INSERT)
    for op in acked:
        if op.value not in present:
            in_window = window_s is not None and fault_at - window_s <= op.end <= fault_at
            kind = "lost-in-replication-window" if in_window else "lost-write"
            verdict.add(kind, f"{op.describe()} acknowledged {_relative(op.end, fault_at)}")
    verdict.stats = {"acknowledged": len(acked), "present": len(present)}
    return verdict


def _relative(at: float, fault_at: float) -> str:
    if at <= fault_at:
        return f"{fault_at - at:.3f}s before the fault"
    return f"{at - fault_at:.3f}s after the fault"


def _acknowledged(history: History, f: str) -> list[Op]:
    return [op for op in history.ops if op.f == f and op.outcome == "ok" and op.process != FINAL]


def _mops(op: Op) -> list[tuple[str, Any, Any]]:
    return [(str(m[0]), m[1], m[2]) for m in op.value]
