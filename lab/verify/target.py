"""What `lab verify` checks: the cluster's hosts by guide role, and what its client
checks log in with. Made from an Ansible inventory (SSH hosts) or from a running lab
(its containers through the docker backend), so both are verified by the same code."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lab.infra.docker_env import LABEL_RUN
from lab.infra.hosts.credentials import Credentials, load_credentials
from lab.infra.hosts.inventory import load_inventory
from lab.infra.hosts.remote import Host, HostError, docker_host, ssh_host
from lab.infra.nodes import Node
from lab.roles.db.node import OX_DB_PASSWORD, OX_DB_USER
from lab.roles.groupware.cluster import USER
from lab.roles.system import Lab

# lab node name prefix -> inventory group, for a lab's own containers
LAB_ROLES = {
    "web": "web",
    "oxgw": "groupware",
    "galera": "galera",
    "dbmaster": "dbmaster",
    "dbslave": "dbslave",
    "dblb": "dblb",
    "filestore": "filestore",
}


@dataclass
class Target:
    source: str  # the inventory file, or the lab's name
    layout: str  # "galera" or "gtid"
    hosts: list[Host]
    credentials: Credentials

    def role(self, role: str) -> list[Host]:
        return [h for h in self.hosts if h.role == role]

    @property
    def databases(self) -> list[Host]:
        return self.role("galera") or self.role("dbmaster") + self.role("dbslave")

    def preflight(self) -> None:
        """Every host reachable and root available, checked in parallel before any check
        runs: one line per host that is not (HostError), nothing touched."""
        unique = {h.name: h for h in self.hosts}
        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = list(pool.map(_problem, unique.values()))
        problems = [p for p in outcomes if p]
        if problems:
            raise HostError("; ".join(problems))


def _problem(host: Host) -> str | None:
    try:
        host.preflight()
    except HostError as exc:
        return str(exc)
    return None


def target_from_inventory(inventory: Path, credentials: Path) -> Target:
    """The operator's staging cluster: hosts over SSH, logins from the credentials file."""
    inv = load_inventory(inventory)
    creds = load_credentials(credentials)
    return Target(str(inventory), inv.layout, [ssh_host(h) for h in inv.hosts], creds)


def target_from_lab(lab: Lab) -> Target:
    """A running lab as hosts: its containers through testinfra's docker backend, the
    lab's own test user and OX database user."""
    assert lab.client is not None and lab.run is not None
    containers = lab.client.containers.list(filters={"label": f"{LABEL_RUN}={lab.run.run_id}"})
    hosts = []
    for node in sorted((Node(c) for c in containers), key=lambda n: n.name):
        role = next((r for p, r in LAB_ROLES.items() if node.name.startswith(p)), None)
        if role:
            ca = {"oxlab_ca_file": lab.run.ca_file(lab.client)} if role == "web" else {}
            hosts.append(docker_host(node.name, role, node.container.name, node.ip, ca))
    # a lab of the database roles only is checked on the sections it has (verify says
    # which it could not check); an operator's inventory must hold the whole guide
    layout = "galera" if any(h.role == "galera" for h in hosts) else "gtid"
    creds = Credentials(OX_DB_USER, OX_DB_PASSWORD, USER["name"], USER["password"])
    return Target(f"lab {lab.options.name}", layout, hosts, creds)
