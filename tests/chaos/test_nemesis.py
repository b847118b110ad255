"""Before rollout, on the Galera lab: recorded workloads through HAProxy under a seeded
fault schedule, judged by the checkers. Figures (recovery times, errors, unknowns) are
printed and written to the report, not asserted: timing is a figure, not a verdict."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from lab.chaos.nemesis.faults import frozen_server, isolated, lying_donor
from lab.chaos.nemesis.leftovers import heal_leftovers
from lab.chaos.report.publish import publish
from lab.chaos.scenarios.galera import health_lie
from lab.roles.system import Lab
from tests.chaos import run_scenario

pytestmark = [pytest.mark.chaos, pytest.mark.galera, pytest.mark.docker]


def test_list_append_under_random_faults_keeps_read_committed_and_loses_nothing(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("galera-nemesis", healthy_lab, chaos_seed, chaos_report_dir)
    assert not run.violations(), f"seed {chaos_seed}: {run.violations()}"
    assert len(run.measurements) == len(run.schedule.steps), "every fault was injected"
    assert all(m["recovery_s"] is not None for m in run.measurements), (
        "clients got service back after every fault"
    )
    lost = run.verdict("no-acknowledged-write-lost")
    assert lost.stats["acknowledged_appends"] > 50, "the workload did real work"


def test_partitioned_node_refuses_writes_and_rejoins(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("partition", healthy_lab, chaos_seed, chaos_report_dir)
    probe = run.probes[0]
    assert probe["minority_write_refused"], f"the minority must refuse writes: {probe}"
    assert run.probes[1]["rejoined_by_ist"], f"the minority rejoined by IST: {run.probes[1]}"
    assert not run.violations(), f"the bank's total changed: {run.violations()}"
    bank = run.verdict("bank")
    assert bank.stats["transfers_ok"] > 20, "the majority kept serving transfers"
    assert healthy_lab.health_problems() == [], "after the heal every node is Synced again"


def dies_inside(*faults: AbstractContextManager[None]) -> list[AbstractContextManager[None]]:
    """A run that dies inside these faults: entered, never exited (kept referenced, or
    garbage collection would close the generators and run their healing)."""
    for fault in faults:
        fault.__enter__()
    return list(faults)


def test_next_run_heals_what_a_dead_run_left(healthy_lab: Lab) -> None:
    """A run killed mid-fault leaves a frozen node, firewall rules, a SIGSTOPped server,
    or a lying clustercheck with a donor's read lock; heal_leftovers (the first step of
    every chaos run) must undo all of it and say so before the next run starts."""
    assert healthy_lab.galera
    frozen, cut, hung = healthy_lab.galera.nodes
    try:
        left = dies_inside(isolated(cut, [frozen, hung]), frozen_server(hung))
        frozen.pause()
        said: list[str] = []
        healing = heal_leftovers(healthy_lab.nodes(), say=said.append)
        assert {
            f"{frozen.name}: unpaused",
            f"{cut.name}: firewall rules flushed",
            f"{hung.name}: mysqld continued",
        } == set(healing.healed), healing.healed
        assert healing.failed == [], healing.failed
        assert said == [f"healed a leftover of an earlier run: {h}" for h in healing.healed]
        healthy_lab.wait_healthy(timeout=120)

        left += dies_inside(lying_donor(hung))
        healing = heal_leftovers(healthy_lab.nodes())
        assert set(healing.healed) == {
            f"{hung.name}: lying clustercheck settings removed",
            f"{hung.name}: donor lock released",
        }, healing.healed
        assert healing.failed == [], healing.failed
    finally:
        heal_leftovers(healthy_lab.nodes())
    healthy_lab.wait_healthy(timeout=120)


def test_haproxy_kill_is_measured_as_the_single_point_of_failure(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("dblb-kill", healthy_lab, chaos_seed, chaos_report_dir)
    [kill] = run.measurements
    # completed while HAProxy was down (a request begun then may succeed once it is back)
    served = [
        op
        for op in run.history.ops
        if op.outcome == "ok" and kill["start_s"] + 0.5 < op.end < kill["healed_s"] - 0.1
    ]
    assert not served, f"nothing can be served without the one HAProxy: {served[:3]}"
    assert kill["recovery_s"] is not None and kill["recovery_s"] >= 5.0, kill
    assert not run.violations(), run.violations()


def test_every_healthy_answer_of_clustercheck_is_writable(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("health-truth", healthy_lab, chaos_seed, chaos_report_dir)
    truth = run.verdict("health-check-truth")
    assert truth.stats["said_not_ready"] > 0, "the faults were visible to clustercheck"
    assert truth.stats["said_200"] > 50, "healthy nodes were sampled throughout"
    assert not run.violations(), run.violations()


def test_a_clustercheck_that_passes_a_locked_donor_is_caught(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    """The differential check must be able to fail: a node whose clustercheck passes
    Donor nodes while it holds a donor's read lock answers 200 and cannot write."""
    run = health_lie(healthy_lab, chaos_seed)
    publish(run, chaos_report_dir)
    fault = run.history.faults[0]
    lies = run.verdict("health-check-truth").anomalies.get("healthy-but-unwritable", [])
    assert lies, f"the lying check on {fault.target} was caught: {run.violations()}"
    assert all(line.startswith(fault.target) for line in lies), (
        f"only the lying node is blamed: {lies}"
    )
    assert any("health-check-truth" in v for v in run.violations()), "and it fails the run"
