"""The operator's own files under test: their tuning wins over the lab's, their
haproxy.cfg runs as written under their names, the guide-following example serves OX
through their Apache and NFS files, and their HAProxy timeout mistake is caught by a
chaos run that names the line."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from lab.chaos.scenarios.registry import run_registered
from lab.cli import main
from lab.infra.docker_env import LABEL_LAB
from lab.infra.nodes import read_file
from lab.operator.init import init_project
from lab.operator.project import Project, load_project
from lab.plan.topology import LabRequest
from lab.pytest_plugin import module_lab
from lab.roles.groupware.client import OxSession
from lab.roles.system import Lab

pytestmark = [pytest.mark.docker]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HOSTS = "".join(f'"db{i}.example.net" = "galera{i}"\n' for i in (1, 2, 3))


def operator_project(directory: Path) -> Project:
    """The reference files with an operator's changes: tuning in ox.cnf and an extra
    .cnf (the extra one must win), their own HAProxy names, short HAProxy timeouts and
    a short pool idle time (so the idle scenario takes seconds)."""
    init_project(directory, LabRequest.of(topology="guide-galera").plan())
    ox_cnf = directory / "db/ox.cnf"
    ox_cnf.write_text(ox_cnf.read_text().replace("max_connections = 200", "max_connections = 321"))
    (directory / "db/tuning.cnf").write_text("[mysqld]\nmax_connections = 333\n")
    cfg = directory / "dblb/haproxy.cfg"
    text = re.sub(
        r"server galera(\d) galera\d:3306", r"server db\1 db\1.example.net:3306", cfg.read_text()
    )
    text = text.replace("listen db-write", "listen mysql-rw").replace(
        "listen db-read", "listen mysql-ro"
    )
    text = text.replace("timeout client 20m", "timeout client 2s").replace(
        "timeout server 20m", "timeout server 2s"
    )
    cfg.write_text(text)
    props = directory / "groupware/configdb.properties"
    props.write_text(props.read_text().replace("maxIdleTime=60000", "maxIdleTime=9000"))
    toml = directory / "oxlab.toml"
    toml.write_text(
        toml.read_text()
        .replace('cnf = ["db/wsrep.cnf"]', 'cnf = ["db/wsrep.cnf", "db/tuning.cnf"]')
        .replace("[hosts]", f"[hosts]\n{HOSTS}", 1)
    )
    return load_project(toml)


@pytest.fixture(scope="module")
def operator_lab(
    lab_factory: Callable[..., Lab], flavour: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    project = operator_project(tmp_path_factory.mktemp("operator"))
    request = LabRequest.of(project, topology="galera", flavour=flavour)
    yield from module_lab(lab_factory(request, name=f"operator-{flavour}"))


@pytest.mark.galera
def test_the_operators_tuning_wins_over_the_labs_own(operator_lab: Lab) -> None:
    assert operator_lab.galera
    for node in operator_lab.galera.nodes:
        value = node.sql("SELECT @@max_connections").strip()
        assert value == "333", (
            f"{node.name}: the operator's extra .cnf is read after ox.cnf (theirs too) and "
            f"the lab's own files; max_connections is {value}"
        )


@pytest.mark.galera
def test_haproxy_runs_the_operators_file_under_their_names(operator_lab: Lab) -> None:
    dblb, project = operator_lab.dblb, operator_lab.plan.project
    assert dblb and project
    theirs = project.file("dblb", "haproxy_cfg")
    assert theirs and read_file(dblb, "/etc/haproxy/haproxy.cfg") == theirs.text.encode(), (
        "their haproxy.cfg byte for byte"
    )
    assert operator_lab.wait_writable() == "galera1", "db1.example.net is galera1 in the lab"
    operator_lab.wait_healthy()  # health reads every server UP by the lab's names: polled
    seen = {(b.listener, b.server, b.status) for b in dblb.backends()}
    assert {
        (listener, f"galera{i}", "UP") for listener in ("db-write", "db-read") for i in (1, 2, 3)
    } == seen, f"their mysql-rw/db1 read as the lab's db-write/galera1: {seen}"


@pytest.mark.galera
def test_an_idle_pool_connection_killed_by_their_timeouts_names_the_line(
    operator_lab: Lab, chaos_seed: int
) -> None:
    run = run_registered("pool-idle", operator_lab, chaos_seed)
    dropped = [op for op in run.history.ops if op.f == "reuse" and op.outcome != "ok"]
    assert len(dropped) == 4, "HAProxy closed every connection idle longer than its 2 s"
    assert run.violations(), "a pooled connection OX would still use was dropped"
    assert any("HA001" in e and "dblb/haproxy.cfg:" in e for e in run.explanations), (
        f"the verdict names the operator's timeout line: {run.explanations}"
    )
    assert {f["role"] for f in run.files} == {"db", "clustercheck", "dblb"}, run.files


@pytest.mark.galera
def test_a_file_the_real_tool_rejects_stops_lab_up_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], docker_client: docker.DockerClient
) -> None:
    project = operator_project(tmp_path)
    cfg = tmp_path / "dblb/haproxy.cfg"
    lines = cfg.read_text().splitlines()
    bad = next(i for i, line in enumerate(lines) if line.strip() == "bind :3306") + 1
    lines.insert(bad, "    ballance roundrobin")
    cfg.write_text("\n".join(lines) + "\n")
    assert main(["up", "--config", str(project.path), "--name", "bad-syntax"]) == 1
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("lab: error")]
    assert len(errors) == 1 and f"dblb/haproxy.cfg:{bad + 1}" in errors[0], err
    assert "ballance" in errors[0] and "Traceback" not in err, "haproxy -c's own words"
    left = docker_client.containers.list(all=True, filters={"label": f"{LABEL_LAB}=bad-syntax"})
    assert not left, "nothing started, nothing left behind"


@pytest.fixture(scope="module")
def guide_example_lab(lab_factory: Callable[..., Lab], flavour: str) -> Iterator[Lab]:
    project = load_project(EXAMPLES / "guide" / "oxlab.toml")
    request = LabRequest.of(project, flavour=flavour)
    yield from module_lab(lab_factory(request, name=f"example-guide-{flavour}"))


@pytest.mark.guide_galera
def test_the_guide_example_serves_ox_through_the_operators_files(guide_example_lab: Lab) -> None:
    lab = guide_example_lab
    assert lab.web and lab.ox and lab.ox.filestore
    session = OxSession.login(lab.web.https_url, "testuser", "secret", verify=lab.web.ca_path)
    other = OxSession.login(lab.web.https_url, "testuser", "secret", verify=lab.web.ca_path)
    while other.route == session.route:  # the balancer spreads new sessions
        other = OxSession.login(lab.web.https_url, "testuser", "secret", verify=lab.web.ca_path)
    home = next(f["id"] for f in session.folders() if f["title"] == "Test User")
    data = os.urandom(50_000)
    doc = session.upload(home, "example.bin", data)
    assert other.download(doc) == data, (
        "their proxy_ajp.conf (ox1/ox2.ox.example.net) balances; their exports share files"
    )
    assert lab.ox.filestore.owners() == {"1001:1001"}, "open-xchange owns the files"
    assert read_file(lab.web, "/etc/ssl/certs/www.ox.example.net.pem"), (
        "the run's certificate where their site looks for it"
    )
