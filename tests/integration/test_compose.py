"""lab/compose/: the guide's topologies brought up by docker compose alone. The setup
service runs the lab's own procedures on what compose started, and refuses a compose
file that drifted from the lab's definitions."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import docker
import pytest

from lab.compose import COMPOSE_DIR, COMPOSE_FILE, compose_command
from lab.infra.docker_env import remove_orphan_run_files
from lab.infra.errors import LabError
from lab.infra.waiting import poll
from lab.plan.flavours import DEFAULT_FLAVOUR, get_flavour
from lab.roles.groupware.client import OxSession
from lab.roles.images import build_images, groupware_images, images_for
from lab.roles.system import Lab

pytestmark = [pytest.mark.docker]
SETUP_TIMEOUT_S = 240.0


class ComposeRun:
    """One `docker compose -p PROJECT` run of a committed compose file; its logs are
    attached to any failure inside the `with` block, and `down -v` always follows."""

    def __init__(self, client: docker.DockerClient, topology: str, *overrides: Path) -> None:
        self.client = client
        self.topology = topology
        self.project = f"oxlabtest{os.getpid()}{topology.replace('-', '')}"
        files = [COMPOSE_DIR / topology / COMPOSE_FILE, *overrides]
        self.base = [
            *compose_command(),
            "-p",
            self.project,
            *(a for f in files for a in ("-f", str(f))),
        ]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=300, check=False
        )
        assert not check or result.returncode == 0, f"compose {args}: {result.stderr[-2000:]}"
        return result

    def wait_setup(self) -> tuple[int, str]:
        """The setup service's exit code and log, once it has ended."""
        filters = {
            "label": [
                f"com.docker.compose.project={self.project}",
                "com.docker.compose.service=setup",
            ]
        }

        def ended() -> docker.models.containers.Container | None:
            found = self.client.containers.list(all=True, filters=filters)
            return found[0] if found and found[0].status == "exited" else None

        setup = poll(ended, timeout=SETUP_TIMEOUT_S, what="the compose setup service to end")
        code = int(setup.attrs["State"]["ExitCode"])
        return code, setup.logs().decode(errors="replace")

    def __enter__(self) -> ComposeRun:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        try:
            if exc is not None:
                logs = self.run("logs", "--no-color", "--tail", "60", check=False).stdout
                exc.add_note(f"compose logs of {self.project}:\n{logs[-20000:]}")
        finally:
            self.run("down", "-v", "--remove-orphans", check=False)
            # what Lab.attach wrote for this lab on the host goes too, as after `lab down`
            remove_orphan_run_files(self.client)


@pytest.fixture(scope="module")
def compose_images(docker_client: docker.DockerClient) -> None:
    try:
        compose_command()
    except LabError as exc:
        pytest.skip(str(exc))
    specs = images_for(get_flavour(DEFAULT_FLAVOUR))
    build_images(docker_client, [*specs, *groupware_images()], lambda _: None)


def login_through_front_end(lab: Lab) -> OxSession:
    assert lab.web is not None, "the compose lab has a web node"
    return OxSession.login(lab.web.https_url, "testuser", "secret", verify=lab.web.ca_path)


@pytest.mark.guide
def test_guide_compose_file_brings_the_cluster_up(
    docker_client: docker.DockerClient, compose_images: None
) -> None:
    with ComposeRun(docker_client, "guide") as compose:
        compose.run("config", "-q")
        compose.run("up", "-d")
        code, log = compose.wait_setup()
        assert code == 0, f"setup failed:\n{log}"
        assert "guide is up" in log, log
        lab = Lab.attach("compose-guide", docker_client)
        assert lab.gtid is not None, "dbmaster/dbslave found by their labels"
        lab.gtid.wait_caught_up()
        session = login_through_front_end(lab)
        title = f"compose-{os.getpid()}"
        home = session.folder_id("Test User")
        session.create_folder(home, title)
        assert title in session.folder_titles(home), "the new folder is listed: written, read"
        assert lab.gtid.slave.sql_value("SELECT COUNT(*) FROM oxdb_5.legacy") == "2", (
            "the Preparations' restored databases replicated to the slave"
        )


@pytest.mark.guide
def test_a_drifted_compose_file_fails_the_setup_naming_what_differs(
    docker_client: docker.DockerClient, compose_images: None, tmp_path: Path
) -> None:
    """An operator's hand edit (here dbmaster's server_id) must not run unnoticed."""
    host_cnf = tmp_path / "host.cnf"
    host_cnf.write_text("[mysqld]\nserver_id = 42\n")
    override = tmp_path / "override.yml"
    override.write_text(
        'version: "2.4"\nservices:\n  dbmaster:\n    volumes:\n'
        f'      - "{host_cnf}:/etc/mysql/ox.conf.d/host.cnf:ro"\n'
    )
    with ComposeRun(docker_client, "guide", override) as compose:
        compose.run("up", "-d")
        code, log = compose.wait_setup()
        assert code != 0, f"a drifted file must fail the setup:\n{log}"
        assert "dbmaster" in log and "host.cnf differs" in log, log
        assert "Traceback" not in log, f"the failure explains itself in one line:\n{log}"


@pytest.mark.guide_galera
def test_guide_galera_compose_file_brings_the_cluster_up(
    docker_client: docker.DockerClient, compose_images: None
) -> None:
    with ComposeRun(docker_client, "guide-galera") as compose:
        compose.run("up", "-d")
        code, log = compose.wait_setup()
        assert code == 0, f"setup failed:\n{log}"
        lab = Lab.attach("compose-guide-galera", docker_client)
        assert lab.galera is not None and len(lab.galera.nodes) == 3
        assert lab.health_problems() == [], "all three Synced and every HAProxy server UP"
        session = login_through_front_end(lab)
        home = session.folder_id("Test User")
        session.create_folder(home, "through dblb")
        assert "through dblb" in session.folder_titles(home), "written and read through HAProxy"
