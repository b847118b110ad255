"""The one place that reads testcontainers' private state.

testcontainers (4.x) keeps a container spec's `docker run` arguments, the files it
copies in, and a Network's docker-py object in attributes without public accessors.
The lab needs them to adopt a compose project's containers and network, to render the
compose file from the same specs, and to read the network's addresses. Should a
testcontainers release rename them, this module is what changes."""

from __future__ import annotations

from typing import Any

from docker.models.networks import Network as DockerNetwork
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from lab.infra.errors import StartupError


def spec_kwargs(spec: DockerContainer) -> dict[str, Any]:
    """The spec's extra `docker run` arguments (hostname, labels, cap_add, …)."""
    return dict(spec._kwargs)


def spec_service(spec: DockerContainer) -> str:
    """The node's name in the topology: its hostname, which is the compose service."""
    return str(spec_kwargs(spec)["hostname"])


def spec_files(spec: DockerContainer) -> list[tuple[bytes | Any, str]]:
    """(source, destination) of what the spec copies into its container."""
    return [(t[0], t[1]) for t in spec._transferable_specs]


def docker_network(network: Network) -> DockerNetwork:
    """The created network's docker-py object, reloaded (its IPAM as Docker has it)."""
    net = network._network
    if net is None:
        raise StartupError(f"network {network.name} was never created")
    net.reload()
    return net


def adopted_network(existing: DockerNetwork) -> Network:
    """A testcontainers Network for a network someone else created (compose's)."""
    network = Network()
    network.name = str(existing.name)
    network._network = existing
    return network
