"""All nodes hold the same data once the lab has healed: the chunk checksums the run
took on every node (lab/roles/db/consistency.py) must agree. A difference names the table and
the primary-key range, with each node's row count and checksum."""

from __future__ import annotations

from lab.chaos.checkers import Verdict
from lab.chaos.history import History
from lab.roles.db.consistency import CHECKSUMS, differences


def check_nodes_consistent(history: History) -> Verdict:
    verdict = Verdict("nodes-consistent")
    taken = [p for p in history.probes if p.get("kind") == CHECKSUMS]
    if not taken:
        verdict.add("not-checksummed", "no checksums were taken: nothing was compared")
        return verdict
    nodes = taken[-1]["nodes"]
    if len(nodes) < 2:
        verdict.add("single-node", f"only {', '.join(nodes) or 'no node'} could be compared")
    for line in differences(nodes):
        verdict.add("data-differs", line)
    chunks = {k for chunks in nodes.values() for k in chunks}
    verdict.stats = {"nodes": len(nodes), "chunks": len(chunks)}
    return verdict
