"""`lab verify` through the inventory path, on stand-in hosts: the guide's cluster as
containers with an SSH server, reached only over SSH and the services' ports. A healthy
cluster verifies clean; each broken state an operator meets fails with one line naming
host and check; bad input stops before anything is touched.

With `--inventory FILE` the `verify` tests check the operator's own hosts instead."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.infra.nodes import Node, put_file, read_file
from lab.infra.waiting import poll
from lab.verify.result import Result
from lab.verify.run import SECTIONS, verify
from lab.verify.standin import StandinCluster
from lab.verify.target import Target, target_from_inventory

pytestmark = [pytest.mark.hosts, pytest.mark.docker]

SECTION_LAYOUT = {section: layout for section, layout, _ in SECTIONS}


@pytest.mark.verify
@pytest.mark.parametrize("section", list(SECTION_LAYOUT))
def test_the_cluster_verifies_clean(verify_target: Target, section: str) -> None:
    layout = SECTION_LAYOUT[section]
    if layout and layout != verify_target.layout:
        pytest.skip(
            f"{section}: checks of the {layout} layout; this cluster is {verify_target.layout}"
        )
    results = verify(verify_target, (section,)).results
    assert results, f"{section} ran no check"
    failed = [r.line() for r in results if not r.ok]
    assert not failed, "\n".join(failed)


@pytest.fixture
def standin_target(standin_cluster: StandinCluster) -> Target:
    return target_from_inventory(standin_cluster.inventory, standin_cluster.credentials)


def sh(node: Node, script: str) -> str:
    result = node.exec(["sh", "-c", script])
    assert result.exit_code == 0, f"{node.name}: {script}: {result.output}"
    return result.output


@contextlib.contextmanager
def broken(node: Node, breaks: str, heals: str) -> Iterator[None]:
    """An operator's mistake made on a stand-in (through Docker, as a person with a root
    shell would), healed in finally whatever the test found."""
    sh(node, breaks)
    try:
        yield
    finally:
        sh(node, heals)


def failed_lines(target: Target, section: str) -> list[str]:
    return [r.line() for r in verify(target, (section,)).failed]


def only_failure(results: list[Result]) -> list[str]:
    return [r.line() for r in results if not r.ok]


def test_a_desynced_galera_node_fails_naming_it(
    standin_cluster: StandinCluster, standin_target: Target
) -> None:
    galera2 = standin_cluster.nodes["galera2"]
    with broken(
        galera2,
        "mysql -e 'SET GLOBAL wsrep_desync = ON'",
        "mysql -e 'SET GLOBAL wsrep_desync = OFF'",
    ):
        results = verify(standin_target, ("galera",)).results
    failed = only_failure(results)
    assert failed and all(": galera2: wsrep status:" in line for line in failed), failed
    assert "wsrep_local_state_comment is Donor/Desynced, not Synced" in failed[0]
    check = next(r for r in results if r.host == "galera2" and "clustercheck" in r.check)
    assert check.ok and "HTTP 503" in check.evidence, (
        f"clustercheck takes the desynced node out, as it should: {check.evidence}"
    )


def test_a_route_that_differs_from_the_balancer_member_fails(
    standin_cluster: StandinCluster, standin_target: Target
) -> None:
    ajp = "/opt/open-xchange/etc/ajp.properties"
    with broken(
        standin_cluster.nodes["oxgw02"],
        f"sed -i 's/^AJP_JVM_ROUTE=OX2$/AJP_JVM_ROUTE=OX3/' {ajp} && grep -q OX3 {ajp}",
        f"sed -i 's/^AJP_JVM_ROUTE=OX3$/AJP_JVM_ROUTE=OX2/' {ajp}",
    ):
        failed = failed_lines(standin_target, "groupware")
    assert len(failed) == 1, failed
    assert failed[0].startswith("FAIL groupware: oxgw02: jkroute = route: its route is OX3 but ")
    assert "route=OX2" in failed[0]


def test_the_guides_literal_soap_block_fails_the_lock_down_check(
    standin_cluster: StandinCluster, standin_target: Target
) -> None:
    """The guide's <Location> as written lets path parameters through: verify says which."""
    web = standin_cluster.nodes["web"]
    conf = "/etc/apache2/oxlab/proxy_ajp.conf"
    original = read_file(web, conf)
    assert original and b"<LocationMatch" in original
    lines = original.decode().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("<LocationMatch"))
    lines[start] = "<Location /servlet/axis2/services>"
    guide = "\n".join(lines).replace("</LocationMatch>", "</Location>") + "\n"
    put_file(web, conf, guide.encode())
    try:
        sh(web, "apache2ctl graceful")
        failed = poll(
            lambda: failed_lines(standin_target, "web") or None,
            timeout=20,
            what="Apache to serve the guide's literal block",
        )
    finally:
        put_file(web, conf, original)
        sh(web, "apache2ctl graceful")
    assert len(failed) == 1 and "FAIL web: web: SOAP API locked: not denied" in failed[0]
    assert "/servlet/axis2/services;x" in failed[0], failed[0]
    poll(
        lambda: not failed_lines(standin_target, "web"),
        timeout=20,
        what="the lock-down back",
    )


def test_a_filestore_with_the_wrong_owner_fails_the_guides_file_test(
    standin_cluster: StandinCluster, standin_target: Target
) -> None:
    with broken(
        standin_cluster.nodes["filestore"],
        "chown 1002:1002 /var/opt/filestore",
        "chown 1001:1001 /var/opt/filestore",
    ):
        failed = failed_lines(standin_target, "filestore")
    assert any(
        line.startswith("FAIL filestore: filestore: owner = open-xchange: /var/opt/filestore")
        and "owned by 1002:1002, open-xchange is 1001:1001 on oxgw01" in line
        for line in failed
    ), failed
    assert any("touch as open-xchange on oxgw01 failed" in line for line in failed), failed


def lab_verify(inventory: Path, credentials: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "lab.cli",
            "verify",
            "--inventory",
            str(inventory),
            "--credentials",
            str(credentials),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_lab_verify_prints_a_table_per_section_that_fits_the_terminal(
    standin_cluster: StandinCluster,
) -> None:
    done = lab_verify(standin_cluster.inventory, standin_cluster.credentials)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert all(len(line) <= 100 for line in lines), "fits 100 columns"
    for section in ("galera", "dblb", "consistency", "filestore", "groupware", "web"):
        assert section in lines, f"a {section} table"
    assert "FAIL" not in done.stdout and " checks passed in " in lines[-1]


def inventory_copy(cluster: StandinCluster, tmp_path: Path, old: str, new: str) -> Path:
    text = cluster.inventory.read_text()
    assert old in text, f"{old!r} in the stand-in inventory"
    path = tmp_path / "inventory.ini"
    path.write_text(text.replace(old, new, 1))
    return path


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == "", "nothing verified, so nothing touched"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lab: error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def test_a_host_key_not_known_is_one_line(standin_cluster: StandinCluster, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    inventory = inventory_copy(
        standin_cluster, tmp_path, str(standin_cluster.known_hosts), str(empty)
    )
    line = one_error_line(lab_verify(inventory, standin_cluster.credentials))
    assert "galera1 (" in line and "host key not known" in line, line


def test_an_unreachable_host_is_one_line(standin_cluster: StandinCluster, tmp_path: Path) -> None:
    web_line = next(
        line
        for line in standin_cluster.inventory.read_text().splitlines()
        if line.startswith("web ")
    )
    inventory = inventory_copy(
        standin_cluster, tmp_path, web_line, "web ansible_host=127.0.0.1 ansible_port=1"
    )
    line = one_error_line(lab_verify(inventory, standin_cluster.credentials))
    assert "web (127.0.0.1, ssh): unreachable: SSH connection refused" in line, line


def test_sudo_not_available_is_one_line(standin_cluster: StandinCluster) -> None:
    with broken(
        standin_cluster.nodes["dblb"],
        "mv /etc/sudoers.d/ops /root/ops.sudoers",
        "mv /root/ops.sudoers /etc/sudoers.d/ops",
    ):
        done = lab_verify(standin_cluster.inventory, standin_cluster.credentials)
    line = one_error_line(done)
    assert "dblb (" in line and "sudo needed" in line and "not available" in line, line
