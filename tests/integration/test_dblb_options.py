"""The guide's load balancer options in front of the databases, as an operator checks
them: the keepalived pair floats one address (given up by a dead or hung HAProxy, kept
by the survivor when it returns: nopreempt), runs the operator's own keepalived.conf and
refuses one keepalived rejects; HAProxy on each groupware node serves OX on 127.0.0.1
and both instances write to the same node."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from lab.cli import main
from lab.infra.docker_env import LABEL_LAB
from lab.infra.nodes import read_file
from lab.infra.waiting import poll
from lab.operator.project import load_project
from lab.plan.topology import LabRequest
from lab.roles.dblb.front import DblbPair
from lab.roles.dblb.keepalived_config import KEEPALIVED_CONF
from lab.roles.dblb.lb_options import OPTIONS
from lab.roles.dblb.role import haproxies
from lab.roles.groupware.client import OxSession
from lab.roles.status import render_status
from lab.roles.system import Lab

pytestmark = [pytest.mark.dblb, pytest.mark.docker]


def the_pair(lab: Lab) -> DblbPair:
    assert isinstance(lab.dblb, DblbPair), "a --dblb keepalived lab has the pair"
    return lab.dblb


@pytest.mark.galera
def test_the_pair_floats_one_address_that_clients_write_through(galera_pair_lab: Lab) -> None:
    # the module's lab is shared: a fault test before this one (any order) may have left
    # galera1 rejoining, and HAProxy writes to a backup until its checks rise again
    galera_pair_lab.wait_healthy()
    pair = the_pair(galera_pair_lab)
    holder = pair.active()  # SplitBrain or "nobody holds it" would raise
    assert {n.name for n in galera_pair_lab.nodes()} >= {"dblb1", "dblb2"}
    writer = galera_pair_lab.wait_writable(timeout=10)
    assert writer == "galera1", "the holder's HAProxy writes to its active server"
    status = render_status(galera_pair_lab)
    assert f"floating address {pair.vip}" in status and f"held by {holder.name}" in status, status
    assert all(len(line) <= 100 for line in status.splitlines()), "status fits 100 columns"


@pytest.mark.galera
def test_a_hung_haproxy_gives_the_address_up_and_does_not_take_it_back(
    galera_pair_lab: Lab,
) -> None:
    galera_pair_lab.wait_healthy()
    pair = the_pair(galera_pair_lab)
    hung = pair.active()
    other = next(m for m in pair.members if m is not hung)
    stopped = hung.exec(["pkill", "-STOP", "-x", "haproxy"])
    assert stopped.exit_code == 0, stopped.output
    try:
        # a frozen HAProxy accepts connections and never answers: only the check
        # script's timeout can tell, and then keepalived gives the address up
        poll(
            lambda: pair.holders() == [other],
            timeout=10,
            what=f"{other.name} to take the address from the hung HAProxy on {hung.name}",
        )
    finally:
        healed_at = time.time()
        hung.exec(["pkill", "-CONT", "-x", "haproxy"])
    poll(
        lambda: any("Entering BACKUP STATE" in line for _, line in hung.timed_logs(healed_at)),
        timeout=15,
        what=f"{hung.name} to return as BACKUP once its HAProxy answers again",
    )
    assert pair.holders() == [other], "nopreempt: the returning member does not take it back"
    galera_pair_lab.wait_healthy()


KEEPALIVED_OPERATOR = """\
global_defs {
    router_id OX
}
vrrp_instance OX_VRRP {
    state BACKUP
    interface bond0
    virtual_router_id 42
    priority 150
    nopreempt
    advert_int 2
    authentication {
        auth_type PASS
        auth_pass 1234
    }
    virtual_ipaddress {
        10.20.30.77/24 brd 10.20.30.255 dev bond0
    }
}
"""


def keepalived_project(directory: Path, text: str) -> Path:
    (directory / "keepalived").mkdir(parents=True, exist_ok=True)
    (directory / "keepalived/keepalived.conf").write_text(text)
    toml = directory / "oxlab.toml"
    toml.write_text(
        '[lab]\ntopology = "galera"\ndblb = "keepalived"\n\n'
        '[dblb]\nkeepalived_conf = ["keepalived/keepalived.conf"]\n'
    )
    return toml


@pytest.mark.galera
def test_the_pair_runs_the_operators_keepalived_conf_on_the_labs_address(
    tmp_path: Path, own_lab_factory: Callable[..., Lab]
) -> None:
    project = load_project(keepalived_project(tmp_path, KEEPALIVED_OPERATOR))
    lab = own_lab_factory(LabRequest.of(project), name="pytest-keepalived-operator")
    pair = the_pair(lab)
    placed = (read_file(pair.members[0], KEEPALIVED_CONF) or b"").decode()
    assert "advert_int 2" in placed and "virtual_router_id 42" in placed, "their settings"
    assert f"{pair.vip}/" in placed and "10.20.30.77" not in placed, "the lab's address"
    pair.active()  # their file forms a pair that holds the address once
    lab.wait_writable(timeout=30)


@pytest.mark.galera
def test_a_keepalived_conf_the_tool_rejects_stops_lab_up_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], docker_client: docker.DockerClient
) -> None:
    bad = KEEPALIVED_OPERATOR.replace("advert_int 2", "advert_intx 2")
    line = bad.splitlines().index("    advert_intx 2") + 1
    toml = keepalived_project(tmp_path, bad)
    assert main(["up", "--config", str(toml), "--name", "bad-keepalived"]) == 1
    err = capsys.readouterr().err
    errors = [e for e in err.splitlines() if e.startswith("lab: error")]
    assert len(errors) == 1 and f"keepalived/keepalived.conf:{line}" in errors[0], err
    assert "advert_intx" in errors[0] and "Traceback" not in err, "keepalived's own words"
    left = docker_client.containers.list(all=True, filters={"label": f"{LABEL_LAB}=bad-keepalived"})
    assert not left, "nothing started, nothing left behind"


@pytest.mark.guide_galera
def test_groupware_nodes_use_their_own_haproxy_and_one_writer(
    guide_galera_local_lab: Lab,
) -> None:
    lab = guide_galera_local_lab
    assert lab.ox and lab.web and lab.dblb is None, "no dblb container: HAProxy is local"
    for node in lab.ox.nodes:
        props = (read_file(node, "/opt/open-xchange/etc/configdb.properties") or b"").decode()
        assert "127.0.0.1:3306" in props, f"{node.name}: OX connects to its local HAProxy"
    writers = {
        h.name: [b.server for b in h.backends() if b.listener == h.WRITE and b.status == "UP"]
        for h in haproxies(lab)
    }
    assert writers == {"oxgw01": ["galera1"], "oxgw02": ["galera1"]}, writers
    session = OxSession.login(lab.web.https_url, "testuser", "secret", verify=lab.web.ca_path)
    home, title = session.folder_id("Test User"), f"local-{time.time_ns()}"
    session.create_folder(home, title)
    assert title in session.folder_titles(home), "written and read through the local HAProxy"


@pytest.mark.galera
@pytest.mark.parametrize("name", [o.name for o in OPTIONS if o.detect])
def test_an_option_the_lab_cannot_run_here_says_why(
    name: str, docker_client: docker.DockerClient
) -> None:
    option = next(o for o in OPTIONS if o.name == name)
    reason = option.unavailable(docker_client)
    assert reason, f"{name}: the lab has no runner for it, so it must say why it cannot run"
    assert "\n" not in reason and len(reason) < 300, "one readable line"
    pytest.skip(reason)
