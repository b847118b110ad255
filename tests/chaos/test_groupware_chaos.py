"""Before rollout, on the guide's whole cluster: browsers through Apache while groupware
nodes are killed or restarted in turn. Session migration must keep every user logged in
and every file must download as it was uploaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.roles.system import Lab
from tests.chaos import run_scenario

pytestmark = [pytest.mark.chaos, pytest.mark.guide, pytest.mark.session, pytest.mark.docker]


def test_killed_groupware_node_users_move_and_stay_logged_in(
    guide_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("oxgw-kill", guide_lab, chaos_seed, chaos_report_dir)
    assert not run.violations(), run.violations()
    [kill] = run.measurements
    assert kill["recovery_s"] is not None, "users got service back while oxgw01 was down"
    during = [
        op
        for op in run.history.ops
        if op.outcome == "ok" and kill["start_s"] + 0.5 < op.start < kill["healed_s"]
    ]
    assert during and {op.node for op in during} == {"OX2"}, (
        "while oxgw01 is down every request is served by oxgw02"
    )


def test_rolling_restart_loses_no_session(
    guide_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("rolling-restart", guide_lab, chaos_seed, chaos_report_dir)
    assert not run.violations(), run.violations()
    files = run.verdict("files-intact")
    assert files.stats["uploads"] > 10 and files.stats["downloads"] > 5, files.stats


@pytest.mark.filestore
def test_filestore_outage_fails_cleanly_and_recovers(
    guide_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("filestore-outage", guide_lab, chaos_seed, chaos_report_dir)
    errors = run.verdict("clear-storage-errors")
    assert errors.stats["file_operations_failed"] > 0, "the outage was felt by uploads"
    assert run.probes[0]["upload_recovery_s"] is not None, "uploads work again after the heal"
    assert not run.violations(), run.violations()


def test_lagging_slave_never_hides_a_users_own_writes(
    guide_lab: Lab, chaos_seed: int, chaos_report_dir: Path
) -> None:
    run = run_scenario("lagging-slave", guide_lab, chaos_seed, chaos_report_dir)
    ryw = run.verdict("read-your-writes")
    assert ryw.stats["listings"] > 20, "folders were listed while the slave lagged"
    assert not run.violations(), run.violations()
