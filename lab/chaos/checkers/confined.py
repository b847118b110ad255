"""A fault on one groupware node reaches that node's users only, and the balancer moves
them: what HAProxy on each node (`--dblb local`) promises when one node's HAProxy dies.

`failures-confined` forbids `other-users-failed`: an operation that failed during the
fault for a user whose session was on another node. It forbids `not-moved`: a user of
the faulty node whose last operation in the fault still failed there (the balancer never
moved them). Stats: how many failures the faulty node's users saw before they moved.
"""

from __future__ import annotations

from lab.chaos.checkers import Verdict
from lab.chaos.history import History


def check_failures_confined(history: History, route: str) -> Verdict:
    verdict = Verdict("failures-confined")
    fault = history.faults[0]
    end = fault.end if fault.end is not None else max(op.end for op in history.ops)
    during = [op for op in history.ops if fault.start <= op.start <= end]
    theirs = [op for op in during if op.outcome != "ok" and op.node not in (route, "")]
    for op in theirs[:3]:
        verdict.add("other-users-failed", f"{op.describe()} (session on {op.node})")
    on_route = {op.process for op in during if op.node == route}
    moved = 0
    for process in sorted(on_route):
        mine = [op for op in during if op.process == process and op.node]
        if mine and mine[-1].node == route and mine[-1].outcome != "ok":
            verdict.add(
                "not-moved", f"process {process}: still failing on {route}: {mine[-1].describe()}"
            )
        elif any(op.node != route and op.outcome == "ok" for op in mine):
            moved += 1
    verdict.stats = {
        "failed_on_faulty_node": sum(op.outcome != "ok" and op.node == route for op in during),
        "failed_elsewhere": len(theirs),
        "users_moved": moved,
    }
    return verdict
