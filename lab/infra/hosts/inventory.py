"""The operator's hosts by guide role, from the inventory they already keep: an Ansible
inventory (INI or YAML) whose groups are named after the lab's roles. Ansible's own
parser reads it (`ansible-inventory --list`), so host ranges, children groups, group
and host variables mean what they mean to the operator's playbooks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.infra.errors import ConfigError

# The inventory groups the lab understands, each a role of the guide.
ROLE_GROUPS = {
    "web": "Apache front end (the guide's web)",
    "groupware": "OX groupware nodes (oxgw01, oxgw02)",
    "galera": "Galera database nodes (galera1..3)",
    "dbmaster": "GTID replication master",
    "dbslave": "GTID replication slave",
    "dblb": "HAProxy in front of the databases",
    "filestore": "NFS server of /var/opt/filestore",
}
# One machine cannot be two database roles at once.
DATABASE_ROLES = ("galera", "dbmaster", "dbslave")
# What each database layout needs besides its database groups (dblb: the guide's
# Galera layout balances through HAProxy; its GTID layout registers master and slave).
REQUIRED = {
    "galera": ("web", "groupware", "galera", "dblb", "filestore"),
    "gtid": ("web", "groupware", "dbmaster", "dbslave", "filestore"),
}


@dataclass(frozen=True)
class InventoryHost:
    """One machine: its inventory name, where SSH reaches it, and its variables."""

    name: str
    role: str
    address: str
    variables: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Inventory:
    path: Path
    layout: str  # "galera" or "gtid"
    hosts: tuple[InventoryHost, ...]

    def role(self, role: str) -> list[InventoryHost]:
        return [h for h in self.hosts if h.role == role]

    def host(self, name: str) -> InventoryHost:
        for host in self.hosts:
            if host.name == name:
                return host
        raise ConfigError(f"{self.path}: no host {name!r}; hosts: {self.names()}")

    def names(self) -> str:
        return ", ".join(h.name for h in self.hosts)

    @property
    def databases(self) -> list[InventoryHost]:
        return [h for h in self.hosts if h.role in DATABASE_ROLES]


def ansible_inventory_command() -> str:
    """ansible-inventory beside this interpreter (the lab's venv), else on PATH."""
    beside = Path(sys.executable).parent / "ansible-inventory"
    found = str(beside) if beside.exists() else shutil.which("ansible-inventory")
    if not found:
        raise ConfigError(
            "ansible-inventory not found: install ansible-core (pip) to read inventories"
        )
    return found


def read_ansible_inventory(path: Path) -> dict[str, Any]:
    """`ansible-inventory --list` of the file: groups, hosts and their variables."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such inventory file")
    env = {**os.environ, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true", "ANSIBLE_VERBOSITY": "0"}
    result = subprocess.run(
        [ansible_inventory_command(), "-i", str(path), "--list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    if result.returncode != 0:
        raise ConfigError(
            f"{path}: not an Ansible inventory Ansible can read: {ansible_reason(result.stderr)}"
        )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def ansible_reason(stderr: str) -> str:
    """The line of Ansible's complaint that says what is wrong."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("Failed to parse inventory:") or "Expected key=value" in line:
            return line
    for line in lines:
        if line.startswith(("[ERROR]", "ERROR")):
            return line.split(":", 1)[-1].strip()
    return lines[-1] if lines else "no reason given"


def group_hosts(data: dict[str, Any], group: str) -> list[str]:
    """The group's hosts, its children's included (Ansible's meaning of a group)."""
    entry = data.get(group, {})
    found = list(entry.get("hosts", []))
    for child in entry.get("children", []):
        found += [h for h in group_hosts(data, child) if h not in found]
    return found


def load_inventory(path: Path) -> Inventory:
    """The inventory checked against the guide's roles: every role of the layout
    present, no machine in two database roles or two layouts (ConfigError, one line)."""
    path = Path(path)
    data = read_ansible_inventory(path)
    hostvars: dict[str, dict[str, Any]] = data.get("_meta", {}).get("hostvars", {})
    roles_of: dict[str, list[str]] = {}
    for role in ROLE_GROUPS:
        for host in group_hosts(data, role):
            roles_of.setdefault(host, []).append(role)
    for host, roles in roles_of.items():
        databases = [r for r in roles if r in DATABASE_ROLES]
        if len(databases) > 1:
            raise ConfigError(
                f"{path}: host {host} is in groups {' and '.join(databases)}; a machine "
                "holds one database role"
            )
    has = {role for roles in roles_of.values() for role in roles}
    if "galera" in has and has & {"dbmaster", "dbslave"}:
        raise ConfigError(
            f"{path}: groups galera and dbmaster/dbslave both have hosts; the guide's "
            "database is either a Galera cluster or GTID master/slave"
        )
    layout = "galera" if "galera" in has else "gtid"
    missing = [r for r in REQUIRED[layout] if r not in has]
    if missing:
        needed = ", ".join(f"[{r}] ({ROLE_GROUPS[r]})" for r in missing)
        raise ConfigError(f"{path}: no hosts in {needed}; the guide's {layout} layout needs them")
    hosts = []
    for role in ROLE_GROUPS:
        for name in group_hosts(data, role):
            variables = hostvars.get(name, {})
            address = str(variables.get("ansible_host", name))
            hosts.append(InventoryHost(name, role, address, variables))
    return Inventory(path, layout, tuple(hosts))
