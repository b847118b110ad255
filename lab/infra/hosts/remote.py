"""One machine a check runs a command on, reads a file from or queries a service of,
whatever it is: an SSH host of the operator's staging cluster or a container of a lab.
pytest-testinfra's backends do the transport (its `ssh` backend drives OpenSSH, so the
operator's ~/.ssh/config, agent, known_hosts and ProxyJump apply as they do for
Ansible; its `docker` backend runs `docker exec`); the checks only see `Host`.

testinfra and not paramiko or an Ansible runner: testinfra is made for exactly this
(verifying hosts with the same code over several transports), reuses the operator's
OpenSSH setup instead of re-implementing it, and runs a command in one SSH round trip
over a persistent control connection (an Ansible module call costs about a second)."""

from __future__ import annotations

import atexit
import base64
import functools
import shlex
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import testinfra
import testinfra.host

from lab.infra.errors import LabError
from lab.infra.hosts.inventory import InventoryHost
from lab.infra.nodes import ExecResult

CONNECT_TIMEOUT_S = 5
# One control connection per host and process (OpenSSH multiplexing): a check's command
# costs one round trip, not one SSH handshake. Per process, because a reused master
# connection skips the host key check a new run with other known_hosts must make; it
# ends 15 s after its last use.
CONTROL_PERSIST_S = 15


@functools.cache
def control_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="oxlab-ssh-"))
    atexit.register(shutil.rmtree, path, True)
    return path


class HostError(LabError):
    """A host cannot be reached or used as the check needs (names host and reason)."""


@dataclass
class Host:
    """A machine of one guide role, reached through a testinfra backend."""

    name: str
    role: str
    address: str  # where the control node reaches its services (MySQL, HTTP, 9200)
    backend: testinfra.host.Host = field(repr=False)
    via: str = "ssh"  # "ssh" or "docker"
    root: bool = False  # the login is root: no sudo needed
    variables: dict[str, Any] = field(default_factory=dict, repr=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.address}, {self.via})"

    def run(self, command: str, sudo: bool = False, timeout_s: int = 30) -> ExecResult:
        """A shell command line; with sudo as root (`sudo -n`: never a password prompt).
        Bounded by `timeout` on the host, so a frozen service cannot hang the check."""
        line = f"timeout {timeout_s} sh -c {shlex.quote(command)}"
        if sudo and not self.root:
            line = f"sudo -n {line}"
        try:
            result = self.backend.run(line)
        except RuntimeError as exc:  # testinfra: ssh itself failed (exit 255)
            raise HostError(f"{self}: {ssh_reason(str(exc))}") from None
        return ExecResult(result.rc, result.stdout + result.stderr)

    def output(self, command: str, sudo: bool = False, timeout_s: int = 30) -> str:
        """stdout of a command that must succeed (HostError naming it otherwise)."""
        result = self.run(command, sudo, timeout_s)
        if result.exit_code != 0:
            raise HostError(f"{self}: `{command}` failed: {result.output.strip()[-300:]}")
        return result.output

    def sh(self, command: str, timeout_s: int = 30) -> ExecResult:
        """A shell command line as root (the Remote verb: sudo unless the login is root)."""
        return self.run(command, sudo=True, timeout_s=timeout_s)

    def spawn(self, command: str) -> None:
        """A shell command line left running on the host, detached from the SSH session."""
        self.output(f"nohup sh -c {shlex.quote(command)} >/dev/null 2>&1 &", sudo=True)

    def put_file(self, path: str, data: bytes) -> None:
        """Write one file as root (its bytes travel base64-encoded in the command line)."""
        encoded = base64.b64encode(data).decode("ascii")
        self.output(f"echo {encoded} | base64 -d > {shlex.quote(path)}", sudo=True)

    def read_text(self, path: str, sudo: bool = True) -> str | None:
        """A file's text (None: no such file)."""
        result = self.run(f"cat {shlex.quote(path)}", sudo)
        if result.exit_code != 0:
            if "No such file" in result.output:
                return None
            raise HostError(f"{self}: cannot read {path}: {result.output.strip()[-200:]}")
        return result.output

    def sql(self, statement: str, timeout_s: int = 30) -> str:
        """SQL as the operator runs it on a database host: `mysql -e` as root, with the
        credentials in /root/.my.cnf (the guide's advice), tab-separated rows."""
        result = self.run(
            f"mysql -N -B -e {shlex.quote(statement)}", sudo=True, timeout_s=timeout_s
        )
        if result.exit_code != 0:
            raise HostError(f"{self}: mysql: {result.output.strip()[-300:]}")
        return result.output

    def preflight(self) -> None:
        """Reachable, and root through sudo without a password (HostError otherwise):
        checked for every host before any check runs, so nothing is half done."""
        self.output("true")
        if self.root:
            return
        result = self.run("true", sudo=True)
        if result.exit_code != 0:
            said = result.output.strip().splitlines() or ["sudo -n true failed"]
            raise HostError(
                f"{self}: sudo needed (root reads the service's files and sockets) but not "
                f"available: {said[-1]}"
            )


def ssh_reason(message: str) -> str:
    """OpenSSH's complaint as a person says it."""
    text = message.lower()
    if "host key verification failed" in text or "no host key is known" in text:
        return (
            "host key not known; add it to known_hosts (ssh-keyscan, or the inventory's "
            "UserKnownHostsFile)"
        )
    if "remote host identification has changed" in text:
        return "host key changed since it was recorded in known_hosts"
    if "permission denied" in text:
        return "SSH login refused (permission denied): check the key in your agent or ~/.ssh/config"
    for phrase, said in (
        ("connection refused", "unreachable: SSH connection refused"),
        ("timed out", "unreachable: SSH connection timed out"),
        ("no route to host", "unreachable: no route to host"),
        ("could not resolve hostname", "unreachable: name does not resolve"),
        ("network is unreachable", "unreachable: network unreachable"),
    ):
        if phrase in text:
            return said
    stderr = message.split("stderr=", 1)[-1].strip(" '\")\n")
    return f"SSH failed: {stderr[-200:]}"


def ssh_host(entry: InventoryHost) -> Host:
    """An inventory host over SSH: ansible_host, ansible_user, ansible_port,
    ansible_ssh_private_key_file and ansible_ssh_common_args/extra_args as Ansible reads
    them; BatchMode (no prompt can hang a run) and strict host key checking always."""
    v = entry.variables
    user = v.get("ansible_user")
    port = v.get("ansible_port")
    spec = f"ssh://{f'{user}@' if user else ''}{entry.address}{f':{port}' if port else ''}"
    extra = " ".join(
        str(v.get(key, "")) for key in ("ansible_ssh_common_args", "ansible_ssh_extra_args")
    ).strip()
    extra += " -o BatchMode=yes -o StrictHostKeyChecking=yes"
    key = v.get("ansible_ssh_private_key_file") or v.get("ansible_private_key_file")
    backend = testinfra.get_host(
        spec,
        ssh_identity_file=str(key) if key else None,
        ssh_extra_args=extra,
        timeout=CONNECT_TIMEOUT_S,
        controlpath=str(control_dir() / "%%C"),  # testinfra %-formats its command line
        controlpersist=CONTROL_PERSIST_S,
    )
    return Host(entry.name, entry.role, entry.address, backend, "ssh", user == "root", dict(v))


def docker_host(
    name: str, role: str, container: str, address: str, variables: dict[str, Any] | None = None
) -> Host:
    """A lab container as a host (docker exec as root): the same checks as over SSH."""
    backend = testinfra.get_host(f"docker://{container}")
    return Host(name, role, address, backend, "docker", True, variables or {})
