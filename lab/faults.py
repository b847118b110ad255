"""Faults the tests inject (the nemesis). Each is a context manager that heals on exit,
also when the test body fails, so a session-scoped cluster survives a failing test."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from lab.galera import GaleraNode
from lab.nodes import Node

DRAIN_FILE = "/var/tmp/clustercheck.disabled"  # clustercheck's CLUSTERCHECK_DRAIN_FILE


def _must(node: Node, cmd: list[str]) -> None:
    result = node.exec(cmd)
    if result.exit_code != 0:
        raise RuntimeError(f"{node.name}: {' '.join(cmd)} failed: {result.output.strip()}")


@contextmanager
def desynced(node: GaleraNode) -> Iterator[None]:
    """SET GLOBAL wsrep_desync=ON: the node reports Donor/Desynced (state 2), as during SST."""
    node.sql("SET GLOBAL wsrep_desync=ON")
    try:
        yield
    finally:
        node.sql("SET GLOBAL wsrep_desync=OFF")


@contextmanager
def drained(node: Node) -> Iterator[None]:
    """The maintenance switch: clustercheck's drain file makes the node answer 503."""
    _must(node, ["touch", DRAIN_FILE])
    try:
        yield
    finally:
        _must(node, ["rm", "-f", DRAIN_FILE])


@contextmanager
def isolated(node: Node, peers: Sequence[Node]) -> Iterator[None]:
    """Cut `node` off from `peers` both ways with iptables inside `node` (no netem, no
    host firewall needed); clients such as HAProxy still reach it, as in a real split."""
    addresses = [peer.ip for peer in peers]
    try:
        for address in addresses:
            _must(node, ["iptables", "-I", "INPUT", "-s", address, "-j", "DROP"])
            _must(node, ["iptables", "-I", "OUTPUT", "-d", address, "-j", "DROP"])
        yield
    finally:
        # the lab owns every rule in its containers, so flushing heals exactly this fault
        _must(node, ["iptables", "-F", "INPUT"])
        _must(node, ["iptables", "-F", "OUTPUT"])


@contextmanager
def rejected(node: Node, clients: Sequence[Node], port: int) -> Iterator[None]:
    """`node` refuses `clients` on `port` with a TCP reset, at once (unlike a silent
    partition): new connections are refused and established ones are reset."""
    addresses = [client.ip for client in clients]
    try:
        for address in addresses:
            _must(
                node,
                [
                    "iptables",
                    "-I",
                    "INPUT",
                    "-p",
                    "tcp",
                    "--dport",
                    str(port),
                    "-s",
                    address,
                    "-j",
                    "REJECT",
                    "--reject-with",
                    "tcp-reset",
                ],
            )
        yield
    finally:
        _must(node, ["iptables", "-F", "INPUT"])


@contextmanager
def frozen_server(node: Node, process: str = "lab-mysqld") -> Iterator[None]:
    """SIGSTOP the database server inside the node (the container and its other
    processes, such as clustercheck, keep running): a hung mysqld."""
    _must(node, ["pkill", "-STOP", "-x", process])
    try:
        yield
    finally:
        _must(node, ["pkill", "-CONT", "-x", process])
