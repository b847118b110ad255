"""One writer at a time, across independent HAProxy instances (`--dblb local`).

`one-writer` forbids `two-writers`: two acknowledged writes whose time spans overlap, one
committed on one Galera node and one on another. Galera would certify both, but writes on
two nodes at once are what the active-passive write listener exists to prevent (they turn
into certification conflicts, deadlock errors OX does not retry). It also forbids
`two-write-servers`: a sample of every instance's write listener in which the instances,
together, had two different servers UP.
"""

from __future__ import annotations

import itertools

from lab.chaos.checkers import Verdict
from lab.chaos.history import FINAL, History

WRITE_SERVERS = "write-servers"  # probe kind: per HAProxy instance, its write servers UP


def check_one_writer(history: History) -> Verdict:
    verdict = Verdict("one-writer")
    writes = sorted(
        (op for op in history.ops if op.outcome == "ok" and op.node and op.process != FINAL),
        key=lambda op: op.start,
    )
    overlaps = 0
    for i, op in enumerate(writes):
        for later in writes[i + 1 :]:
            if later.start >= op.end:
                break
            if later.node != op.node:
                overlaps += 1
                if overlaps <= 3:
                    verdict.add("two-writers", f"{op.describe()} overlaps {later.describe()}")
    samples = [p for p in history.probes if p["kind"] == WRITE_SERVERS]
    for p in samples:
        servers = {s for up in p["instances"].values() for s in up}
        if len(servers) > 1:
            verdict.add("two-write-servers", f"at {p['at']:.1f} s: {p['instances']}")
    writers = [op.node for op in writes]
    verdict.stats = {
        "writes": len(writes),
        "overlapping_pairs": overlaps,
        "samples": len(samples),
        "writer_changes": sum(a != b for a, b in itertools.pairwise(writers)),
    }
    return verdict
