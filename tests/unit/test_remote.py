"""One way to reach a machine: a lab container and an SSH host are both a Remote, and a
fault's command goes through the one `must` whichever it is."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import pytest

from lab.chaos.nemesis.faults import FaultError, freeze_command, must, thaw_command
from lab.infra.hosts.remote import Host
from lab.infra.nodes import ExecResult, Node
from lab.infra.remote import Remote

VERBS = [n for n, v in vars(Remote).items() if callable(v) and not n.startswith("_")]


@pytest.mark.parametrize("machine", [Node, Host], ids=["container", "ssh-host"])
def test_a_container_and_an_ssh_host_speak_the_same_verbs(machine: type) -> None:
    assert sorted(VERBS) == ["put_file", "read_text", "sh", "spawn"]
    for verb in VERBS:
        ours = [p for p in inspect.signature(getattr(Remote, verb)).parameters if p != "self"]
        theirs = list(inspect.signature(getattr(machine, verb)).parameters)[1:]
        assert theirs[: len(ours)] == ours, f"{machine.__name__}.{verb}{theirs} vs {ours}"


@dataclass
class Recorded:
    """A testinfra backend that records the command lines an SSH host runs."""

    answer: tuple[int, str] = (0, "")
    lines: list[str] = field(default_factory=list)

    def run(self, line: str) -> Any:
        self.lines.append(line)
        rc, out = self.answer
        return type("Result", (), {"rc": rc, "stdout": out, "stderr": ""})()


def host(backend: Recorded, root: bool = False) -> Host:
    return Host("galera1", "galera", "10.0.0.1", backend, root=root)  # type: ignore[arg-type]


def test_an_ssh_host_runs_as_root_through_sudo_unless_it_logs_in_as_root() -> None:
    backend = Recorded()
    host(backend).sh("pkill -STOP -x 'mariadbd'")
    host(backend, root=True).sh("true")
    assert backend.lines[0].startswith("sudo -n timeout 30 sh -c "), backend.lines[0]
    assert backend.lines[1].startswith("timeout 30 sh -c "), "a root login needs no sudo"


def test_a_file_put_on_an_ssh_host_arrives_byte_for_byte() -> None:
    backend = Recorded()
    data = b"[mysqld]\nwsrep_on = ON\n\xff'quote\n"
    host(backend, root=True).put_file("/etc/mysql/x.cnf", data)
    import base64

    encoded = base64.b64encode(data).decode()
    assert encoded in backend.lines[0] and "base64 -d > /etc/mysql/x.cnf" in backend.lines[0]


def test_a_failed_fault_command_names_the_machine_and_the_command() -> None:
    class Refusing:
        name = "galera2"

        def sh(self, command: str, timeout_s: int = 30) -> ExecResult:
            return ExecResult(1, "iptables: Permission denied (you must be root)\n")

    with pytest.raises(FaultError) as raised:
        must(Refusing(), "iptables -F")  # type: ignore[arg-type]
    assert str(raised.value) == (
        "galera2: `iptables -F` failed: iptables: Permission denied (you must be root)"
    )


def test_freeze_and_thaw_match_the_whole_process_name_only() -> None:
    assert freeze_command("mariadbd") == "pkill -STOP -x 'mariadbd'"
    assert thaw_command("mariadbd") == "pkill -CONT -x 'mariadbd'"
