"""Before rollout: all three Galera nodes crash at once. The lab's recovery must restart
the cluster from the node with the highest committed seqno. With
innodb_flush_log_at_trx_commit=1 nothing acknowledged is lost; with 0 the run is
report-only: the nodes may recover to different positions, and whatever acknowledged
writes are gone must be listed, operation by operation."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.chaos.history import FINAL
from lab.chaos.runner import ChaosRun
from lab.roles.system import Lab
from tests.chaos import run_scenario

pytestmark = [pytest.mark.chaos, pytest.mark.galera, pytest.mark.docker]


def bootstrapped_from_the_most_advanced_node(run: ChaosRun) -> None:
    probe = run.probes[0]
    best = max(p["seqno"] for p in probe["positions"])
    chosen = next(p for p in probe["positions"] if p["node"] == probe["bootstrapped"])
    assert chosen["seqno"] == best, f"bootstrapped from a stale node: {probe['positions']}"


def test_whole_cluster_crash_with_flush1_loses_nothing(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("galera-crash", healthy_lab, chaos_seed, chaos_report_dir)
    bootstrapped_from_the_most_advanced_node(run)
    kept = run.verdict("no-acknowledged-write-lost")
    assert kept.stats["acknowledged"] > 50, "the workload did real work before the crash"
    assert not run.violations(), run.violations()


def test_whole_cluster_crash_with_flush0_reports_every_lost_write(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("galera-crash-flush0", healthy_lab, chaos_seed, chaos_report_dir)
    bootstrapped_from_the_most_advanced_node(run)
    assert run.violations() == [], "flush=0 is report-only: losses are findings"
    [final] = [op for op in run.history.ops if op.process == FINAL]
    present = set(final.value)
    missing = [
        op
        for op in run.history.ops
        if op.f == "insert"
        and op.outcome == "ok"
        and op.process != FINAL
        and op.value not in present
    ]
    reported = run.verdict("no-acknowledged-write-lost").anomalies.get("lost-write", [])
    assert len(reported) == len(missing), "every lost acknowledged insert is reported"
    for op, line in zip(missing, reported, strict=True):
        assert line.startswith(op.describe()), f"the report names the lost operation: {line}"
    print(f"innodb_flush_log_at_trx_commit=0: {len(missing)} acknowledged writes lost")
