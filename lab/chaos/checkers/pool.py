"""Pooled connections: OX's JDBC pool hands out a connection that has been idle up to
maxIdleTime. A balancer (or firewall) that closes idle connections sooner makes OX's
first query after a quiet spell fail with "Lost connection"; the guide warns that
HAProxy's default timeouts do exactly that."""

from __future__ import annotations

from lab.chaos.checkers import Verdict
from lab.chaos.history import History

REUSE = "reuse"  # an op: a pooled connection used again after `value` seconds idle


def check_pool_reuse(history: History) -> Verdict:
    verdict = Verdict("pooled-connections-usable")
    reused = [op for op in history.ops if op.f == REUSE]
    for op in reused:
        if op.outcome != "ok":
            verdict.add(
                "dropped-idle-connection",
                f"client {op.process}: idle {op.value} s within OX's maxIdleTime, then "
                f"{op.error or op.outcome}",
            )
    if not reused:
        verdict.add("no-reuse", "no pooled connection was used again: nothing was checked")
    dropped = len(verdict.anomalies.get("dropped-idle-connection", []))
    verdict.stats = {"reused": len(reused) - dropped, "dropped": dropped}
    return verdict
