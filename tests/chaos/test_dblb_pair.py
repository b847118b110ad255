"""Before rollout, the guide's recommended load balancer option: the keepalived pair.
Killing the active HAProxy must cost seconds, not the outage the single dblb costs, and
a VRRP cut between the pair must be reported as the split brain it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.chaos.checkers.floating import CHECKED_CLIENT
from lab.roles.dblb.front import DblbPair
from lab.roles.dblb.keepalived_config import PRIORITIES, takeover_bound_s
from lab.roles.system import Lab
from tests.chaos import run_scenario

pytestmark = [pytest.mark.chaos, pytest.mark.galera, pytest.mark.dblb, pytest.mark.docker]


def test_killing_the_active_haproxy_moves_the_address_and_loses_nothing(
    healthy_pair_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("dblb-pair-kill", healthy_pair_lab, chaos_seed, chaos_report_dir)
    assert not run.violations(), run.violations()
    [kill] = run.measurements
    [takeover] = [p for p in run.probes if "takeover_s" in p]
    assert takeover["taken_over_by"] not in (None, takeover["killed"]), (
        f"the other member must take the address: {takeover}"
    )
    # a dead HAProxy is noticed by keepalived's track script and the address moves at
    # once, well inside VRRP's master-down interval for a silent master
    assert takeover["takeover_s"] < takeover_bound_s(PRIORITIES[1]), takeover
    # clients had service again while the killed HAProxy was still dead: the pair, not
    # the heal, brought them back (the single dblb serves nothing until it is back)
    assert kill["recovery_s"] is not None, kill
    assert kill["start_s"] + kill["recovery_s"] < kill["healed_s"], kill
    print(
        f"dblb-pair-kill: write gap {kill['recovery_s']} s ({kill['client']}), takeover {takeover}"
    )


def test_a_vrrp_cut_between_the_pair_is_reported_as_split_brain(
    healthy_pair_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("dblb-vrrp-cut", healthy_pair_lab, chaos_seed, chaos_report_dir)
    holders = run.verdict("one-address-holder")
    assert "split-brain" in holders.anomalies, (
        f"both members claimed the address while VRRP was cut: {holders.summary()}"
    )
    assert run.violations(), "a split brain fails the run: `lab chaos run` exits non-zero"
    assert run.verdict("bank").valid(), "the split brain did not change the bank's total"
    pair = healthy_pair_lab.dblb
    assert isinstance(pair, DblbPair)
    assert len(pair.holders()) == 1, "after the heal one member holds the address again"


def test_a_round_robin_name_keeps_handing_out_the_dead_haproxy(
    healthy_pair_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("dns-round-robin", healthy_pair_lab, chaos_seed, chaos_report_dir)
    [fault] = run.history.faults
    assert fault.end is not None
    by_address = [
        op
        for op in run.history.ops
        if op.f == CHECKED_CLIENT and op.outcome == "ok" and fault.start < op.start < fault.end
    ]
    assert by_address, "the floating address served again while the holder was frozen"
    verdict = run.verdict("unchecked-rotation")
    assert "dead-address-used" in verdict.anomalies, (
        f"after the takeover the name still led to the frozen HAProxy: {verdict.stats}"
    )
    assert not run.violations(), "a demonstration: its finding does not fail the run"
