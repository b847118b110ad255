"""Why a client saw the write gap it saw: the lab's evidence from one failover (when
HAProxy marked the dead server DOWN, when Galera's survivors formed a view without it,
how many sessions HAProxy shut) and the sentences that relate each client's gap to it.

The evidence comes from the logs the components write anyway (HAProxy's "Server
db-write/galera1 is DOWN", Galera's "view(view_id(PRIM,...)"), stamped by Docker with
host time, so it lines up with the history without sampling during the fault."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lab.infra.nodes import Node
from lab.plan.failover import FailoverProfile
from lab.roles.dblb.front import Dblb

HAPROXY_DOWN = re.compile(
    r"Server (?P<listener>\S+)/(?P<server>\S+) is DOWN.*?(?P<active>\d+) sessions active"
)
GALERA_PRIMARY_VIEW = "view(view_id(PRIM,"
CLOSE_TO_S = 1.0
SHORT_CONNECT_MS = 2000  # a gap within this of its cause is explained by that cause


@dataclass(frozen=True)
class FailoverEvidence:
    """Seconds after the fault at which each component acted (None: not seen)."""

    killed: str
    haproxy_down_s: dict[str, float]  # listener -> mark-down time
    sessions_shut: int  # sessions still on the server when HAProxy marked it down
    galera_view_s: float | None  # first new Primary view on a survivor

    @property
    def write_down_s(self) -> float | None:
        return self.haproxy_down_s.get(Dblb.WRITE)


def collect(
    dblb: Dblb, survivors: Sequence[Node], killed: str, fault_at: float
) -> FailoverEvidence:
    """Read the evidence of a failover that began at host time `fault_at`."""
    listeners, servers = dblb.names().get("listeners", {}), dblb.names().get("servers", {})
    down: dict[str, float] = {}
    shut = 0
    for at, line in dblb.timed_logs(fault_at - 1):
        m = HAPROXY_DOWN.search(line)
        if not m or servers.get(m["server"], m["server"]) != killed or "[WARNING]" in line:
            continue
        listener = listeners.get(m["listener"], m["listener"])
        if listener not in down and at >= fault_at:
            down[listener] = round(at - fault_at, 2)
            shut += int(m["active"])
    views = [
        at - fault_at
        for node in survivors
        for at, line in node.timed_logs(fault_at)
        if GALERA_PRIMARY_VIEW in line
    ]
    return FailoverEvidence(killed, down, shut, round(min(views), 2) if views else None)


def explain(
    evidence: FailoverEvidence,
    profile: FailoverProfile,
    gaps: Sequence[tuple[str, float | None, str]],
) -> list[str]:
    """One sentence per cause, then one per client: (client, gap in seconds, what
    else a person should know about it, e.g. its timeouts or restarts)."""
    w = profile.write
    lines = []
    down = evidence.write_down_s
    connect_ms = profile.check_connect_ms(w)
    if down is not None:
        lines.append(
            f"HAProxy marked {evidence.killed} DOWN in the write listener {down:.1f} s after "
            f"the fault: {w.fall} checks (inter {w.inter_ms} ms) must fail, and a killed "
            "container's address answers nothing, so each waits for its timeout: "
            + (
                f"min(timeout connect {profile.timeout_connect}, inter) = {connect_ms} ms."
                if profile.timeout_check
                else f"without `timeout check`, inter itself ({connect_ms} ms)."
            )
            + (
                " `timeout connect 2s` with `timeout check 2s` would shorten each failed "
                "check to 2 s (profile ox-2s-timeouts measures it)."
                if connect_ms > SHORT_CONNECT_MS
                else ""
            )
        )
        lines.append(
            "At that moment on-marked-down shutdown-sessions shut the sessions still bound "
            f"to it (HAProxy's log: {evidence.sessions_shut} active at the mark-down); "
            "without it they would wait for the client's socket timeout."
        )
    else:
        lines.append(f"HAProxy did not mark {evidence.killed} DOWN in the write listener.")
    view = evidence.galera_view_s
    if view is not None:
        lines.append(
            f"Galera's survivors formed a Primary view without {evidence.killed} {view:.1f} s "
            "after the fault (evs.suspect_timeout); a write on them waits until then."
        )
    bound = max(t for t in (down, view, 0.0) if t is not None)
    for client, gap, note in gaps:
        if gap is None:
            lines.append(f"{client}: never wrote again before the run ended. {note}".strip())
        elif gap <= bound + CLOSE_TO_S:
            lines.append(
                f"{client}: {gap:.1f} s, bounded by the slower of HAProxy's mark-down and "
                f"Galera's new view ({bound:.1f} s) plus {max(0.0, gap - bound):.1f} s to "
                f"connect and commit. {note}".strip()
            )
        else:
            lines.append(
                f"{client}: {gap:.1f} s, {gap - bound:.1f} s after HAProxy and Galera had "
                "failed over: its connection attempt went to the dead server before the "
                f"mark-down (HAProxy retries it with timeout connect {profile.timeout_connect}) "
                f"or its own timeout had to expire first. {note}".strip()
            )
    return lines
