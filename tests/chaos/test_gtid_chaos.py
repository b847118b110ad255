"""Before rollout, on the guide's GTID master/slave: the master is killed. Reads go on
from the slave, writes stop until `lab promote` makes the slave the master and repoints
HAProxy; acknowledged writes survive except within asynchronous replication's window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from lab.plan.topology import LabRequest
from lab.pytest_plugin import runnable_request
from lab.roles.system import Lab
from tests.chaos import run_scenario

pytestmark = [pytest.mark.chaos, pytest.mark.gtid, pytest.mark.docker]


def test_master_kill_then_promotion(
    own_lab_factory: Callable[..., Lab],
    lab_request: LabRequest,
    docker_client: docker.DockerClient,
    flavour: str,
    chaos_seed: int,
    chaos_report_dir: Path,
) -> None:
    request = runnable_request(docker_client, lab_request, flavour, "gtid")
    lab = own_lab_factory(request, name=f"chaos-promote-{flavour}")  # promotion changes it
    run = run_scenario("gtid-master-kill", lab, chaos_seed, chaos_report_dir)
    probe = run.probes[0]
    assert probe["reads_served_while_master_down"] > 0, f"reads continue from the slave: {probe}"
    assert probe["writes_served_while_master_down"] == 0, f"no writes without a master: {probe}"
    assert probe["promotion"]["new_master"] == "dbslave"
    assert not run.violations(), run.violations()
