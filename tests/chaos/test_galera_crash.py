"""Before rollout: all three Galera nodes crash at once. The lab's recovery must restart
the cluster from the node with the highest committed seqno. With
innodb_flush_log_at_trx_commit=1 nothing acknowledged is lost; with 0 the nodes recover
to different positions and the checker reports whatever acknowledged writes are gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.chaos_report import publish
from lab.chaos_scenarios import galera_crash
from lab.lab import Lab

pytestmark = [pytest.mark.chaos, pytest.mark.galera, pytest.mark.docker]


@pytest.mark.parametrize("flush", [1, 0], ids=["flush1", "flush0"])
def test_whole_cluster_crash_recovers_from_the_most_advanced_node(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path, flush: int
) -> None:
    run = galera_crash(healthy_lab, chaos_seed, flush_log_at_trx_commit=flush)
    publish(run, chaos_report_dir)
    probe = run.probes[0]
    best = max(p["seqno"] for p in probe["positions"])
    chosen = next(p for p in probe["positions"] if p["node"] == probe["bootstrapped"])
    assert chosen["seqno"] == best, f"bootstrapped from a stale node: {probe['positions']}"
    assert not run.violations(), run.violations()  # flush=1: nothing acknowledged lost
    lost = run.verdicts[0].anomalies.get("lost-write", [])
    print(f"innodb_flush_log_at_trx_commit={flush}: {len(lost)} acknowledged writes lost")
