"""One exception family for the lab, so the CLI and the pytest plugin can report any
lab failure as one readable line while library errors are translated at the boundary."""

from collections.abc import Iterable, Mapping
from typing import TypeVar

T = TypeVar("T")
N = TypeVar("N")


class LabError(Exception):
    """Base of every error the lab raises on purpose; its message is meant for a user."""


class ConfigError(LabError):
    """Bad input (unknown flavour, topology or profile): found before Docker is touched."""


def lookup(table: Mapping[str, T], name: str, kind: str) -> T:
    """table[name], or a ConfigError that names what was asked and lists what is known."""
    try:
        return table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise ConfigError(f"unknown {kind} {name!r}; known: {known}") from None


class UnknownNode(LabError):
    """A cluster was asked for a node it does not have (the same error in every kind
    of cluster: Galera, the groupware nodes)."""


def find_node(nodes: Iterable[N], name: str, cluster: str) -> N:
    """The node called `name`, or UnknownNode naming the cluster's nodes."""
    nodes = list(nodes)
    for node in nodes:
        if getattr(node, "name", None) == name:
            return node
    known = ", ".join(str(getattr(n, "name", n)) for n in nodes)
    raise UnknownNode(f"{cluster} has no node {name!r}; its nodes: {known}")


class DockerUnavailable(LabError):
    """The Docker engine cannot be reached or is too old."""


class FlavourUnavailable(LabError):
    """A flavour this host cannot run (registry-only image, no registry): a skip, not a failure."""


class ImageError(LabError):
    """An image is missing, or building it (or its base) failed."""


class StartupError(LabError):
    """A container or service did not become ready; the message names the cause."""


class ClusterFormationError(StartupError):
    """A Galera node failed to bootstrap or join; carries the relevant log excerpt."""

    def __init__(self, node: str, reason: str, excerpt: str = "") -> None:
        self.node = node
        self.reason = reason
        self.excerpt = excerpt
        super().__init__(f"{node}: {reason}")
