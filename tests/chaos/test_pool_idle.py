"""Before rollout: OX's pool hands out connections that sat idle up to maxIdleTime.
The balancer must keep them that long (the guide: HAProxy's default timeouts do not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.roles.system import Lab
from tests.chaos import run_scenario

pytestmark = [pytest.mark.chaos, pytest.mark.galera, pytest.mark.docker]


def test_pooled_connections_survive_oxs_idle_time(
    healthy_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("pool-idle", healthy_lab, chaos_seed, chaos_report_dir)
    idle = healthy_lab.plan.pool_settings().max_idle_time_ms / 1000
    assert run.probes[0]["idle_s"] == pytest.approx(idle - 5), "idle as long as OX's pool allows"
    reused = [op for op in run.history.ops if op.f == "reuse"]
    assert len(reused) == 4 and all(op.outcome == "ok" for op in reused), (
        "every pooled connection (write and read listener) still answers: "
        + "; ".join(op.error for op in reused if op.error)
    )
    assert not run.violations(), run.violations()
