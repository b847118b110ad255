"""Before rollout, the guide's alternative to dedicated load balancers: HAProxy on each
groupware node. Two independent HAProxies must still write to one Galera node at a time
while the writer fails and returns."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.roles.system import Lab
from tests.chaos import run_scenario

pytestmark = [pytest.mark.chaos, pytest.mark.guide_galera, pytest.mark.dblb, pytest.mark.docker]


def test_local_haproxies_follow_one_writer_away_and_back(
    healthy_local_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("dblb-local-writer", healthy_local_lab, chaos_seed, chaos_report_dir)
    assert not run.violations(), run.violations()
    one = run.verdict("one-writer")
    # the check must have had something to judge: writes on both sides of both moves
    # and samples of both instances throughout
    assert one.stats["writer_changes"] >= 2, f"writes moved away and back: {one.stats}"
    assert one.stats["samples"] > 20, one.stats
    processes = {op.process for op in run.history.ops if op.outcome == "ok" and op.process >= 0}
    assert {p // 10 for p in processes} == {0, 1}, "both groupware nodes' HAProxies wrote"


def test_killing_one_nodes_haproxy_fails_only_its_users_and_moves_them(
    healthy_local_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("dblb-local-kill", healthy_local_lab, chaos_seed, chaos_report_dir)
    assert not run.violations(), run.violations()
    confined = run.verdict("failures-confined")
    assert confined.stats["failed_on_faulty_node"] > 0, (
        f"oxgw01's users noticed its HAProxy was gone (DBP-0001): {confined.stats}"
    )
    assert confined.stats["users_moved"] > 0, confined.stats
