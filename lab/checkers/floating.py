"""The dblb pair's floating address, as the lab observed it during a run.

`one-address-holder` forbids `split-brain`: two load balancers holding one address means
clients reach either at random (the bridge learns whichever MAC announced last), so two
HAProxies may choose writers independently. `no-address-holder` is a finding: while
nobody holds it no client is served, which a takeover does for a moment by design.
"""

from __future__ import annotations

from lab.checkers import Verdict
from lab.history import History

HOLDERS = "address-holders"  # probe kind: who held the floating address, and when


def check_one_holder(history: History) -> Verdict:
    verdict = Verdict("one-address-holder")
    samples = [p for p in history.probes if p["kind"] == HOLDERS]
    split = [p for p in samples if len(p["holders"]) > 1]
    if split:
        first = split[0]
        verdict.add(
            "split-brain",
            f"from {first['at']:.1f} s {' and '.join(first['holders'])} both held "
            f"{first['address']} ({len(split)} of {len(samples)} samples)",
        )
    nobody = [p for p in samples if not p["holders"]]
    if nobody:
        verdict.add("no-address-holder", f"{len(nobody)} samples where nobody held it")
    verdict.stats = {
        "samples": len(samples),
        "split_brain_samples": len(split),
        "split_brain_ms": round(1000 * (split[-1]["at"] - split[0]["at"])) if split else 0,
    }
    return verdict
