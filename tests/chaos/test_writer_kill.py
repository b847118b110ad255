"""Before rollout: kill the Galera node that holds HAProxy's write role while a client
writes through the write listener, and freeze a non-writer. Writes must move to a backup
(or go on around the frozen node) and nothing acknowledged may be lost. The write gap is
printed (and benchmarked by `lab bench failover [--profile ox]`), not asserted: timing
is a figure, not a verdict; the frozen node's stall is bounded by the profile's eviction
timeout, which is configuration, not noise."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.chaos.history import client_of
from lab.roles.system import Lab
from tests.chaos import run_scenario

pytestmark = [pytest.mark.chaos, pytest.mark.galera, pytest.mark.docker]
# a write blocked by the frozen member completes once it is evicted; allow the commit
# and the client's round trip on top of the eviction time
STALL_SLACK_S = 2.0


def test_writer_kill_moves_writes_and_loses_nothing(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    """OX's pool, the aggressive client and sysbench all write through the write
    listener; each must write again on the new writer, and the report must explain each
    client's gap by what HAProxy and Galera did."""
    run = run_scenario("writer-kill", healthy_lab, chaos_seed, chaos_report_dir)
    probes = [p for p in run.probes if "client" in p]
    for probe in probes:
        print(f"write gap ({probe['client']}): {probe['write_gap_s']:.2f} s ({run.profile})")
    assert [p["client"].split(":")[0] for p in probes] == [
        "OX's JDBC pool",
        "aggressive client",
    ], "one figure per client kind, OX's first"
    fault = run.history.faults[0]
    killed = probes[0]["killed"]
    for kind in ("ox-pool", "aggressive"):
        inserts = [
            op
            for op in run.history.ops
            if op.f == "insert" and op.process >= 0 and client_of(run.history, op) == kind
        ]
        # the kill has landed once a client saw it fail (a write begun a few ms after
        # the fault was recorded may still be acknowledged by the old writer)
        felt = min(op.end for op in inserts if op.outcome != "ok" and op.end >= fault.start)
        after = [op for op in inserts if op.outcome == "ok" and op.start > felt]
        assert len(after) >= 20 and all(op.node not in ("", killed) for op in after), (
            f"{kind}: after the kill, inserts are acknowledged by the new writer only"
        )
    assert all(p["new_writer"] != killed for p in probes), "writes moved to a backup"
    (sysbench,) = run.stock
    assert sysbench["gap_s"] is not None, f"sysbench wrote again after the kill: {sysbench}"
    assert sysbench["restarts"] >= 1 and not sysbench["threads_survived"], (
        f"sysbench's threads die with their connection and a fresh run takes over: {sysbench}"
    )
    evidence = next(p["evidence"] for p in run.probes if "evidence" in p)
    assert evidence["haproxy_down_s"].get("db-write") is not None, (
        f"HAProxy's mark-down of {killed} was found in its log: {evidence}"
    )
    assert any("OX's JDBC pool:" in line for line in run.why) and any(
        line.startswith("sysbench") for line in run.why
    ), f"every client's gap is explained: {run.why}"
    assert not run.violations(), run.violations()


def test_a_storm_of_pooled_connections_fails_over_and_stays_observable(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    """Four OX pools of 25 busy connections lose their writer at once: all move, the
    survivor keeps connection headroom, and the operator's instruments keep answering."""
    run = run_scenario("reconnect-storm", healthy_lab, chaos_seed, chaos_report_dir)
    probe = run.probes[-1]
    print(f"reconnect storm ({run.profile}): {probe}")
    assert probe["pooled_connections"] == 100, probe
    assert probe["min_connection_headroom"] > 0, f"the survivor ran out of connections: {probe}"
    observed = run.verdict("observable-under-load")
    assert observed.stats["samples"] >= 1 and not observed.anomalies, observed.summary()
    assert not run.violations(), run.violations()


def test_frozen_node_is_evicted_and_writes_resume_within_the_profiles_bound(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    """Galera waits for a frozen member until the evs timeouts evict it; then the two
    others go on. Nothing acknowledged is lost and the node rejoins after unpause."""
    run = run_scenario("pause", healthy_lab, chaos_seed, chaos_report_dir)
    probe = run.probes[-1]
    print(
        f"longest write stall with {probe['paused']} frozen: {probe['longest_stall_s']:.2f} s "
        f"(profile {run.profile}, eviction after {probe['eviction_s']:g} s)"
    )
    assert probe["evicted"], f"{probe['paused']} was dropped from the cluster's view: {probe}"
    bound = probe["eviction_s"] + STALL_SLACK_S
    assert probe["longest_stall_s"] <= bound, (
        f"writes resumed within the eviction timeout of profile {run.profile} ({bound:g} s)"
    )
    fault = run.history.faults[0]
    assert any(
        op.outcome == "ok" and fault.start + bound < op.end < (fault.end or 0)
        for op in run.history.ops
    ), "writes went on while the node was still frozen"
    assert not run.violations(), run.violations()


def test_a_killed_reader_costs_every_client_kind_a_bounded_read_gap(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("reader-kill", healthy_lab, chaos_seed, chaos_report_dir)
    gaps = {p["client"].split(":")[0]: p["worst_read_gap_s"] for p in run.probes}
    print(f"worst read gap per client ({run.profile}): {gaps}")
    assert set(gaps) == {"OX's JDBC pool", "aggressive client"}, gaps
    assert all(gap < float("inf") for gap in gaps.values()), f"every reader read again: {gaps}"
    assert not run.violations(), run.violations()
