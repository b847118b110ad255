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


NAME_CLIENT = "connect-by-name"  # op f: a stock client connecting to the round-robin name
ADDRESS_CLIENT = "connect-by-address"  # op f: the same client to the floating address


def check_round_robin_name(history: History, slow_s: float) -> Verdict:
    """The guide rules DNS round robin out: a name that hands out every load balancer's
    address keeps handing out a dead one. `dead-address-used` (a finding: the scenario
    shows it, it does not forbid it): connects through the name that failed, or waited
    out the connect timeout (`slow_s`), after the floating address served again."""
    verdict = Verdict("round-robin-name")
    fault = history.faults[0]
    end = fault.end if fault.end is not None else max(op.end for op in history.ops)
    by_address = [op for op in history.ops if op.f == ADDRESS_CLIENT]
    fails = [op.end for op in by_address if op.outcome != "ok" and op.end >= fault.start]
    served = [
        op.start
        for op in by_address
        if op.outcome == "ok" and op.start >= max(fails, default=fault.start)
    ]
    back = min(served, default=end)
    by_name = [op for op in history.ops if op.f == NAME_CLIENT and back <= op.start <= end]
    bad = [op for op in by_name if op.outcome != "ok" or op.end - op.start >= slow_s]
    if bad:
        verdict.add(
            "dead-address-used",
            f"{len(bad)} of {len(by_name)} connects through the name failed or waited "
            f"{slow_s:g} s after the floating address served again; the last at "
            f"{bad[-1].start:.1f} s, {end - bad[-1].start:.1f} s before the heal",
        )
    verdict.stats = {
        "address_back_after_ms": round(1000 * (back - fault.start)),
        "name_connects_after": len(by_name),
        "name_connects_bad": len(bad),
    }
    return verdict
