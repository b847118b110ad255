"""The README's first command, through the CLI: a kept lab comes up and prints its status,
is found again by `status` and `list`, runs a command with `exec`, refuses a second `up`
under the same name, and `down` removes it (and only it); `lab test` runs the operator's
whole loop."""

from __future__ import annotations

import uuid
from pathlib import Path

import docker
import pytest

from lab import cli
from lab.plan.topology import LabRequest
from lab.pytest_plugin import runnable_request

pytestmark = [pytest.mark.gtid, pytest.mark.docker]


def test_up_status_down_round_trip(
    capsys: pytest.CaptureFixture[str], docker_client: docker.DockerClient, flavour: str
) -> None:
    runnable_request(docker_client, LabRequest(), flavour, "gtid")  # or a reasoned skip
    name = f"cli-{uuid.uuid4().hex[:6]}"
    args = ["--name", name, "--topology", "gtid", "--flavour", flavour]
    try:
        assert cli.main(["up", *args]) == 0
        up = capsys.readouterr().out
        assert "dbslave   slave   Yes  Yes" in up, f"the status table is printed:\n{up}"
        assert cli.main(["status", "--name", name]) == 0
        assert "db-read   dbslave" in capsys.readouterr().out, "status finds the kept lab"
        assert cli.main(["up", *args]) == 1
        assert "is already up" in capsys.readouterr().err
        assert cli.main(["list", "--name", name]) == 0
        listed = capsys.readouterr().out
        assert name in listed and "lab up" in listed and "running" in listed, listed
        assert cli.main(["exec", "--name", name, "dbslave", "--", "hostname"]) == 0
        assert capsys.readouterr().out.strip() == "dbslave", "lab exec runs on the node"
        assert cli.main(["exec", "--name", name, "dbslave", "--", "sh", "-c", "exit 3"]) == 3
        assert cli.main(["exec", "--name", name, "nosuch", "--", "true"]) == 1
        assert "has no node 'nosuch'; it has: " in capsys.readouterr().err
    finally:
        assert cli.main(["down", "--name", name]) == 0
    assert "removed" in capsys.readouterr().out
    assert cli.main(["status", "--name", name]) == 1
    assert f"no lab '{name}' is up" in capsys.readouterr().err


@pytest.mark.galera
@pytest.mark.chaos
def test_lab_test_runs_the_operators_loop_with_one_exit_code(
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
    flavour: str,
    tmp_path: Path,
) -> None:
    """`lab test`: up, the guide's checks, a chaos smoke run (writer-kill on galera),
    down; exit 0 only when all held, and nothing of the lab left afterwards."""
    runnable_request(docker_client, LabRequest(), flavour, "galera")
    name = f"cli-test-{uuid.uuid4().hex[:6]}"
    argv = ["test", "--name", name, "--flavour", flavour, "--report-dir", str(tmp_path)]
    try:
        code = cli.main(argv)
        out, err = capsys.readouterr()
        assert code == 0, f"lab test failed:\n{out}\n{err}"
        assert "lab test: PASS" in out and "chaos writer-kill held" in out, out
        assert "checks passed" in out and "dblb" in out, "the verify tables are printed"
        assert "not checked: filestore" in out, "a galera lab has no front end to check"
        assert list(tmp_path.glob("chaos-writer-kill-*.html")), "the smoke run's report is kept"
    finally:
        cli.main(["down", "--name", name])
    assert cli.main(["list", "--name", name]) == 0
    assert f"no lab '{name}'" in capsys.readouterr().out, "--destroy always removed it"
