"""The README's first command, through the CLI: a kept lab comes up and prints its status,
is found again by `status`, refuses a second `up` under the same name, and `down`
removes it (and only it)."""

from __future__ import annotations

import uuid

import docker
import pytest

from lab import cli
from lab.pytest_plugin import runnable_request
from lab.spec.topology import LabRequest

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
    finally:
        assert cli.main(["down", "--name", name]) == 0
    assert "removed" in capsys.readouterr().out
    assert cli.main(["status", "--name", name]) == 1
    assert f"no lab '{name}' is up" in capsys.readouterr().err
