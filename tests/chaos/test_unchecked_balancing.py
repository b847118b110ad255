"""Before rollout, why the guide rules out load balancing without health checks: the
JDBC driver's own round robin keeps reaching a node that split off from the cluster,
while HAProxy's clustercheck takes it out."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.chaos.checkers.floating import CHECKED_CLIENT, UNCHECKED_CLIENT
from lab.roles.system import Lab
from tests.chaos import run_scenario

pytestmark = [pytest.mark.chaos, pytest.mark.galera, pytest.mark.dblb, pytest.mark.docker]


def test_the_drivers_round_robin_keeps_using_a_split_off_node(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("jdbc-round-robin", healthy_lab, chaos_seed, chaos_report_dir)
    [fault] = run.history.faults
    assert fault.end is not None
    during = [op for op in run.history.ops if fault.start + 3 < op.start < fault.end]
    checked = [op for op in during if op.f == CHECKED_CLIENT]
    assert checked and all(op.outcome == "ok" for op in checked[-5:]), (
        "HAProxy's read listener serves on: the split-off node is out of its rotation"
    )
    unchecked = [op for op in during if op.f == UNCHECKED_CLIENT]
    refused = [op for op in unchecked if op.outcome != "ok"]
    # one node in three refuses queries while it is not Primary (MariaDB answers a causal
    # read there with 1205, a statement without one with 1047); the rotation keeps
    # taking it in turn
    assert 0.2 < len(refused) / len(unchecked) < 0.5, (
        f"{len(refused)} of {len(unchecked)} rotated connects refused: {refused[:2]}"
    )
    verdict = run.verdict("unchecked-rotation")
    assert "dead-address-used" in verdict.anomalies, verdict.summary()
    assert not run.violations(), "a demonstration: its finding does not fail the run"
