"""Stand-in hosts: a lab brought up from its role images' stand-in variants (an SSH
server beside each service, lab/images/standin/), then handed over the way a staging
cluster is handed to an operator: a login user with a key and sudo on every machine,
its host keys in a known_hosts file, an Ansible inventory by guide role and a
credentials file. From then on only the inventory path is used: SSH and the services'
own ports, nothing of Docker.

The provisioning (user, key, sudoers) is done through Docker, as cloud-init would do it
on a real machine before anyone logs in."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from lab.infra.errors import StartupError
from lab.infra.hosts.credentials import write_credentials
from lab.infra.nodes import Node, read_file
from lab.infra.waiting import poll
from lab.roles.system import Lab
from lab.roles.web.front_end import CA_FILE
from lab.verify.target import LAB_ROLES, target_from_lab

LOGIN = "ops"
HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"


@dataclass(frozen=True)
class StandinCluster:
    """What an operator would hold for their staging cluster."""

    inventory: Path
    credentials: Path
    known_hosts: Path
    key: Path
    nodes: dict[str, Node]  # for tests that break a stand-in on purpose (through Docker)


def provision(lab: Lab, directory: Path, sudo: bool = True) -> StandinCluster:
    """Log-in user `ops` with a fresh key (and passwordless sudo unless `sudo` is
    False) on every role container of a stand-in lab; the operator's files in
    `directory`."""
    assert lab.run is not None and lab.run.standin, "a lab started with standin_hosts"
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / "id_ed25519"
    if not key.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "oxlab-standin", "-f", str(key)],
            check=True,
        )
    public = (directory / "id_ed25519.pub").read_text().strip()
    nodes = {n.name: n for n in lab.nodes() if _role(n.name)}
    known = []
    for node in nodes.values():
        _add_login(node, public, sudo)
        host_key = poll(partial(_host_key, node), timeout=30, what=f"{node.name}'s SSH host key")
        known.append(f"{node.ip} {host_key}")
    known_hosts = directory / "known_hosts"
    known_hosts.write_text("\n".join(known) + "\n")
    ca = directory / "ca.pem"  # the front end's certificate is the run CA's
    ca.write_bytes(read_file(nodes["web"], CA_FILE) or b"")
    inventory = directory / "inventory.ini"
    inventory.write_text(render_inventory(lab, nodes, key, known_hosts, ca))
    credentials = write_credentials(directory / "credentials.cnf", target_from_lab(lab).credentials)
    return StandinCluster(inventory, credentials, known_hosts, key, nodes)


def _role(name: str) -> str | None:
    return next((r for p, r in LAB_ROLES.items() if name.startswith(p)), None)


def _add_login(node: Node, public_key: str, sudo: bool) -> None:
    script = "\n".join(
        [
            f"id {LOGIN} >/dev/null 2>&1 || useradd -m -s /bin/sh {LOGIN}",
            f"usermod -p '*' {LOGIN}",  # no password, but not locked (key logins work)
            f"mkdir -p /home/{LOGIN}/.ssh",
            f"echo {shlex.quote(public_key)} > /home/{LOGIN}/.ssh/authorized_keys",
            f"chown -R {LOGIN}: /home/{LOGIN}/.ssh && chmod 700 /home/{LOGIN}/.ssh",
            f"echo '{LOGIN} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{LOGIN}"
            if sudo
            else f"rm -f /etc/sudoers.d/{LOGIN}",
        ]
    )
    result = node.exec(["sh", "-c", script])
    if result.exit_code != 0:
        raise StartupError(f"{node.name}: provisioning the stand-in login failed: {result.output}")


def _host_key(node: Node) -> str | None:
    result = node.exec(["cat", HOST_KEY])
    return " ".join(result.output.split()[:2]) if result.exit_code == 0 else None


def render_inventory(
    lab: Lab, nodes: dict[str, Node], key: Path, known_hosts: Path, ca: Path
) -> str:
    """An Ansible INI inventory of the stand-ins, grouped by guide role."""
    assert lab.run is not None
    lines = [f"# stand-in hosts of lab {lab.run.lab_name} (run {lab.run.run_id})"]
    by_role: dict[str, list[Node]] = {}
    for node in nodes.values():
        by_role.setdefault(_role(node.name) or "", []).append(node)
    for role, members in by_role.items():
        lines.append(f"[{role}]")
        lines += [f"{n.name} ansible_host={n.ip}" for n in sorted(members, key=lambda n: n.name)]
    lines += ["[web:vars]", f"oxlab_ca_file={ca}"]
    lines += [
        "[all:vars]",
        # no systemd in a container: the stand-in's service manager (lab-service)
        "oxlab_kill_service='lab-service kill'",
        "oxlab_stop_service='lab-service stop'",
        "oxlab_start_service='lab-service start'",
        f"ansible_user={LOGIN}",
        "ansible_become=true",
        f"ansible_ssh_private_key_file={key}",
        f"ansible_ssh_common_args='-o UserKnownHostsFile={known_hosts} -o IdentitiesOnly=yes'",
        "",
    ]
    return "\n".join(lines)
