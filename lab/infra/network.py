"""The lab's own bridge network: made and labelled for a run, its subnet, its gateway
(the Docker host as the containers see it) and the MySQL host mask that admits the
lab's hosts and nothing else."""

from __future__ import annotations

import ipaddress

from testcontainers.core.network import Network

from lab.infra.docker_env import RunIdentity
from lab.infra.testcontainers_adapter import docker_network


def gateway(network: Network) -> str:
    """The network's gateway: the Docker host as the lab's containers see it."""
    net = docker_network(network)
    return str(net.attrs["IPAM"]["Config"][0].get("Gateway", "127.0.0.1"))


def create_network(run: RunIdentity) -> Network:
    """The lab's own bridge network, labelled like its containers."""
    network = Network(docker_network_kw={"labels": run.labels()})
    network.name = run.resource_name("net")
    return network.create()


def network_subnet(network: Network) -> str:
    """The lab network's subnet as Docker assigned it ('172.18.0.0/16')."""
    return str(docker_network(network).attrs["IPAM"]["Config"][0]["Subnet"])


def mysql_host_mask(network: Network) -> str:
    """The lab network as a MySQL host pattern ('172.18.0.0/255.255.0.0'): the OX user
    may connect from the lab's own hosts (and the Docker host's gateway), nowhere else."""
    subnet = ipaddress.ip_network(network_subnet(network))
    return f"{subnet.network_address}/{subnet.netmask}"
