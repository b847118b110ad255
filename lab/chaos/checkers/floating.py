"""The dblb pair's floating address, as the lab observed it during a run.

`one-address-holder` forbids `split-brain`: two load balancers holding one address means
clients reach either at random (the bridge learns whichever MAC announced last), so two
HAProxies may choose writers independently. `no-address-holder` is a finding: while
nobody holds it no client is served, which a takeover does for a moment by design.
"""

from __future__ import annotations

from lab.chaos.checkers import Verdict
from lab.chaos.history import History

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


UNCHECKED_CLIENT = "connect-unchecked"  # op f: a client whose rotation nobody health-checks
CHECKED_CLIENT = "connect-checked"  # op f: the same client through a health-checked path


def check_unchecked_rotation(history: History, slow_s: float) -> Verdict:
    """The guide rules out load balancing without health checks (DNS round robin, the
    JDBC driver's own round robin): the rotation keeps handing out a dead or split-off
    node. `dead-address-used` (a finding: the scenarios show it, they do not forbid it):
    connects of the unchecked client that failed, or waited out the connect timeout
    (`slow_s`), after the checked path (the floating address, HAProxy) served again:
    its first successful connect after its first failure in the fault (the takeover).

    Later failures of the checked path do not move that point. A frozen holder's kernel
    still answers ARP for the address it holds, so a client that re-resolves it may be
    sent to the frozen machine once more; and the heal moves the address back (the
    unfrozen holder has the higher priority and is still MASTER, so its peer steps
    down), which may break a connect in flight. Either is the checked path's own
    flap, counted in `checked_connects_bad_after`; neither says the name did better."""
    verdict = Verdict("unchecked-rotation")
    fault = history.faults[0]
    end = fault.end if fault.end is not None else max(op.end for op in history.ops)
    checked = [op for op in history.ops if op.f == CHECKED_CLIENT]
    fails = [op.end for op in checked if op.outcome != "ok" and op.end >= fault.start]
    since = min(fails, default=fault.start)
    back = min(
        (op.start for op in checked if op.outcome == "ok" and op.start >= since), default=end
    )
    flaps = [op for op in checked if op.outcome != "ok" and back <= op.start <= end]
    unchecked = [op for op in history.ops if op.f == UNCHECKED_CLIENT and back <= op.start <= end]
    bad = [op for op in unchecked if op.outcome != "ok" or op.end - op.start >= slow_s]
    if bad:
        verdict.add(
            "dead-address-used",
            f"{len(bad)} of {len(unchecked)} unchecked connects failed or waited "
            f"{slow_s:g} s after the checked path served again; the last at "
            f"{bad[-1].start:.1f} s, {end - bad[-1].start:.1f} s before the heal",
        )
    verdict.stats = {
        "checked_back_after_ms": round(1000 * (back - fault.start)),
        "unchecked_connects_after": len(unchecked),
        "unchecked_connects_bad": len(bad),
        "checked_connects_bad_after": len(flaps),
    }
    return verdict
