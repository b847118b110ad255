"""Observable under load: while many pooled connections fail over at once (a reconnect
storm), the operator's instruments must keep answering: `lab status`, HAProxy's stats
page and every surviving node's clustercheck (HAProxy's own health check). A status
page that times out during the storm leaves the operator blind when it matters most."""

from __future__ import annotations

from lab.chaos.checkers import Verdict
from lab.chaos.history import History

OBSERVED = "observed"  # a probe: {"what": ..., "ok": bool, "seconds": float, "error": str}


def check_observable(history: History, deadline_s: float) -> Verdict:
    verdict = Verdict("observable-under-load")
    samples = [p for p in history.probes if p.get("kind") == OBSERVED]
    answered = 0
    for p in samples:
        if not p.get("ok"):
            verdict.add("unanswered", f"{p['what']} at {p['at']} s: {p.get('error', '?')}")
        elif float(p.get("seconds", 0.0)) > deadline_s:
            verdict.add(
                "unanswered",
                f"{p['what']} at {p['at']} s took {p['seconds']} s (deadline {deadline_s} s)",
            )
        else:
            answered += 1
    if not samples:
        verdict.add("not-observed", "nothing was sampled during the fault: nothing was checked")
    verdict.stats = {"samples": len(samples), "answered": answered}
    return verdict
